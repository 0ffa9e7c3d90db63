"""Declaring an incident pages the on-call on real channels; the seeds' escalation rules
page the next people on time; an acknowledgement stops it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from haetae.clock import clock
from haetae.db import Database
from haetae.escalation.models import Escalation
from haetae.notify.models import Notification
from haetae.worker import Worker
from tests.alerts.conftest import am_alert, am_body
from tests.api.helpers import declare
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

P1 = {"title": "Payments down", "business_impact": "revenue", "user_impact": "all"}
P3 = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}


def kinds(api: httpx.Client, incident_id: str) -> list[str]:
    events = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    return [e["kind"] for e in events]


def pages(server: SmtpServer) -> list[str]:
    """Subjects of pages and escalations, leaving out update reminders (P1: every 5 min)."""
    return [s for s in server.subjects() if "Status update due" not in s]


def timeline(api: httpx.Client, incident_id: str, kind: str) -> list[dict]:
    events = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    return [e for e in events if e["kind"] == kind]


def test_declared_p1_pages_primary_on_call_by_email_with_ack_link(
    api, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("bob", smtp_server.url(to="bob@example.com"))
    oncall_schedule(["alice"], ["bob"])
    incident_id = declare(api, **P1)["id"]

    worker.run_once()

    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "alice@example.com"
    assert incident_id in subject_of(mail)
    body = body_of(mail)
    assert "Payments down" in body
    assert re.search(r"/act/\S+", body), body
    steps = timeline(api, incident_id, "escalation_step")
    assert [(s["data"]["policy"], s["data"]["notified"]) for s in steps] == [
        ("oncall-page", ["alice"]),
        ("p1-matrix", []),  # the Tech Lead: the incident names no service with a team
    ]
    assert "notification_sent" in kinds(api, incident_id)


def test_unacknowledged_p1_pages_secondary_after_30_minutes(
    api,
    worker: Worker,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    make_user,
    oncall_schedule,
):
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("bob", webhook.url("/bob"))
    oncall_schedule(["alice"], ["bob"])
    declare(api, **P1)
    worker.run_once()
    assert len(smtp_server.wait_for(1)) == 1

    clock.advance(minutes=14)
    worker.run_once()
    assert len(pages(smtp_server)) == 1  # not yet
    clock.advance(minutes=1)
    worker.run_once()
    assert len(pages(smtp_server)) == 2  # 15 minutes: the primary again
    assert "ESCALATION" in pages(smtp_server)[1]
    assert webhook.requests == []

    clock.advance(minutes=15)
    worker.run_once()
    [page] = webhook.wait_for(1)
    assert "Payments down" in page.json["message"]
    assert "30 minutes" in page.json["message"]


def test_acknowledging_stops_the_escalation_and_cancels_queued_pages(
    api,
    db: Database,
    worker: Worker,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    make_user,
    oncall_schedule,
):
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    # Alice: email at once, the webhook (her phone) after 5 minutes.
    make_user(
        "alice", smtp_server.url(to="alice@example.com"), webhook.url("/alice"), delays=(0, 5)
    )
    make_user("bob", webhook.url("/bob"))
    oncall_schedule(["alice"], ["bob"])
    incident_id = declare(api, **P1)["id"]
    worker.run_once()
    assert len(smtp_server.wait_for(1)) == 1

    assert api.post(f"/api/v1/incidents/{incident_id}/acknowledge").status_code == 200
    clock.advance(minutes=60)
    worker.run_once()

    assert webhook.requests == []  # neither alice's delayed rule nor the secondary
    assert len(pages(smtp_server)) == 1
    with db.session() as session:
        paging = session.scalars(
            select(Escalation).where(Escalation.policy_slug == "oncall-page")
        ).one()
        assert (paging.status, paging.stopped_reason) == ("stopped", "acknowledged")
        matrix = session.scalars(
            select(Escalation).where(Escalation.policy_slug == "p1-matrix")
        ).one()
        assert matrix.status == "active"  # seed 001's matrix runs until resolved
        statuses = session.scalars(
            select(Notification.status)
            .where(Notification.kind.in_(("page", "escalation")))
            .order_by(Notification.id)
        ).all()
    assert statuses == ["sent", "canceled"]
    assert "escalation_stopped" in kinds(api, incident_id)
    pages_ = api.get(f"/api/v1/incidents/{incident_id}/pages").json()
    assert {(e["policy"], e["status"]) for e in pages_["escalations"]} == {
        ("oncall-page", "stopped"),
        ("p1-matrix", "active"),
    }
    first, queued = [n for n in pages_["notifications"] if n["kind"] == "page"]
    assert (first["user"], first["contact_method"], first["status"]) == (
        "alice",
        "mailto-0 (mailto)",
        "sent",
    )
    assert (queued["contact_method"], queued["status"]) == ("json-1 (json)", "canceled")
    assert "127.0.0.1" not in str(pages_)  # contact URLs never shown


def test_the_ack_link_in_the_page_acknowledges_without_logging_in(
    api, anon, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    make_user("alice", smtp_server.url(to="alice@example.com"))
    oncall_schedule(["alice"])
    incident_id = declare(api, **P1)["id"]
    worker.run_once()
    [mail] = smtp_server.wait_for(1)
    links = re.findall(r"https?://\S+/act/[\w.\-]+", body_of(mail))
    assert len(links) == 2  # acknowledge, resolve
    ack = links[0].split("/act/", 1)[1]

    response = anon.post(f"/act/{ack}")
    assert response.status_code == 200, response.text
    incident = api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["acknowledged_at"] is not None
    assert anon.post(f"/act/{ack}").status_code == 409  # once


def test_p1_matrix_informs_ic_and_team_leads_at_15_minutes_until_resolved(
    api, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule, db
):
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    make_user("alice", smtp_server.url(to="alice@example.com"))
    make_user("lead", smtp_server.url(to="lead@example.com"))
    oncall_schedule(["alice"])
    assert api.post(
        "/api/v1/teams", json={"id": "team-leads", "name": "Team leads", "leads": ["lead"]}
    ).status_code in (200, 201)
    incident_id = declare(api, **P1)["id"]
    worker.run_once()
    assert api.post(f"/api/v1/incidents/{incident_id}/acknowledge").status_code == 200
    clock.advance(minutes=15)
    worker.run_once()

    smtp_server.wait_for(2)
    [to_lead] = [m for m in smtp_server.messages if m["To"] == "lead@example.com"]
    assert "IC and all team leads" in body_of(to_lead)
    step = timeline(api, incident_id, "escalation_step")[-1]
    assert step["data"]["notified"] == ["lead"]
    assert "nobody holds the role 'ic' yet" in step["data"]["problems"]


def test_resolving_stops_everything_and_tells_who_was_paged(
    api, worker: Worker, smtp_server: SmtpServer, make_user, oncall_schedule
):
    make_user("alice", smtp_server.url(to="alice@example.com"))
    oncall_schedule(["alice"])
    incident_id = declare(api, **P3)["id"]
    worker.run_once()
    smtp_server.wait_for(1)
    checked = api.post(
        f"/api/v1/incidents/{incident_id}/conditions/core_functions_verified", json={}
    )
    assert checked.status_code == 200, checked.text
    response = api.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "resolved", "reason": "ok", "summary": "restarted"},
    )
    assert response.status_code == 200, response.text
    clock.advance(seconds=12)  # one message per 12 s to a contact method: the notice is next
    worker.run_once()
    mails = smtp_server.wait_for(2)
    assert subject_of(mails[1]).startswith("[P3] Resolved: " + incident_id)
    clock.advance(hours=3)
    worker.run_once()
    assert len(smtp_server.messages) == 2


def test_nobody_on_call_is_on_the_timeline_and_the_escalation_goes_on(api, worker: Worker):
    incident_id = declare(api, **P1)["id"]
    worker.run_once()
    step = timeline(api, incident_id, "escalation_step")[0]
    assert step["data"]["notified"] == []
    assert "schedule 'oncall' does not exist" in step["data"]["problems"]


def test_an_alert_that_declares_an_incident_pages_the_on_call(
    api, server, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
):
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    created = api.post("/api/v1/integrations", json={"name": "prom", "type": "alertmanager"})
    assert created.status_code == 201, created.text
    alert = am_alert("PaymentsDown", severity="critical", instance="pay-1")
    response = httpx.post(
        f"{server.url}/ingest/alertmanager",
        json=am_body(alert),
        headers={"Authorization": f"Bearer {created.json()['token']}"},
    )
    assert response.status_code == 202, response.text

    worker.run_once()

    [page] = webhook.wait_for(1)
    assert page.path == "/alice"
    assert "PaymentsDown" in page.json["title"] + page.json["message"]
    [incident] = api.get("/api/v1/incidents").json()["items"]
    assert incident["id"] in page.json["title"]


def test_a_failing_channel_is_retried_with_backoff_then_the_next_contact_method_gets_it(
    api,
    db: Database,
    worker: Worker,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    make_user,
    oncall_schedule,
):
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    make_user("alice", webhook.url("/alice"), smtp_server.url(to="alice@example.com"))
    oncall_schedule(["alice"])
    webhook.fail_next(10, status=503)
    incident_id = declare(api, **P3)["id"]

    worker.run_once()
    for wait in (10, 20, 40):  # exponential backoff between attempts
        clock.advance(seconds=wait - 1)
        worker.run_once()
        assert len(webhook.requests) == 1 + (10, 20, 40).index(wait)
        clock.advance(seconds=1)
        worker.run_once()
    assert len(webhook.requests) == 4
    worker.run_once()  # the fallback is due at once

    [mail] = smtp_server.wait_for(1)
    assert incident_id in subject_of(mail)
    failures = timeline(api, incident_id, "notification_failed")
    assert [f["data"]["attempt"] for f in failures] == [1, 2, 3, 4]
    assert failures[-1]["summary"].endswith("trying mailto-1 next")
    [sent] = timeline(api, incident_id, "notification_sent")
    assert sent["data"]["ok"] is True


def test_a_storm_reaches_a_person_as_one_bundled_message(
    api, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
):
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    ids = [declare(api, **{**P3, "title": f"Disk full {i}"})["id"] for i in range(12)]

    worker.run_once()

    [bundle] = webhook.wait_for(1)
    assert "12" in bundle.json["title"]
    assert all(incident_id in bundle.json["message"] for incident_id in ids)
    time.sleep(0.5)
    assert len(webhook.requests) == 1


def test_a_bundle_whose_send_fails_loses_none_of_the_pages_it_carried(
    api, db: Database, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
):
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    ids = [declare(api, **{**P3, "title": f"Queue stuck {i}"})["id"] for i in range(3)]
    webhook.fail_next(1, status=503)

    worker.run_once()  # the bundle fails; what it carried is pending on its own again
    clock.advance(seconds=10)
    worker.run_once()

    delivered = " ".join(r.json["message"] for r in webhook.received)
    assert all(incident_id in delivered for incident_id in ids)
    with db.session(write=False) as session:
        pages = session.execute(
            select(Notification.status, Notification.sent_at).where(Notification.kind == "page")
        ).all()
    assert len(pages) == 3
    assert all(status in ("sent", "bundled") and sent_at is not None for status, sent_at in pages)
