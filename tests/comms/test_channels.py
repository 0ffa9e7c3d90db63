"""Stakeholder channels and automatic messages: a P1's declaration, update and resolution
reach a real webhook receiver once each in the seeds' words, a follower gets the update by
real e-mail, a P3 and a drill reach nobody, and the API and CLI show it all."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from haetae.clock import clock
from haetae.comms.models import CommsChannel, CommsMessage, Follow
from haetae.db import Database
from haetae.incidents import service as incidents
from haetae.incidents.schemas import IncidentDeclare
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.policy.communications import CommunicationsSection, Route
from haetae.policy.schema import Policy
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare, error_code, move
from tests.cli.conftest import Haetae, _base_env
from tests.support import people
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DECLARED = "🚨 INCIDENT DECLARED 🚨"  # seed 000's declaration block
UPDATE_KO = "🔄 [UPDATE]"  # seed 000's 15-minute update
RECOVERED_KO = "✅ 서비스 정상화 공지"  # seed 001 3.2.5's service recovery notice


def _channel(
    db: Database, slug: str, url: str | None, *, language: str = "ko", members: list[str] = ()
) -> None:
    """A channel as config as code writes it: the row and, for a room, its contact method."""
    with db.session() as session:
        channel = CommsChannel(
            slug=slug,
            name=f"#{slug}",
            purpose="",
            language=language,
            members=list(members),
            enabled=True,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(channel)
        session.flush()
        if url:
            session.add(
                ContactMethod(
                    user_id=None,
                    comms_channel_id=channel.id,
                    name=slug,
                    kind=url.split(":", 1)[0],
                    url=url,
                    position=0,
                    enabled=True,
                    created_at=NOW,
                )
            )


def _paths(webhook: WebhookReceiver) -> list[str]:
    return [r.path for r in webhook.received]


def _text(request) -> str:
    return f"{request.json.get('title', '')}\n{request.json.get('message', '')}"


def test_p1_declaration_update_and_resolution_reach_the_channels_once_in_the_seeds_words(
    api: httpx.Client,
    db: Database,
    settings,
    worker: Worker,
    webhook: WebhookReceiver,
    smtp_server: SmtpServer,
) -> None:
    clock.freeze(NOW)
    # The default policy (seed 001): P1/P2 events to incident-war-room, a P1's declaration
    # and resolution to critical-alerts too, customer support notices to customer-support.
    _channel(db, "incident-war-room", webhook.url("/war-room"))
    _channel(db, "critical-alerts", webhook.url("/critical"))
    _channel(db, "customer-support", webhook.url("/support"), language="en")
    follower = people.make_user(db, "minji", smtp_server.url(to="minji@example.com"))

    incident = declare(api, title="Checkout returns 502", services=["payments"])
    assert incident["severity"] == "P1"
    with db.session() as session:
        session.add(Follow(user_id=follower, incident_id=incident["id"], created_at=NOW))
    worker.run_once()
    webhook.wait_for(2)
    assert sorted(_paths(webhook)) == ["/critical", "/war-room"]
    for request in webhook.received:
        assert DECLARED in _text(request) and incident["id"] in _text(request)
        assert "심각도:" in _text(request)  # the channels' language: Korean

    clock.advance(seconds=13)  # past the spacing between two messages to one channel
    posted = api.post(
        f"/api/v1/incidents/{incident['id']}/updates",
        json={
            "situation": "DB primary failing over",
            "impact": "Payments fail for all users",
            "progress": "Promoted the replica",
            "eta": "15m",
        },
    )
    assert posted.status_code == 201, posted.text
    worker.run_once()
    webhook.wait_for(3)
    [mail] = smtp_server.wait_for(1)
    update = webhook.received[2]
    assert update.path == "/war-room"  # critical-alerts takes declarations and resolutions
    assert UPDATE_KO in _text(update) and "**현재 상황**: DB primary failing over" in _text(update)
    # The follower reads it in their own language, by their first contact method.
    assert mail["To"] == "minji@example.com" and "[UPDATE]" in subject_of(mail)
    assert "**Situation**: DB primary failing over" in body_of(mail)

    clock.advance(seconds=13)
    api.put(f"/api/v1/incidents/{incident['id']}/roles/ic", json={"assignee": "jisoo"})
    for condition in api.get(f"/api/v1/incidents/{incident['id']}").json()["resolution_conditions"]:
        if not condition["met"]:
            api.post(f"/api/v1/incidents/{incident['id']}/conditions/{condition['id']}", json={})
    resolved = move(api, incident["id"], "resolved")
    assert resolved.status_code == 200, resolved.text
    for _ in range(3):  # the worker runs again and again: nothing is sent twice
        worker.run_once()
    webhook.wait_for(5)
    smtp_server.wait_for(2)
    worker.run_once()
    assert sorted(_paths(webhook)) == ["/critical", "/critical", "/war-room"] + ["/war-room"] * 2
    assert len(smtp_server.messages) == 2
    for request in webhook.received[3:]:
        assert RECOVERED_KO in _text(request) and "서비스가 정상화되었습니다" in _text(request)

    # The API: the messages with their delivery; the channels masked.
    listed = api.get(f"/api/v1/incidents/{incident['id']}/messages").json()
    assert [(m["kind"], m["status"]) for m in listed] == [
        ("declaration", "sent"),
        ("update", "sent"),
        ("resolution", "sent"),
    ]
    assert [m["delivery"]["sent"] for m in listed] == [2, 2, 3]
    assert listed[1]["channels"] == ["incident-war-room"] and listed[1]["created_by"] == "haetae"
    channels = api.get("/api/v1/channels").json()
    assert [c["slug"] for c in channels] == [
        "critical-alerts",
        "customer-support",
        "incident-war-room",
    ]
    assert channels[0]["contact_methods"][0]["url"] == f"json://127.0.0.1:{webhook.port}/***"

    # Delivery state on the timeline, beside what was queued.
    timeline = api.get(f"/api/v1/incidents/{incident['id']}/timeline").json()
    queued = [e for e in timeline if e["kind"] == "comms_sent"]
    assert [(e["data"]["message_kind"], e["data"]["queued"]) for e in queued] == [
        ("declaration", 2),
        ("update", 2),
        ("resolution", 3),
    ]
    sent = [e for e in timeline if e["kind"] == "notification_sent"]
    assert sum("stakeholder to channel incident-war-room" in e["summary"] for e in sent) == 3
    assert sum("stakeholder to user #" in e["summary"] for e in sent) == 2

    # A message by hand, from its template, to a channel named; refusals with stable codes.
    by_hand = api.post(
        f"/api/v1/incidents/{incident['id']}/messages",
        json={"kind": "customer_support_notice", "channels": ["customer-support"]},
    )
    assert by_hand.status_code == 201, by_hand.text
    assert by_hand.json()["status"] == "sent" and by_hand.json()["locale"] == "en"
    clock.advance(seconds=13)
    worker.run_once()
    [support] = [r for r in webhook.wait_for(6) if r.path == "/support"]
    assert "Customer support notice" in _text(support)
    shown = api.get(f"/api/v1/messages/{by_hand.json()['id']}").json()
    assert shown["delivery"] == {"total": 1, "pending": 0, "sent": 1, "failed": 0, "canceled": 0}
    nowhere = api.post(
        f"/api/v1/incidents/{incident['id']}/messages",
        json={"kind": "internal_update", "channels": ["nope"]},
    )
    assert (nowhere.status_code, error_code(nowhere)) == (422, "UNKNOWN_CHANNEL")
    missing = api.get("/api/v1/messages/999999")
    assert (missing.status_code, error_code(missing)) == (404, "MESSAGE_NOT_FOUND")

    # A P3 has no route: nothing is written, nobody hears of it.
    minor = declare(api, title="Typo on the help page", severity="P3", severity_reason="cosmetic")
    with db.session(write=False) as session:
        assert (
            session.scalars(
                select(CommsMessage).where(CommsMessage.incident_id == minor["id"])
            ).all()
            == []
        )
        assert (
            session.scalars(
                select(Notification).where(Notification.incident_id == minor["id"])
            ).all()
            == []
        )

    # The CLI, in this process, on the server's database.
    haetae = Haetae({**_base_env(settings.data_dir), "DATABASE_URL": settings.database_url})
    assert "incident-war-room" in haetae("notify channels").out
    out = haetae(f"notify messages {incident['id']}").out
    assert "declaration" in out and "3/3 sent" in out
    sent_by_cli = haetae(
        f"notify send {incident['id']} internal_update --channel incident-war-room --lang en"
    ).out
    assert "internal_update to incident-war-room: sent (1 message(s) queued)" in sent_by_cli
    haetae(f"notify send {incident['id']} internal_update --channel nope", expect=3)


def test_a_drills_declaration_reaches_only_routes_that_take_drills(
    db: Database, policy: Policy
) -> None:
    clock.freeze(NOW)
    with WebhookReceiver() as webhook:
        _channel(db, "incident-war-room", webhook.url("/war-room"))
        worker = Worker(db, policy, WorkerConfig(public_url="http://127.0.0.1:9", secret="s"))
        drill = IncidentDeclare(
            title="Game day: DB failover", severity="P1", severity_reason="drill DR-001"
        )
        try:
            with db.session() as session:
                # As drills/service.py does: the mark comes after the declaration.
                declared = incidents.declare_incident(session, policy, drill, actor="t", now=NOW)
                declared.drill = True
                first = declared.id
            worker.run_once()
            with db.session(write=False) as session:
                [row] = session.scalars(
                    select(Notification).where(
                        Notification.incident_id == first, Notification.kind == "stakeholder"
                    )
                ).all()
                assert row.status == "canceled" and "drill" in (row.last_error or "")
            assert webhook.received == []

            # A route that says `drills: true` takes them, marked.
            drills = policy.model_copy(
                update={
                    "communications": CommunicationsSection(
                        routes=[
                            Route(
                                kinds=["declaration"],
                                severities=["P1"],
                                channels=["incident-war-room"],
                                drills=True,
                            )
                        ]
                    )
                }
            )
            with db.session() as session:
                declared = incidents.declare_incident(session, drills, drill, actor="t", now=NOW)
                declared.drill = True
            worker.run_once()
            [request] = webhook.wait_for(1)
            assert _text(request).startswith("[훈련]") and DECLARED in _text(request)
        finally:
            worker.stop()
