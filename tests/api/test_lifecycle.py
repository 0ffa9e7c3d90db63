"""The lifecycle: transitions, timestamps, resolution conditions, the timeline."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from haetae.clock import clock
from tests.api.helpers import declare, error_code, move

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def _confirm_all(api, incident_id):
    for cond in api.get(f"/api/v1/incidents/{incident_id}/conditions").json():
        if cond["kind"] == "manual":
            r = api.post(f"/api/v1/incidents/{incident_id}/conditions/{cond['id']}", json={})
            assert r.status_code == 200, r.text


def test_full_lifecycle_sets_each_timestamp_and_records_the_timeline(api):
    clock.freeze(T0)
    inc = declare(
        api,
        severity="P3",
        severity_reason="one region only",
        business_impact="operations",
        user_impact="few",
    )["id"]
    steps = [("investigating", 5), ("identified", 10), ("monitoring", 20)]
    for to, minute in steps:
        clock.freeze(T0.replace(minute=minute))
        r = move(api, inc, to, reason=f"now {to}")
        assert r.status_code == 200, r.text
    clock.freeze(T0.replace(minute=50))
    api.post(f"/api/v1/incidents/{inc}/conditions/core_functions_verified", json={"note": "ok"})
    assert move(api, inc, "resolved").status_code == 200
    clock.freeze(T0.replace(hour=2))
    body = move(api, inc, "closed").json()
    assert body["status"] == "closed"
    assert body["acknowledged_at"] == "2026-06-01T00:05:00Z"
    assert body["mitigated_at"] == "2026-06-01T00:20:00Z"
    assert body["resolved_at"] == "2026-06-01T00:50:00Z"
    assert body["closed_at"] == "2026-06-01T02:00:00Z"
    assert body["next_update_due"] is None

    events = api.get(f"/api/v1/incidents/{inc}/timeline").json()
    kinds = [e["kind"] for e in events]
    assert kinds == [
        "declared",
        "escalation_started",
        "status_changed",
        "escalation_stopped",  # leaving triage acknowledges: the paging stops
        "status_changed",
        "status_changed",
        "condition_checked",
        "status_changed",
        "escalation_stopped",  # resolved: seed 001's matrix stops too
        "status_changed",
    ]
    assert {e["actor"] for e in events if not e["kind"].startswith("escalation")} == {"admin"}
    assert events[2]["data"] == {
        "from": "triage",
        "to": "investigating",
        "reason": "now investigating",
    }
    assert events[-1]["at"] == "2026-06-01T02:00:00Z"


@pytest.mark.parametrize(
    ("path", "to"),
    [([], "closed"), (["canceled"], "investigating"), (["investigating"], "triage")],
)
def test_invalid_moves_are_refused_with_409(api, path, to):
    inc = declare(api, severity="P4", severity_reason="cosmetic")["id"]
    for step in path:
        assert move(api, inc, step).status_code == 200
    r = move(api, inc, to)
    assert (r.status_code, error_code(r)) == (409, "INVALID_TRANSITION")
    assert "allowed" in r.json()["error"]["details"]
    assert api.get(f"/api/v1/incidents/{inc}").json()["status"] == (path[-1] if path else "triage")


def test_unknown_status_is_a_validation_error(api):
    inc = declare(api)["id"]
    r = move(api, inc, "fixed")
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")


def test_resolve_is_refused_while_conditions_are_unmet_and_lists_them(api):
    inc = declare(api)["id"]  # P1 by the matrix
    r = move(api, inc, "resolved")
    assert (r.status_code, error_code(r)) == (409, "RESOLUTION_CONDITIONS_UNMET")
    unmet = {c["id"] for c in r.json()["error"]["details"]["unmet"]}
    assert unmet == {
        "ic_assigned",
        "status_update_posted",
        "core_functions_verified",
        "metrics_normal_30m",
        "recovery_notice_sent",
    }

    api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "minji"})
    api.post(f"/api/v1/incidents/{inc}/updates", json={"situation": "rolled back"})
    _confirm_all(api, inc)
    conditions = api.get(f"/api/v1/incidents/{inc}").json()["resolution_conditions"]
    assert all(c["met"] for c in conditions)
    assert move(api, inc, "resolved").json()["status"] == "resolved"


def test_only_the_ic_may_override_unmet_conditions_and_needs_a_reason(api):
    inc = declare(api)["id"]
    r = move(api, inc, "resolved", override_conditions=True, reason="false alarm")
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "someone-else"})
    r = move(api, inc, "resolved", override_conditions=True, reason="x")
    assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "admin"})
    r = move(api, inc, "resolved", override_conditions=True)
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = move(api, inc, "resolved", override_conditions=True, reason="customer confirmed recovery")
    assert r.status_code == 200, r.text
    events = api.get(f"/api/v1/incidents/{inc}/timeline").json()
    override = next(e for e in events if e["kind"] == "resolution_override")
    assert override["data"]["reason"] == "customer confirmed recovery"
    assert "core_functions_verified" in override["data"]["unmet"]


def test_reopening_a_resolved_incident_clears_resolved_at_and_restarts_the_cadence(api):
    clock.freeze(T0)
    inc = declare(api, business_impact="operations", user_impact="many")["id"]  # P2, 15 min
    api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "admin"})
    move(api, inc, "resolved", override_conditions=True, reason="looked fine")
    clock.freeze(T0.replace(hour=1))
    body = move(api, inc, "investigating", reason="errors are back").json()
    assert body["resolved_at"] is None
    assert body["next_update_due"] == "2026-06-01T01:15:00Z"


def test_canceled_incident_accepts_no_more_changes(api):
    inc = declare(api)["id"]
    move(api, inc, "canceled", reason="false alarm")
    r = api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "x"})
    assert (r.status_code, error_code(r)) == (409, "INVALID_TRANSITION")
    r = api.post(f"/api/v1/incidents/{inc}/updates", json={"situation": "x"})
    assert r.status_code == 409


def test_acknowledge_sets_the_time_once(api):
    clock.freeze(T0)
    inc = declare(api)["id"]
    clock.freeze(T0.replace(minute=3))
    assert (
        api.post(f"/api/v1/incidents/{inc}/acknowledge").json()["acknowledged_at"]
        == "2026-06-01T00:03:00Z"
    )
    clock.freeze(T0.replace(minute=9))
    assert (
        api.post(f"/api/v1/incidents/{inc}/acknowledge").json()["acknowledged_at"]
        == "2026-06-01T00:03:00Z"
    )
    kinds = [e["kind"] for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()]
    assert kinds.count("acknowledged") == 1


def test_concurrent_moves_to_the_same_status_succeed_once(server, api):
    inc = declare(api)["id"]

    def one(_: int) -> int:
        with httpx.Client(base_url=server.url, headers=api.headers, timeout=60) as client:
            return client.post(
                f"/api/v1/incidents/{inc}/transitions", json={"to": "investigating"}
            ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = sorted(pool.map(one, range(10)))
    assert codes == [200] + [409] * 9
    kinds = [e["kind"] for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()]
    assert kinds.count("status_changed") == 1
