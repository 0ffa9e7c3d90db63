"""Approval-gated messages, the management summary and follows, over real HTTP with the worker
delivering to a real webhook receiver and a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from haetae.clock import clock, utcnow
from haetae.comms import service
from haetae.comms.models import CommsChannel, CommsMessage
from haetae.db import Database
from haetae.incidents.models import Incident
from haetae.people.models import ContactMethod
from haetae.policy.communications import (
    Approvals,
    CommunicationsSection,
    ManagementSummary,
    Route,
)
from haetae.policy.schema import Policy
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare, error_code
from tests.cli.conftest import Haetae, _base_env
from tests.support import people
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer, body_of
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for, csrf_from

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def gated_policy(policy: Policy, server: RunningServer) -> Iterator[Policy]:
    """The suite's policy with seed 002's plan: press releases need the CEO's approval, a
    management summary every 30 minutes for P1, declarations to #critical-alerts."""
    communications = CommunicationsSection(
        routes=[Route(kinds=["declaration"], severities=["P1"], channels=["critical-alerts"])],
        approvals=Approvals(kinds=["public_announcement"], approvers=["ceo"]),
        management_summary=ManagementSummary(
            severities=["P1"], every="30m", channels=["leadership"]
        ),
    )
    changed = policy.model_copy(update={"communications": communications})
    state = server.app.state
    kept = state.policy
    state.policy = changed
    try:
        yield changed
    finally:
        state.policy = kept


def _channel(db: Database, slug: str, url: str) -> None:
    now = utcnow()
    with db.session() as session:
        channel = CommsChannel(
            slug=slug, name=slug, language="en", members=[], created_at=now, updated_at=now
        )
        session.add(channel)
        session.flush()
        session.add(
            ContactMethod(
                user_id=None,
                comms_channel_id=channel.id,
                name=slug,
                kind=url.split(":", 1)[0],
                url=url,
                created_at=now,
            )
        )


def _worker(db: Database, policy: Policy, server: RunningServer, secret: str) -> Worker:
    return Worker(db, policy, WorkerConfig(public_url=server.url, secret=secret, senders=2))


def _draft(db: Database, policy: Policy, incident_id: str) -> dict:
    """The comms lead drafts a public announcement to the press channel."""
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        message = service.create_message(
            session,
            policy,
            incident,
            "public_announcement",
            channels=["press"],
            by="comms",
            now=utcnow(),
        )
        return {"id": message.id, "status": message.status}


def _kinds(api: httpx.Client, incident_id: str) -> list[str]:
    events = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    return [e["kind"] for e in events if e["kind"].startswith("comms_approval")]


