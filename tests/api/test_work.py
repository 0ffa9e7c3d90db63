"""Working an incident: roles, status updates and cadence, notes, decisions, edits."""

from __future__ import annotations

from datetime import UTC, datetime

from haetae.clock import clock
from tests.api.helpers import declare, error_code

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def test_roles_are_assigned_and_handed_over_with_history(api):
    clock.freeze(T0)
    inc = declare(api)["id"]
    api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "minji"})
    api.put(f"/api/v1/incidents/{inc}/roles/comms_lead", json={"assignee": "jun"})
    clock.freeze(T0.replace(hour=3))
    r = api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "seo"})
    assert r.status_code == 200
    assert api.get(f"/api/v1/incidents/{inc}").json()["roles"] == {"ic": "seo", "comms_lead": "jun"}
    history = api.get(f"/api/v1/incidents/{inc}/roles").json()
    ic = [h for h in history if h["role"] == "ic"]
    assert [(h["assignee"], h["ended_at"]) for h in ic] == [
        ("minji", "2026-06-01T03:00:00Z"),
        ("seo", None),
    ]
    handover = [
        e
        for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()
        if e["kind"] == "role_handed_over"
    ]
    assert handover[0]["data"] == {"role": "ic", "assignee": "seo", "previous": "minji"}
    assert api.delete(f"/api/v1/incidents/{inc}/roles/comms_lead").status_code == 204
    assert api.get(f"/api/v1/incidents/{inc}").json()["roles"] == {"ic": "seo"}
    r = api.put(f"/api/v1/incidents/{inc}/roles/janitor", json={"assignee": "x"})
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_ROLE")


def test_the_policy_lists_each_roles_responsibilities(api):
    roles = {r["id"]: r for r in api.get("/api/v1/policy").json()["roles"]}
    assert roles["comms_lead"]["name"] == {"en": "Communication Lead", "ko": "커뮤니케이션 담당"}
    assert roles["comms_lead"]["description"]["ko"] == (
        "내부/외부 공지, 이해관계자 커뮤니케이션, 타임라인 기록"
    )
    assert roles["tech_lead"]["description"]["en"] == (
        "Directs the root-cause analysis, makes technical decisions, oversees the actions taken"
    )


def test_p1_updates_are_due_every_five_minutes_and_flagged_when_late(api):
    clock.freeze(T0)
    inc = declare(api)  # P1: 5-minute war-room cadence (seed 001, 4.3)
    assert inc["next_update_due"] == "2026-06-01T00:05:00Z"
    clock.freeze(T0.replace(minute=6))
    assert api.get(f"/api/v1/incidents/{inc['id']}").json()["update_overdue"] is True
    r = api.post(
        f"/api/v1/incidents/{inc['id']}/updates",
        json={
            "situation": "결제 API 502",
            "impact": "전체 결제 불가",
            "progress": "롤백 중",
            "eta": "15분",
        },
    )
    assert r.status_code == 201
    assert r.json()["next_update_at"] == "2026-06-01T00:11:00Z"
    body = api.get(f"/api/v1/incidents/{inc['id']}").json()
    assert (body["update_overdue"], body["next_update_due"]) == (False, "2026-06-01T00:11:00Z")
    # Promising the next update sooner is fine; later than the cadence is capped.
    r = api.post(
        f"/api/v1/incidents/{inc['id']}/updates",
        json={"situation": "still rolling back", "next_update_at": "2026-06-01T00:08:00Z"},
    )
    assert r.json()["next_update_at"] == "2026-06-01T00:08:00Z"
    r = api.post(
        f"/api/v1/incidents/{inc['id']}/updates",
        json={"situation": "still rolling back", "next_update_at": "2026-06-01T05:00:00Z"},
    )
    assert r.json()["next_update_at"] == "2026-06-01T00:11:00Z"
    updates = api.get(f"/api/v1/incidents/{inc['id']}/updates").json()
    assert len(updates) == 3 and updates[-1]["situation"] == "결제 API 502"


def test_p3_has_no_cadence_and_a_next_business_day_recovery_target(api):
    clock.freeze(datetime(2026, 6, 5, 7, 0, tzinfo=UTC))  # Friday 16:00 in Seoul
    inc = declare(api, business_impact="revenue", user_impact="few")
    assert inc["severity"] == "P3"
    assert inc["next_update_due"] is None
    assert inc["response_due_at"] == "2026-06-05T09:00:00Z"  # 2 h
    assert inc["recovery_due_at"] == "2026-06-08T00:00:00Z"  # Monday 09:00 KST


