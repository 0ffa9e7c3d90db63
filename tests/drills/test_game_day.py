"""A scheduled game day, end to end with the real server, worker and webhook receiver: the
worker starts it, injects its alert through /ingest/alertmanager, the on-call person is paged
with the drill mark, the kill switch ends it all, and the scorecard measures the times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from haetae.clock import clock
from haetae.worker import Worker
from tests.support.webhook import WebhookReceiver

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _messages(webhook: WebhookReceiver, path: str) -> list[dict]:
    return [r.json for r in webhook.requests if r.path == path and r.status < 400 and r.json]


def test_scheduled_game_day_pages_with_the_mark_is_killed_and_scored(
    api: httpx.Client, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
) -> None:
    clock.freeze(T0)
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    created = api.post(
        "/api/v1/drills",
        json={
            "title": "Payments DB failover game day",
            "kind": "game_day",
            "scenario": "The primary database stops answering.",
            "participants": ["alice"],
            "scheduled_at": (T0 + timedelta(minutes=10)).isoformat(),
            "targets": {"detect": "5m", "escalate": "10m", "recover": "30m"},
            "inject": [
                {
                    "labels": {
                        "alertname": "DBDown",
                        "service": "payments",
                        "severity": "critical",
                    },
                    "annotations": {"summary": "Payments primary database down"},
                },
                {
                    "labels": {"alertname": "DBLag", "service": "payments", "severity": "critical"},
                    "annotations": {"summary": "Replica lag"},
                    "after_seconds": 1800,
                },
            ],
        },
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert code == "DR-001" and created.json()["status"] == "scheduled"

    worker.run_once()  # not due yet
    assert api.get(f"/api/v1/drills/{code}").json()["status"] == "scheduled"

    clock.advance(minutes=10)
    worker.run_once()  # starts it, posts its first alert to the server, pages alice
    drill = api.get(f"/api/v1/drills/{code}").json()
    assert drill["status"] == "running"
    assert drill["inject"][0]["sent_at"] and not drill["inject"][1]["sent_at"]
    incident_id = drill["incident_id"]
    assert incident_id, drill
    incident = api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["drill"] is True
    alerts = api.get("/api/v1/alerts", params={"incident_id": incident_id}).json()
    assert alerts["items"], "the alert came in through the ingest path"
    worker.run_once()  # the escalation engine's next pass pages the on-call person
    webhook.wait_for(1)
    [page] = _messages(webhook, "/alice")
    assert page["title"].startswith("[DRILL] ")
    assert page["message"].startswith("[DRILL] ")
    assert incident_id in page["title"]

    clock.advance(minutes=3)
    acked = api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
    assert acked.status_code == 200, acked.text
    clock.advance(minutes=9)
    for condition in api.get(f"/api/v1/incidents/{incident_id}/conditions").json():
        if not condition["met"] and condition["kind"] == "manual":
            checked = api.post(
                f"/api/v1/incidents/{incident_id}/conditions/{condition['id']}", json={}
            )
            assert checked.status_code == 200, checked.text
    mitigated = api.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "monitoring", "reason": "failed over to the replica"},
    )
    assert mitigated.status_code == 200, mitigated.text

    clock.advance(minutes=1)
    killed = api.post(f"/api/v1/drills/{code}/kill", json={"note": "enough"})
    assert killed.status_code == 200, killed.text
    assert killed.json()["status"] == "ended"
    assert killed.json()["end_reason"] == "kill_switch"
    assert killed.json()["inject"][1].get("dropped") is True
    incident = api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["status"] == "resolved"
    # A P1 drill is reviewed on its scorecard: its resolution starts no post-mortem.
    assert incident["severity"] == "P1"
    assert api.get(f"/api/v1/postmortems/{incident_id}").status_code == 404
    received = len(webhook.requests)

    # Nothing more about it: no reminder, no resolution notice, no second injection.
    clock.advance(minutes=45)
    worker.run_once()
    clock.advance(minutes=30)
    worker.run_once()
    assert len(webhook.requests) == received
    assert not api.get(f"/api/v1/drills/{code}").json()["inject"][1].get("sent_at")
    # The drill's integration refuses alerts, even with a fresh token.
    integration_id = drill["integration_id"]
    assert api.get(f"/api/v1/integrations/{integration_id}").json()["enabled"] is False
    token = api.post(f"/api/v1/integrations/{integration_id}/rotate").json()["token"]
    refused = httpx.post(
        f"{api.base_url}/ingest/alertmanager",
        json={"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {}}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 401, refused.text
    again = api.post(f"/api/v1/drills/{code}/kill")
    assert again.status_code == 409 and again.json()["error"]["code"] == "DRILL_STATE"

    card = api.get(f"/api/v1/drills/{code}/scorecard").json()
    rows = {r["row"]: r for r in card["timed"]}
    assert rows["detect"]["actual_minutes"] == 0.0 and rows["detect"]["met"] is True
    assert rows["escalate"]["actual_minutes"] == 3.0 and rows["escalate"]["met"] is True
    # Recovery counts the team's mitigation (12 min), not the kill switch's resolve (13).
    assert rows["recover"]["actual_minutes"] == 12.0 and rows["recover"]["met"] is True
    assert [j["suggested"] for j in card["judged"] if j["row"] == "communication"] == ["lacking"]
    scored = api.put(
        f"/api/v1/drills/{code}/scorecard",
        json={"communication": "lacking", "runbook": "partly_wrong", "assessment": "Good run."},
    )
    assert scored.status_code == 200, scored.text
    md = api.get(f"/api/v1/drills/{code}/scorecard", params={"format": "md"})
    assert md.status_code == 200
    assert "| 장애 감지 시간 (Detection time) | 5 min | 0 min | Y |" in md.text
    assert "| 복구 시간 (RTO) (Recovery time (RTO)) | 30 min | 12 min | Y |" in md.text
    assert "일부 오류 (partly wrong)" in md.text and "Good run." in md.text