def test_gated_announcement_leaves_only_once_approved_as_edited_and_once(
    api: httpx.Client,
    anon: httpx.Client,
    db: Database,
    server: RunningServer,
    settings,
    gated_policy: Policy,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
) -> None:
    _channel(db, "press", webhook.url("/press"))
    people.make_user(db, "ceo", smtp_server.url(to="ceo@example.com"))
    people.make_user(db, "comms", smtp_server.url(to="comms@example.com"))
    worker = _worker(db, gated_policy, server, settings.jwt_secret)
    try:
        incident = declare(
            api, title="Checkout down for every user", severity="P2", severity_reason="test"
        )

        def draft() -> dict:
            made = _draft(db, gated_policy, incident["id"])
            assert made["status"] == "pending_approval"
            return made

        first = draft()
        for _ in range(2):
            worker.run_once()
        # The approver is asked by mail with a link; nothing reaches the press channel.
        [request] = smtp_server.wait_for(1)
        assert request["To"] == "ceo@example.com"
        text = body_of(request)
        assert "public_announcement" in text
        assert webhook.received == []
        [pending] = api.get("/api/v1/approvals").json()
        assert pending["id"] == first["id"]

        # Someone else may not approve it; nor may the bootstrap admin key.
        comms = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {people.api_token(server.url, 'comms')}"},
        )
        ceo = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {people.api_token(server.url, 'ceo')}"},
        )
        with comms, ceo:
            refused = comms.post(f"/api/v1/messages/{first['id']}/approve", json={})
            assert (refused.status_code, error_code(refused)) == (403, "NOT_AN_APPROVER")
            edited = {
                "subject": "Checkout outage",
                "body": "We fixed checkout. Sorry.",
                "note": "ok",
            }
            approved = ceo.post(f"/api/v1/messages/{first['id']}/approve", json=edited)
            assert approved.status_code == 200, approved.text
            assert approved.json()["status"] == "sent"
            assert approved.json()["draft"]["body"] != edited["body"]
            again = ceo.post(f"/api/v1/messages/{first['id']}/approve", json={})
            assert (again.status_code, error_code(again)) == (409, "MESSAGE_NOT_PENDING")
            for _ in range(2):
                worker.run_once()
            [sent] = webhook.wait_for(1)
            assert "We fixed checkout. Sorry." in sent.json["message"]
            assert len(webhook.received) == 1

            # A rejection sends nothing.
            second = draft()
            worker.run_once()
            rejected = ceo.post(f"/api/v1/messages/{second['id']}/reject", json={"note": "not now"})
            assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
            worker.run_once()
            assert len(webhook.received) == 1

        # The mailed link: GET shows and changes nothing, POST approves, once.
        third = draft()
        smtp_server.clear()
        clock.advance(seconds=15)  # past the jobs 5 s and the mailbox 12 s spacing
        worker.run_once()
        worker.run_once()  # the request queued, then sent
        [mail] = smtp_server.wait_for(1)
        link = re.search(r"(/approvals/link/\S+)", body_of(mail))
        assert link is not None, body_of(mail)
        shown = anon.get(link.group(1))
        assert shown.status_code == 200 and "Approve and send" in shown.text
        assert anon.get(link.group(1)).status_code == 200
        with db.session(write=False) as session:
            waiting = session.get(CommsMessage, third["id"])
            assert waiting is not None and waiting.status == "pending_approval"
        done = anon.post(link.group(1), data={"decision": "approve", "body": "Linked text."})
        assert done.status_code == 200 and 'data-state="done"' in done.text
        assert anon.post(link.group(1), data={"decision": "approve"}).status_code == 409
        worker.run_once()
        webhook.wait_for(2)
        assert "Linked text." in webhook.received[1].json["message"]

        # The CLI, in-process: list, a refusal for a non-approver, an edited approval.
        haetae = Haetae({**_base_env(settings.data_dir), "DATABASE_URL": settings.database_url})
        fourth = draft()
        listed = haetae("notify approvals --json").json()
        assert [m["id"] for m in listed] == [fourth["id"]]
        haetae(f"notify reject {fourth['id']} --note no --as comms", expect=6)
        out = haetae(f"notify approve {fourth['id']} --body 'From the CLI.' --as ceo --json")
        assert (out.json()["status"], out.json()["body"]) == ("sent", "From the CLI.")
        haetae(f"notify approve {fourth['id']} --as ceo", expect=5)
        haetae(f"notify follow {incident['id']} --as ceo")
        assert "no longer follows" in haetae(f"notify unfollow {incident['id']} --as ceo").out

        # The second was rejected before the approvers were asked: nobody is asked about it.
        assert _kinds(api, incident["id"]).count("comms_approval_requested") == 2
        assert _kinds(api, incident["id"]).count("comms_approval_approved") == 3
        assert _kinds(api, incident["id"]).count("comms_approval_edited") == 3
        assert _kinds(api, incident["id"]).count("comms_approval_rejected") == 1
    finally:
        worker.stop()


