"""Post-mortems over real HTTP: started on demand and on resolve, drafted from the incident,
written, reviewed and published, with each step on the incident's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from haetae.clock import clock
from tests.api.helpers import declare, error_code, move
from tests.support.people import add_user, api_token

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday; KST 09:00


@pytest.fixture
def people(db, server):
    with db.session() as session:
        for name, role in (
            ("alice", "responder"),
            ("bob", "responder"),
            ("carol", "responder"),
            ("vera", "viewer"),
        ):
            add_user(session, name, role=role)
    clients = {
        name: httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {api_token(server.url, name)}"},
            timeout=30,
        )
        for name in ("alice", "bob", "carol", "vera")
    }
    yield clients
    for client in clients.values():
        client.close()


def _at(minutes: float) -> None:
    clock.freeze(T0 + timedelta(minutes=minutes))


def _scripted_p1(api: httpx.Client) -> str:
    """A P1 that began 4 minutes before it was detected, with an IC, a decision and an update,
    resolved 90 minutes after it began."""
    _at(10)
    inc = declare(
        api,
        title="Payments API returns 500",
        summary="Card payments fail for every user",
        severity="P1",
        severity_reason="all payments down",
        started_at=(T0 + timedelta(minutes=6)).isoformat(),
        impact={"users": 12000, "regions": ["kr"]},
    )["id"]
    _at(12)
    assert api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "alice"}).is_success
    assert api.post(f"/api/v1/incidents/{inc}/acknowledge").is_success
    _at(20)
    r = api.post(
        f"/api/v1/incidents/{inc}/decisions",
        json={
            "kind": "technical",
            "decision": "Roll back release 42",
            "alternatives": ["hotfix"],
            "reason": "fastest safe path",
        },
    )
    assert r.status_code == 201, r.text
    _at(25)
    r = api.post(f"/api/v1/incidents/{inc}/updates", json={"situation": "Rolling back"})
    assert r.status_code == 201, r.text
    api.post(f"/api/v1/incidents/{inc}/notes", json={"body": "a note, not a key event"})
    for to, minute in (("investigating", 30), ("monitoring", 60)):
        _at(minute)
        assert move(api, inc, to).status_code == 200
    _at(96)
    for cond in api.get(f"/api/v1/incidents/{inc}/conditions").json():
        if cond["kind"] == "manual" and not cond.get("met"):
            api.post(f"/api/v1/incidents/{inc}/conditions/{cond['id']}", json={})
    r = move(api, inc, "resolved")
    assert r.status_code == 200, r.text
    return inc


def test_a_resolved_p1_gets_a_drafted_postmortem_by_itself(api):
    inc = _scripted_p1(api)
    r = api.get(f"/api/v1/postmortems/{inc}")
    assert r.status_code == 200, r.text
    pm = r.json()
    assert pm["status"] == "draft"
    assert pm["started_by"] == "system"
    assert pm["author"] == "alice"  # the IC, when the system starts it
    basic = pm["basic"]
    assert basic["incident_id"] == inc
    assert basic["title"] == "Payments API returns 500"
    assert basic["occurred"] == "2026-06-01T00:06:00Z"
    assert basic["detected_at"] == "2026-06-01T00:10:00Z"
    assert basic["recovered"] == "2026-06-01T01:36:00Z"
    assert basic["total_outage_minutes"] == 90.0
    assert basic["severity"] == "P1"
    assert basic["ic"] == "alice"
    assert basic["date"] == "2026-06-01"
    assert basic["impact"]["users"] == 12000
    assert "Users affected: 12000" in pm["impact"]
    assert pm["summary"].startswith("Card payments fail for every user")
    assert pm["summary"].endswith("Fixed by the responders")  # the resolution summary
    assert pm["durations"] == {
        "time_to_detect": 4.0,
        "time_to_acknowledge": 2.0,
        "time_to_mitigate": 54.0,  # monitoring at minute 60
        "time_to_resolve": 90.0,
        # P1's recovery target is 1h from the start: resolved 30 minutes past it.
        "minutes_past_target": 30,
        "recovery_due": "2026-06-01T01:06:00Z",
    }
    assert [d["decision"] for d in pm["decisions"]] == ["Roll back release 42"]
    assert [u["situation"] for u in pm["updates"]] == ["Rolling back"]
    assert [(r["role"], r["assignee"]) for r in pm["roles"]] == [("ic", "alice")]
    # The key events are preselected; the note is on the timeline but not selected.
    texts = [e["text"] for e in pm["key_events"]]
    assert texts[0].startswith("Declared")
    assert any("alice" in t for t in texts)  # the IC's assignment
    assert "Rolling back" in texts
    assert texts[-1].startswith("monitoring -> resolved")
    selected = {e["kind"]: e["selected"] for e in pm["timeline"]}
    assert selected["note"] is False and selected["decision"] is True
    # Deadlines count from the resolution (default policy: draft 24h, published 48h).
    due = {d["id"]: (d["due"], d["state"]) for d in pm["deadlines"]}
    assert due["draft"] == ("2026-06-02T01:36:00Z", "pending")
    assert due["published"] == ("2026-06-03T01:36:00Z", "pending")
    assert [s["id"] for s in pm["sections"]][:3] == ["basic", "summary", "timeline"]
    kinds = [e["kind"] for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()]
    assert kinds[-1] == "postmortem_started"


def test_a_p3_gets_none_by_itself_but_one_on_demand_and_a_second_start_is_refused(api):
    clock.freeze(T0)
    inc = declare(api, severity="P3", severity_reason="one region")["id"]
    assert move(api, inc, "investigating").status_code == 200
    for cond in api.get(f"/api/v1/incidents/{inc}/conditions").json():
        if cond["kind"] == "manual":
            api.post(f"/api/v1/incidents/{inc}/conditions/{cond['id']}", json={})
    assert move(api, inc, "resolved").status_code == 200
    r = api.get(f"/api/v1/postmortems/{inc}")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")
    r = api.post("/api/v1/postmortems", json={"incident_id": inc})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/v1/postmortems/{inc}"
    r = api.post("/api/v1/postmortems", json={"incident_id": inc})
    assert (r.status_code, error_code(r)) == (409, "POSTMORTEM_EXISTS")
    listed = api.get("/api/v1/postmortems", params={"status": "draft"}).json()
    assert [p["incident_id"] for p in listed["items"]] == [inc]


def test_a_canceled_incident_gets_no_postmortem(api):
    inc = declare(api)["id"]
    assert move(api, inc, "canceled", reason="false alarm").status_code == 200
    r = api.post("/api/v1/postmortems", json={"incident_id": inc})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")


def test_a_postmortem_started_before_resolution_counts_its_deadlines_from_it(api):
    clock.freeze(T0)
    inc = declare(api, severity="P3", severity_reason="one region")["id"]
    r = api.post("/api/v1/postmortems", json={"incident_id": inc})
    assert r.status_code == 201
    assert {d["id"]: d["due"] for d in r.json()["deadlines"]}["draft"] == "2026-06-02T00:00:00Z"
    _at(120)
    assert move(api, inc, "investigating").status_code == 200
    for cond in api.get(f"/api/v1/incidents/{inc}/conditions").json():
        if cond["kind"] == "manual":
            api.post(f"/api/v1/incidents/{inc}/conditions/{cond['id']}", json={})
    assert move(api, inc, "resolved").status_code == 200
    pm = api.get(f"/api/v1/postmortems/{inc}").json()
    assert {d["id"]: d["due"] for d in pm["deadlines"]}["draft"] == "2026-06-02T02:00:00Z"


def test_five_whys_key_events_and_custom_fields_are_kept_as_written(api):
    inc = _scripted_p1(api)
    pm = api.get(f"/api/v1/postmortems/{inc}").json()
    note = next(e for e in pm["timeline"] if e["kind"] == "note")
    first = pm["key_events"][0]
    whys = [f"why {n}" for n in (1, 2, 3, 4, 5)]
    r = api.patch(
        f"/api/v1/postmortems/{inc}",
        json={
            "whys": whys,
            "root_cause": "A config flag flipped in release 42",
            "contributing_factors": ["no canary"],
            "went_well": ["fast rollback"],
            "went_wrong": ["alert came late"],
            "lucky": ["low traffic hour"],
            "lessons": "Canary every release",
            "key_events": [
                {"at": "2026-06-01T00:05:00Z", "text": "Release 42 deployed", "note": "cause"},
                {"event_id": note["event_id"], "note": "picked by hand"},
                {"event_id": first["event_id"]},
            ],
        },
    )
    assert r.status_code == 200, r.text
    pm = r.json()
    assert pm["whys"] == whys
    assert pm["root_cause"] == "A config flag flipped in release 42"
    assert pm["key_events"][0]["text"] == "Release 42 deployed"
    assert pm["key_events"][0]["event_id"] is None
    assert [e["event_id"] for e in pm["key_events"][1:]] == [first["event_id"], note["event_id"]]
    assert next(e for e in pm["timeline"] if e["kind"] == "note")["selected"] is True
    # A new order of the chain replaces it; eleven whys are refused.
    r = api.patch(f"/api/v1/postmortems/{inc}", json={"whys": list(reversed(whys))})
    assert r.json()["whys"] == list(reversed(whys))
    r = api.patch(f"/api/v1/postmortems/{inc}", json={"whys": ["w"] * 11})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {"whys": "not a list"},
        {"caused_by": "alice"},  # blameless: no such field
        {"custom": {"summary": "built-in sections are fields of their own"}},
        {"key_events": [{"note": "neither a pick nor a row"}]},
        {"key_events": [{"event_id": 999999}]},
        {"author": "nobody-by-that-name"},
        {"title": None},
        {"meeting_at": "not a time"},
    ],
)
def test_bad_edits_are_refused_with_422(api, body):
    clock.freeze(T0)
    inc = declare(api)["id"]
    assert api.post("/api/v1/postmortems", json={"incident_id": inc}).status_code == 201
    r = api.patch(f"/api/v1/postmortems/{inc}", json=body)
    assert r.status_code == 422, r.text
    assert error_code(r) in ("VALIDATION_ERROR", "UNKNOWN_USER")


def test_measures_become_action_items_with_due_dates_by_term(api, people):
    clock.freeze(T0)  # KST 2026-06-01 09:00
    inc = declare(api, severity="P2", severity_reason="slow")["id"]
    assert api.post("/api/v1/postmortems", json={"incident_id": inc}).status_code == 201
    made = []
    for term in ("short", "mid", "long"):
        r = api.post(
            f"/api/v1/postmortems/{inc}/measures",
            json={"title": f"{term} fix", "term": term, "owner": "bob", "priority": "high"},
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    assert [m["due_date"] for m in made] == ["2026-06-08", "2026-07-01", "2026-08-30"]
    assert all(m["code"].startswith("AI-") for m in made)
    assert made[0]["class_of_service"] == "expedite"  # a P2's follow-up
    assert made[0]["term"] == "short" and made[0]["owner"] == "bob"
    r = api.post(
        f"/api/v1/postmortems/{inc}/measures",
        json={
            "title": "renew cert",
            "term": "mid",
            "due_date": "2026-06-20",
            "class_of_service": "fixed_date",
        },
    )
    assert r.json()["due_date"] == "2026-06-20"
    pm = api.get(f"/api/v1/postmortems/{inc}").json()
    assert [m["title"] for m in pm["measures"]] == [
        "short fix",
        "mid fix",
        "long fix",
        "renew cert",
    ]
    r = api.post(f"/api/v1/postmortems/{inc}/measures", json={"title": "x", "owner": "ghost"})
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_USER")
    r = api.post(f"/api/v1/postmortems/{inc}/measures", json={"title": "x", "term": "forever"})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")


def test_review_round_trip_to_published_with_each_step_on_the_timeline(api, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    clock.freeze(T0)
    inc = declare(api, severity="P3", severity_reason="one region")["id"]
    r = alice.post("/api/v1/postmortems", json={"incident_id": inc})
    assert r.status_code == 201 and r.json()["author"] == "alice"
    r = alice.post(f"/api/v1/postmortems/{inc}/publish")
    assert (r.status_code, error_code(r)) == (409, "APPROVAL_REQUIRED")
    _at(60)
    r = alice.post(f"/api/v1/postmortems/{inc}/submit", json={"reviewers": ["bob"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review"
    assert r.json()["submitted_at"] == "2026-06-01T01:00:00Z"
    assert {d["id"]: d["state"] for d in r.json()["deadlines"]}["draft"] == "met"
    # The author cannot approve their own; someone not asked cannot review.
    r = alice.post(f"/api/v1/postmortems/{inc}/reviews", json={"verdict": "approved"})
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    r = carol.post(f"/api/v1/postmortems/{inc}/reviews", json={"verdict": "approved"})
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    r = alice.post(f"/api/v1/postmortems/{inc}/publish")
    assert (r.status_code, error_code(r)) == (409, "APPROVAL_REQUIRED")
    r = bob.post(
        f"/api/v1/postmortems/{inc}/reviews",
        json={"verdict": "changes_requested", "comment": "add the 5 whys"},
    )
    assert r.status_code == 200 and r.json()["status"] == "draft"
    assert alice.patch(f"/api/v1/postmortems/{inc}", json={"whys": ["a", "b"]}).is_success
    assert alice.post(f"/api/v1/postmortems/{inc}/submit", json={}).json()["status"] == "in_review"
    r = bob.post(f"/api/v1/postmortems/{inc}/reviews", json={"verdict": "approved"})
    assert r.json()["approvals"] == 1
    r = alice.post(f"/api/v1/postmortems/{inc}/publish")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["published_by"]) == ("published", "alice")
    r = alice.patch(f"/api/v1/postmortems/{inc}", json={"lessons": "too late"})
    assert (r.status_code, error_code(r)) == (409, "POSTMORTEM_STATE")
    r = alice.post(f"/api/v1/postmortems/{inc}/publish")
    assert (r.status_code, error_code(r)) == (409, "POSTMORTEM_STATE")
    # The meeting may come after publication; held meets its deadline.
    r = alice.post(f"/api/v1/postmortems/{inc}/meeting", json={"held": True})
    assert r.status_code == 200 and r.json()["meeting_held_at"] == "2026-06-01T01:00:00Z"
    kinds = [
        e["kind"]
        for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()
        if e["kind"].startswith("postmortem_")
    ]
    assert kinds == [
        "postmortem_started",
        "postmortem_submitted",
        "postmortem_reviewed",
        "postmortem_edited",
        "postmortem_submitted",
        "postmortem_reviewed",
        "postmortem_published",
        "postmortem_meeting",
    ]
    assert api.get("/api/v1/postmortems", params={"status": "published"}).json()["items"]


def test_a_viewer_reads_but_cannot_write(api, people):
    vera = people["vera"]
    inc = declare(api)["id"]
    r = vera.post("/api/v1/postmortems", json={"incident_id": inc})
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    assert api.post("/api/v1/postmortems", json={"incident_id": inc}).status_code == 201
    assert vera.get(f"/api/v1/postmortems/{inc}").status_code == 200
    for method, path, body in (
        ("PATCH", "", {"lessons": "x"}),
        ("POST", "/measures", {"title": "x"}),
        ("POST", "/submit", {}),
        ("POST", "/publish", None),
        ("POST", "/meeting", {"held": True}),
    ):
        r = vera.request(method, f"/api/v1/postmortems/{inc}{path}", json=body)
        assert (r.status_code, error_code(r)) == (403, "FORBIDDEN"), path


def test_the_list_pages_with_a_cursor_and_refuses_a_bad_one(api):
    clock.freeze(T0)
    made = []
    for n in range(5):
        _at(n)
        inc = declare(api, title=f"incident {n}")["id"]
        assert api.post("/api/v1/postmortems", json={"incident_id": inc}).status_code == 201
        made.append(inc)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/postmortems", params=params).json()
        seen += [p["incident_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
    r = api.get("/api/v1/postmortems", params={"cursor": "garbage!"})
    assert (r.status_code, error_code(r)) == (422, "INVALID_QUERY")
    r = api.get("/api/v1/postmortems", params={"status": "lost"})
    assert (r.status_code, error_code(r)) == (422, "INVALID_QUERY")
