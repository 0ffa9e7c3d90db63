"""The on-call API over HTTP: schedules, who is on call, shifts, overrides, hand-offs, iCal."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar

from haetae.clock import clock
from haetae.people.models import Service, Team
from tests.api.helpers import error_code
from tests.oncall.conftest import MADE, WEEKLY, seoul
from tests.support.people import api_token

SPEC = {
    "id": "ops",
    "name": "Ops on-call",
    "time_zone": "Asia/Seoul",
    "rotations": [
        WEEKLY,
        {
            "name": "backup",
            "layer": "secondary",
            "type": "weekly",
            "handoff": "2026-03-02T09:00",
            "participants": ["carol"],
        },
    ],
}


def q(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def people(api: httpx.Client) -> None:
    for name in ("alice", "bob", "carol"):
        body = {"username": name, "password": f"{name}-password", "role": "responder"}
        assert api.post("/api/v1/users", json=body).status_code == 201
    body = {"username": "vera", "password": "vera-password", "role": "viewer"}
    assert api.post("/api/v1/users", json=body).status_code == 201


def signed_in(server, username: str) -> httpx.Client:
    token = api_token(server.url, username, f"{username}-password")
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture
def ops(api: httpx.Client, people: None) -> dict:
    created = api.post("/api/v1/schedules", json=SPEC)
    assert created.status_code == 201, created.text
    return created.json()


def test_a_schedule_is_created_read_replaced_and_deleted_from_its_spec(api, ops):
    assert ops["layers"] == ["primary", "secondary"] and ops["ical_feed"] is False
    assert {k: ops[k] for k in SPEC if k != "rotations"} == {
        k: SPEC[k] for k in SPEC if k != "rotations"
    }
    again = api.post("/api/v1/schedules", json=SPEC)
    assert (again.status_code, error_code(again)) == (409, "CONFLICT")

    replaced = api.put("/api/v1/schedules/ops", json={**SPEC, "rotations": SPEC["rotations"][:1]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["layers"] == ["primary"]
    assert api.get("/api/v1/schedules/ops").json() == replaced.json()
    assert [s["id"] for s in api.get("/api/v1/schedules").json()] == ["ops"]

    mismatch = api.put("/api/v1/schedules/ops", json={**SPEC, "id": "other"})
    assert (mismatch.status_code, error_code(mismatch)) == (422, "VALIDATION_ERROR")
    assert api.delete("/api/v1/schedules/ops").status_code == 204
    gone = api.get("/api/v1/schedules/ops")
    assert (gone.status_code, error_code(gone)) == (404, "NOT_FOUND")


def test_a_spec_with_an_unknown_person_or_zone_is_refused_with_its_field(api, people):
    rotation = {**SPEC["rotations"][0], "participants": ["alice", "nobody"]}
    refused = api.post("/api/v1/schedules", json={**SPEC, "rotations": [rotation]})
    assert (refused.status_code, error_code(refused)) == (422, "UNKNOWN_USER")
    assert refused.json()["error"]["details"]["field"] == "rotations.0.participants.1"
    zone = api.post("/api/v1/schedules", json={**SPEC, "time_zone": "Mars/Olympus"})
    assert (zone.status_code, error_code(zone)) == (422, "VALIDATION_ERROR")
    team = api.post("/api/v1/schedules", json={**SPEC, "team": "ghosts"})
    assert (team.status_code, error_code(team)) == (422, "UNKNOWN_TEAM")


def test_who_is_on_call_per_layer_with_until_when(api, ops):
    answer = api.get("/api/v1/oncall", params={"schedule": "ops", "at": q(seoul(2026, 3, 10, 12))})
    assert answer.status_code == 200, answer.text
    layers = {a["layer"]: a for a in answer.json()}
    assert [u["username"] for u in layers["primary"]["users"]] == ["bob"]
    assert layers["primary"]["since"] == "2026-03-09T00:00:00Z"
    assert layers["primary"]["until"] == "2026-03-16T00:00:00Z"
    assert [u["username"] for u in layers["secondary"]["users"]] == ["carol"]
    assert layers["secondary"]["until"] is None  # carol alone: no end in sight

    clock.freeze(seoul(2026, 3, 3, 12))  # the server's "now"
    now = {a["layer"]: a for a in api.get("/api/v1/oncall").json()}
    assert [u["username"] for u in now["primary"]["users"]] == ["alice"]


def test_who_is_on_call_for_a_team_or_a_service(api, ops, db):
    with db.session() as session:
        team = Team(slug="platform", name="Platform", created_at=MADE)
        session.add(team)
        session.flush()
        session.add(
            Service(slug="payments", name="Payments", schedule_id=ops_id(session), created_at=MADE)
        )
        session.add(Service(slug="lonely", name="Lonely", created_at=MADE))
    assert api.put("/api/v1/schedules/ops", json={**SPEC, "team": "platform"}).status_code == 200
    at = q(seoul(2026, 3, 3, 12))
    by_team = api.get("/api/v1/oncall", params={"team": "platform", "at": at}).json()
    by_service = api.get("/api/v1/oncall", params={"service": "payments", "at": at}).json()
    assert by_team == by_service and {a["schedule"] for a in by_team} == {"ops"}
    assert api.get("/api/v1/oncall", params={"service": "lonely"}).json() == []
    missing = api.get("/api/v1/oncall", params={"team": "ghosts"})
    assert (missing.status_code, error_code(missing)) == (404, "NOT_FOUND")


def ops_id(session) -> int:
    from haetae.oncall.service import schedule_by_slug

    found = schedule_by_slug(session, "ops")
    assert found is not None
    return found.id


def test_shifts_and_overrides_over_http(api, ops):
    window = {"start": q(seoul(2026, 3, 2, 9)), "end": q(seoul(2026, 3, 16, 9)), "layer": "primary"}
    before = api.get("/api/v1/schedules/ops/shifts", params=window).json()
    assert [(s["user"], s["rotation"]) for s in before] == [("alice", "weekly"), ("bob", "weekly")]

    body = {
        "user": "carol",
        "replaces": "bob",
        "start": q(seoul(2026, 3, 1, 9)),
        "end": q(seoul(2026, 3, 10, 9)),
        "note": "bob is on leave",
    }
    made = api.post("/api/v1/schedules/ops/overrides", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "admin" and made.json()["replaces"] == "bob"
    after = api.get("/api/v1/schedules/ops/shifts", params=window).json()
    assert [(s["user"], s["source"]) for s in after] == [
        ("alice", "rotation"),
        ("carol", "override"),  # only bob's part of the override's period
        ("bob", "rotation"),
    ]
    assert after[1]["start"] == "2026-03-09T00:00:00Z" and after[1]["end"] == "2026-03-10T00:00:00Z"
    assert [o["id"] for o in api.get("/api/v1/schedules/ops/overrides").json()] == [
        made.json()["id"]
    ]

    backwards = api.post("/api/v1/schedules/ops/overrides", json={**body, "end": body["start"]})
    assert (backwards.status_code, error_code(backwards)) == (422, "VALIDATION_ERROR")
    stranger = api.post("/api/v1/schedules/ops/overrides", json={**body, "user": "zed"})
    assert (stranger.status_code, error_code(stranger)) == (422, "UNKNOWN_USER")

    assert api.delete(f"/api/v1/schedules/ops/overrides/{made.json()['id']}").status_code == 204
    assert api.get("/api/v1/schedules/ops/shifts", params=window).json() == before
    again = api.delete(f"/api/v1/schedules/ops/overrides/{made.json()['id']}")
    assert (again.status_code, error_code(again)) == (404, "NOT_FOUND")
    too_long = api.get(
        "/api/v1/schedules/ops/shifts",
        params={"start": q(seoul(2026, 1, 1)), "end": q(seoul(2027, 6, 1))},
    )
    assert (too_long.status_code, error_code(too_long)) == (422, "VALIDATION_ERROR")


def test_a_viewer_reads_but_cannot_change_schedules(server, anon, ops):
    with signed_in(server, "vera") as vera:
        assert vera.get("/api/v1/schedules/ops").status_code == 200
        assert vera.get("/api/v1/oncall").status_code == 200
        refused = vera.put("/api/v1/schedules/ops", json=SPEC)
        assert (refused.status_code, error_code(refused)) == (403, "FORBIDDEN")
    nobody = anon.get("/api/v1/oncall")
    assert (nobody.status_code, error_code(nobody)) == (401, "UNAUTHORIZED")


def test_a_hand_off_note_records_the_policys_checklist_and_who_handed_over(server, ops):
    clock.freeze(seoul(2026, 3, 9, 10))  # bob took over from alice at 09:00
    with signed_in(server, "bob") as bob:
        written = bob.post(
            "/api/v1/schedules/ops/handoffs",
            json={
                "checklist": {"open_incidents": True, "changes": True},
                "body": "DB failover done",
            },
        )
        assert written.status_code == 201, written.text
        note = written.json()
        assert (note["from_user"], note["to_user"], note["author"]) == ("alice", "bob", "bob")
        assert note["shift_start"] == "2026-03-09T00:00:00Z"
        assert {c["id"]: c["done"] for c in note["checklist"]} == {
            "open_incidents": True,
            "ongoing_alerts": False,
            "changes": True,
            "followups": False,
        }
        assert note["checklist"][0]["text"] == "Open incidents and their state handed over"
        assert bob.get("/api/v1/schedules/ops/handoffs").json() == [note]
        unknown = bob.post("/api/v1/schedules/ops/handoffs", json={"checklist": {"coffee": True}})
        assert (unknown.status_code, error_code(unknown)) == (422, "VALIDATION_ERROR")
        assert unknown.json()["error"]["details"]["field"] == "checklist.coffee"


def _events(feed: bytes) -> list[tuple[str, datetime, datetime, str]]:
    return [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"), str(e["uid"]))
        for e in Calendar.from_ical(feed).walk("VEVENT")
    ]


def test_the_schedule_feed_has_the_shifts_including_the_one_in_progress(api, anon, ops):
    clock.freeze(seoul(2026, 3, 12, 15))  # in bob's week, 03-09 .. 03-16
    issued = api.post("/api/v1/schedules/ops/ical-token")
    assert issued.status_code == 200, issued.text
    url = urlsplit(issued.json()["url"])
    assert url.path == "/ical/schedules/ops.ics"
    feed = anon.get(f"{url.path}?{url.query}")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = _events(feed.content)
    primary = sorted((s, start, end) for s, start, end, _ in events if "(primary)" in s)
    assert primary[0] == ("alice on call (primary)", seoul(2026, 3, 2, 9), seoul(2026, 3, 9, 9))
    assert ("bob on call (primary)", seoul(2026, 3, 9, 9), seoul(2026, 3, 16, 9)) in primary
    assert max(end for _, _, end in primary) >= seoul(2026, 5, 11)  # 60 days ahead
    # In UTC ("...Z"), so no VTIMEZONE is needed.
    starts = [line for line in feed.text.splitlines() if line.startswith("DTSTART")]
    assert len(starts) == len(events) and all(line.endswith("Z") for line in starts)
    assert "VTIMEZONE" not in feed.text and "DTSTAMP:20260312T060000Z" in feed.text
    # Fetched again later: the same UIDs for the same shifts.
    clock.advance(hours=2)
    assert {e[3] for e in _events(anon.get(f"{url.path}?{url.query}").content)} >= {
        e[3] for e in events if e[1] >= seoul(2026, 3, 9, 9) and e[2] <= seoul(2026, 5, 1)
    }

    wrong = anon.get(url.path, params={"token": "guess"})
    assert (wrong.status_code, error_code(wrong)) == (404, "NOT_FOUND")
    assert anon.get(url.path).status_code == 404
    api.post("/api/v1/schedules/ops/ical-token")  # rotating the token retires the old URL
    assert anon.get(f"{url.path}?{url.query}").status_code == 404


def test_a_person_makes_their_own_feed_of_their_shifts_on_every_schedule(server, api, anon, ops):
    clock.freeze(seoul(2026, 3, 12, 15))
    with signed_in(server, "bob") as bob:
        refused = bob.post("/api/v1/users/alice/ical-token")
        assert (refused.status_code, error_code(refused)) == (403, "FORBIDDEN")
        issued = bob.post("/api/v1/users/bob/ical-token")
        assert issued.status_code == 200, issued.text
    url = urlsplit(issued.json()["url"])
    events = _events(anon.get(f"{url.path}?{url.query}").content)
    assert events and all(s == "On call: Ops on-call (primary)" for s, _, _, _ in events)
    assert (seoul(2026, 3, 9, 9), seoul(2026, 3, 16, 9)) in [(s, e) for _, s, e, _ in events]
    assert api.post("/api/v1/users/nobody/ical-token").status_code == 404
    assert (
        anon.get("/ical/users/alice.ics", params={"token": url.query.split("=", 1)[1]}).status_code
        == 404
    )


def test_times_before_the_hand_off_reach_back_through_the_week(api, ops):
    at = seoul(2026, 3, 2, 9) - timedelta(microseconds=1)
    layers = {
        a["layer"]: a
        for a in api.get("/api/v1/oncall", params={"schedule": "ops", "at": q(at)}).json()
    }
    assert [u["username"] for u in layers["primary"]["users"]] == ["bob"]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/api/v1/oncall", {"params": {"at": "9999-12-31T23:59:59"}}),
        ("GET", "/api/v1/schedules/ops/shifts", {"params": {"start": "0001-01-01T00:00:00"}}),
        (
            "POST",
            "/api/v1/schedules/ops/overrides",
            {
                "json": {
                    "user": "bob",
                    "start": "0001-01-01T00:00+09:00",
                    "end": "0001-01-02T00:00+09:00",
                }
            },
        ),
        (
            "PUT",
            "/api/v1/schedules/ops",
            {
                "json": {
                    **SPEC,
                    "rotations": [{**SPEC["rotations"][0], "handoff": "0001-01-01T00:00"}],
                }
            },
        ),
    ],
)
def test_times_out_of_range_are_refused_not_overflowed(api, ops, method, path, payload):
    answer = api.request(method, path, **payload)
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR"), answer.text