def test_management_summary_once_per_half_hour_with_two_workers_and_follows(
    api: httpx.Client,
    db: Database,
    server: RunningServer,
    settings,
    gated_policy: Policy,
    webhook: WebhookReceiver,
) -> None:
    _channel(db, "leadership", webhook.url("/leadership"))
    _channel(db, "critical-alerts", webhook.url("/critical"))
    clock.freeze(START)
    workers = [_worker(db, gated_policy, server, settings.jwt_secret) for _ in range(2)]
    try:
        p1 = declare(api, title="Payments down", severity="P1", severity_reason="test")
        drill = declare(api, title="A drill", severity="P1", severity_reason="test")
        with db.session() as session:  # as a game day's incident is marked (docs/drills.md)
            marked = session.get(Incident, drill["id"])
            assert marked is not None
            marked.drill = True
        declare(api, title="Small thing", severity="P3", severity_reason="test")

        def summaries() -> list[CommsMessage]:
            with db.session(write=False) as session:
                query = select(CommsMessage).where(CommsMessage.kind == "management_summary")
                return list(session.scalars(query))

        for minutes, expected in ((10, 0), (31, 1), (45, 1), (61, 2), (62, 2)):
            clock.freeze(START + timedelta(minutes=minutes))
            for w in workers:
                w.run_once()
            found = summaries()
            assert len(found) == expected, (minutes, [m.source for m in found])
            assert {m.incident_id for m in found} <= {p1["id"]}
        assert sorted(m.source for m in summaries()) == ["summary:1", "summary:2"]
        hooks = [r for r in webhook.received if r.path == "/leadership"]
        assert len(hooks) == 2
    finally:
        for w in workers:
            w.stop()

    # Follows: the caller's own list.
    people.make_user(db, "minji")
    token = people.api_token(server.url, "minji")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as me:
        assert me.post(f"/api/v1/incidents/{p1['id']}/follow").status_code == 201
        assert me.post(f"/api/v1/incidents/{p1['id']}/follow").status_code == 201  # again
        assert [f["incident_id"] for f in me.get("/api/v1/follows").json()] == [p1["id"]]
        missing = me.post("/api/v1/services/nope/follow")
        assert (missing.status_code, error_code(missing)) == (404, "NOT_FOUND")
        assert me.delete(f"/api/v1/incidents/{p1['id']}/follow").status_code == 204
        assert me.get("/api/v1/follows").json() == []


def test_approvals_page_lists_and_approves_for_the_approver(
    api: httpx.Client,
    db: Database,
    server: RunningServer,
    gated_policy: Policy,
    webhook: WebhookReceiver,
) -> None:
    _channel(db, "press", webhook.url("/press"))
    incident = declare(api, title="Checkout down", severity="P2", severity_reason="test")
    made = _draft(db, gated_policy, incident["id"])
    with console_for(server.url, db, "ceo") as ceo:
        page = ceo.get("/approvals")
        assert page.status_code == 200 and "Approve and send" in page.text
        posted = ceo.post(
            f"/approvals/{made['id']}/approve",
            data={"csrf_token": csrf_from(page.text), "subject": "S", "body": "B", "note": ""},
        )
        assert posted.status_code == 303, posted.text
        after = ceo.get("/approvals").text
        assert "Nothing is waiting for approval." in after
    with db.session(write=False) as session:
        message = session.get(CommsMessage, made["id"])
        assert message is not None
        assert (message.status, message.body, message.decided_by) == ("sent", "B", "ceo")


def test_communications_panel_previews_a_template_and_sends_it_and_follows(
    api: httpx.Client,
    db: Database,
    server: RunningServer,
    gated_policy: Policy,
    webhook: WebhookReceiver,
) -> None:
    _channel(db, "critical-alerts", webhook.url("/critical"))
    _channel(db, "support", webhook.url("/support"))
    incident = declare(api, title="Payments down", severity="P1", severity_reason="test")
    path = f"/incidents/{incident['id']}"
    with console_for(server.url, db, "lead") as lead:
        shown = lead.get(f"{path}?compose=customer_support_notice&compose_lang=en")
        assert shown.status_code == 200, shown.text
        panel = shown.text[shown.text.index('id="panel-comms"') :]
        assert 'name="subject"' in panel and "Payments down" in panel
        sent = lead.post(
            f"{path}/comms/send",
            data={
                "csrf_token": csrf_from(shown.text),
                "kind": "customer_support_notice",
                "locale": "en",
                "subject": "Payments are down",
                "body": "Tell customers we are on it.",
                "channel": "support",
            },
        )
        assert sent.status_code == 303, sent.text
        followed = lead.post(f"{path}/follow", data={"csrf_token": csrf_from(shown.text)})
        assert followed.status_code == 303, followed.text
        page = lead.get(path).text
        panel = page[page.index('id="panel-comms"') :]
        assert "Payments are down" in panel and "Unfollow this incident" in panel
    with db.session(write=False) as session:
        [message] = session.scalars(
            select(CommsMessage).where(CommsMessage.kind == "customer_support_notice")
        ).all()
        assert (message.status, message.channels, message.created_by) == (
            "sent",
            ["support"],
            "lead",
        )