def test_notes_evidence_and_decisions_land_on_the_timeline(api):
    inc = declare(api)["id"]
    assert (
        api.post(f"/api/v1/incidents/{inc}/notes", json={"body": "DB CPU at 100%"}).status_code
        == 201
    )
    r = api.post(
        f"/api/v1/incidents/{inc}/notes",
        json={"kind": "evidence", "body": "graph", "url": "https://grafana.example.com/d/x"},
    )
    assert r.status_code == 201
    r = api.post(f"/api/v1/incidents/{inc}/notes", json={"kind": "evidence", "body": "no link"})
    assert r.status_code == 422
    r = api.post(
        f"/api/v1/incidents/{inc}/decisions",
        json={
            "kind": "technical",
            "decision": "Roll back 2026.11.3",
            "alternatives": ["Hotfix", "Scale out"],
            "reason": "errors began with the release",
        },
    )
    assert r.status_code == 201
    r = api.post(
        f"/api/v1/incidents/{inc}/decisions",
        json={"kind": "political", "decision": "x", "reason": "y"},
    )
    assert r.status_code == 422
    notes = api.get(f"/api/v1/incidents/{inc}/notes").json()
    assert [n["kind"] for n in notes] == ["note", "evidence"]
    decisions = api.get(f"/api/v1/incidents/{inc}/decisions").json()
    assert decisions[0]["alternatives"] == ["Hotfix", "Scale out"]
    kinds = [e["kind"] for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()]
    assert kinds == ["declared", "escalation_started", "note", "evidence", "decision"]


def test_changing_impact_reclassifies_and_explicit_severity_needs_a_reason(api):
    inc = declare(api, business_impact="operations", user_impact="some")  # P3
    r = api.patch(f"/api/v1/incidents/{inc['id']}", json={"user_impact": "all"})
    assert r.json()["severity"] == "P1"
    r = api.patch(f"/api/v1/incidents/{inc['id']}", json={"severity": "P2"})
    assert r.status_code == 422
    r = api.patch(
        f"/api/v1/incidents/{inc['id']}",
        json={"severity": "P2", "severity_reason": "workaround exists"},
    )
    body = r.json()
    assert (body["severity"], body["severity_source"]) == ("P2", "explicit")
    kinds = [
        (e["kind"], e["data"].get("to"))
        for e in api.get(f"/api/v1/incidents/{inc['id']}/timeline").json()
    ]
    assert ("severity_changed", "P1") in kinds and ("severity_changed", "P2") in kinds


def test_explicit_severity_can_be_handed_back_to_the_matrix(api):
    inc = declare(api, business_impact="operations", user_impact="some")  # P3
    url = f"/api/v1/incidents/{inc['id']}"
    r = api.patch(url, json={"severity": "P3", "severity_reason": "confirmed by the IC"})
    assert (r.json()["severity"], r.json()["severity_source"]) == ("P3", "explicit")
    r = api.patch(url, json={"severity_from_matrix": True, "user_impact": "all"})
    body = r.json()
    assert (body["severity"], body["severity_source"], body["severity_reason"]) == (
        "P1",
        "matrix",
        None,
    )
    events = [e for e in api.get(f"{url}/timeline").json() if e["kind"] == "severity_changed"]
    assert [(e["data"]["to"], e["data"]["source"]) for e in events] == [
        ("P3", "explicit"),
        ("P1", "matrix"),
    ]
    r = api.patch(
        url, json={"severity": "P2", "severity_reason": "x", "severity_from_matrix": True}
    )
    assert r.status_code == 422


def test_a_closed_incident_cannot_be_edited(api):
    inc = declare(api, severity="P4", severity_reason="cosmetic")["id"]
    api.post(f"/api/v1/incidents/{inc}/transitions", json={"to": "resolved", "summary": "fixed"})
    api.post(f"/api/v1/incidents/{inc}/transitions", json={"to": "closed"})
    r = api.patch(f"/api/v1/incidents/{inc}", json={"title": "rewritten history"})
    assert (r.status_code, error_code(r)) == (409, "INVALID_TRANSITION")
    assert api.get(f"/api/v1/incidents/{inc}").json()["title"] == "Checkout returns 502"


def test_timeline_exports_as_markdown_and_csv_in_the_readers_language(api):
    clock.freeze(T0)
    inc = declare(api, title="Payments | checkout down")["id"]
    api.post(f"/api/v1/incidents/{inc}/notes", json={"body": "DB CPU 100%\nsecond line"})
    clock.freeze(T0.replace(minute=30))
    api.post(f"/api/v1/incidents/{inc}/transitions", json={"to": "investigating"})
    r = api.get(f"/api/v1/incidents/{inc}/timeline/export")
    assert r.headers["content-type"].startswith("text/markdown")
    assert f'filename="{inc}-timeline.md"' in r.headers["content-disposition"]
    md = r.text
    assert md.startswith(f"# {inc} Payments \\| checkout down")
    assert "- **Severity**: P1 (Critical)" in md
    assert "- **Started**: 2026-06-01 09:00 KST" in md
    assert "| 2026-06-01 09:00 KST | Note | admin | DB CPU 100%<br>second line |" in md
    assert md.count("\n| 2026-06-01") == 5  # with escalation started and stopped
    ko = api.get(f"/api/v1/incidents/{inc}/timeline/export", params={"lang": "ko"}).text
    assert "| 시간 | 활동 | 담당자 | 세부사항 |" in ko
    r = api.get(f"/api/v1/incidents/{inc}/timeline/export", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "Time,Activity,Actor,Details"
    assert lines[1].startswith("2026-06-01 09:00 KST,Declared,admin,")
    assert (
        api.get(f"/api/v1/incidents/{inc}/timeline/export", params={"format": "pdf"}).status_code
        == 422
    )
