"""Update reminders on the policy's cadence, on-call hand-off notices, and escalations
following a severity change."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from haetae.clock import clock
from haetae.db import Database
from haetae.escalation.models import Escalation
from haetae.worker import Worker
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

P1 = {"title": "Payments down", "business_impact": "revenue", "user_impact": "all"}
P3 = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def declare(api: httpx.Client, body: dict[str, str]) -> str:
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_missed_p1_update_reminds_the_ic_once_per_missed_update(
    api, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    clock.freeze(T0)
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("minji", smtp_server.url(to="minji@example.com"), locale="ko")
    oncall_schedule(["alice"])
    incident_id = declare(api, P1)
    assert (
        api.put(f"/api/v1/incidents/{incident_id}/roles/ic", json={"assignee": "minji"}).status_code
        == 200
    )
    worker.run_once()

    clock.advance(minutes=5)  # seed 001: P1 updates every 5 minutes
    worker.run_once()
    worker.run_once()
    reminders = [m for m in smtp_server.wait_for(2) if m["To"] == "minji@example.com"]
    assert len(reminders) == 1
    assert incident_id in subject_of(reminders[0])
    assert "업데이트" in body_of(reminders[0])  # in the IC's language

    update = {"situation": "Failing over the DB", "impact": "checkout", "progress": "50%"}
    assert api.post(f"/api/v1/incidents/{incident_id}/updates", json=update).status_code == 201
    clock.advance(minutes=4)
    worker.run_once()
    assert len([m for m in smtp_server.messages if m["To"] == "minji@example.com"]) == 1
    clock.advance(minutes=1)
    worker.run_once()
    smtp_server.wait_for(3)
    assert len([m for m in smtp_server.messages if m["To"] == "minji@example.com"]) == 2


def test_raising_the_severity_starts_the_new_severitys_escalation(
    api, db: Database, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
):
    clock.freeze(T0)
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    incident_id = declare(api, P3)
    worker.run_once()
    raised = api.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"severity": "P1", "severity_reason": "all regions now"},
    )
    assert raised.status_code == 200, raised.text

    with db.session(write=False) as session:
        running = dict(
            session.execute(
                select(Escalation.policy_slug, Escalation.status).where(
                    Escalation.incident_id == incident_id
                )
            ).all()
        )
    assert running == {"oncall-page": "active", "p1-matrix": "active", "p3-matrix": "stopped"}


def test_the_incoming_on_call_is_told_at_the_hand_off_with_the_checklist(
    db: Database, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("bob", smtp_server.url(to="bob@example.com"))
    oncall_schedule(["alice", "bob"])  # weekly, Mondays 09:00 Asia/Seoul
    clock.freeze(datetime(2026, 11, 23, 0, 1, tzinfo=UTC))  # Monday 09:01 KST

    worker.run_once()
    worker.run_once()

    mails = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in mails) == ["alice@example.com", "bob@example.com"]
    body = body_of(mails[0])
    assert "Open incidents and their state handed over" in body  # the policy's checklist
