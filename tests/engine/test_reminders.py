"""Update reminders on the policy's cadence, on-call hand-off notices, and escalations
following a severity change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from haetae.clock import clock
from haetae.db import Database
from haetae.escalation.models import Escalation
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.policy.loader import load_policy_file
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare
from tests.conftest import JWT_SECRET
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

P1 = {"title": "Payments down", "business_impact": "revenue", "user_impact": "all"}
P3 = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_a_missed_p1_update_reminds_the_ic_once_per_missed_update(
    api, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    clock.freeze(T0)
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("minji", smtp_server.url(to="minji@example.com"), locale="ko")
    oncall_schedule(["alice"])
    incident_id = declare(api, **P1)["id"]
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
    incident_id = declare(api, **P3)["id"]
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


def test_seed_000_sev1_unresolved_for_15_minutes_brings_in_the_team_leads(
    api, db: Database, server, smtp_server: SmtpServer, make_user
):
    seed_000 = load_policy_file(Path(__file__).parents[2] / "policies" / "seed-000-sev0-3.yaml")
    worker = Worker(db, seed_000, WorkerConfig(public_url=server.url, secret=JWT_SECRET))
    clock.freeze(T0)
    make_user("lead", smtp_server.url(to="lead@example.com"))
    assert api.post(
        "/api/v1/teams", json={"id": "team-leads", "name": "Team leads", "leads": ["lead"]}
    ).status_code in (200, 201)
    with db.session() as session:
        incident = declare_incident(
            session,
            seed_000,
            IncidentDeclare(title="Matchmaking down", severity="Sev1", severity_reason="core"),
            actor="test",
            now=clock.now(),
        )
    try:
        clock.advance(minutes=14)
        worker.run_once()
        assert smtp_server.messages == []
        clock.advance(minutes=1)
        worker.run_once()
        [mail] = smtp_server.wait_for(1)
    finally:
        worker.stop()
    assert incident.id in subject_of(mail)
    assert "Sev1 unresolved for 15 minutes" in body_of(mail)
