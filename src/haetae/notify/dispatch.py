"""Turning claimed outbox rows into messages: the text in the recipient's language, the
incident as it is now, fresh one-use ack and resolve links. The words are kept on the row,
so that a resend under the same idempotency key says exactly the same."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.comms.models import CommsMessage
from haetae.incidents.models import Incident
from haetae.notify import links, messages, unsubscribe
from haetae.notify.claims import Claimed
from haetae.notify.models import Notification
from haetae.oncall.models import Schedule
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

LINK_TTL = timedelta(hours=24)
SUBJECT_MAX = 300
# A bundle lists several incidents: one ack link would ack only one of them.
LINKED_KINDS = ("page", "escalation", "manual_page", "external_support", "business")
# A manual escalation to an external contact gets an ack link only: it may tell us it is on
# it, never resolve the incident (contacts/service.py).
CONTACT_LINKS = ("acknowledge",)
MENTIONS = ("channel", "here")


def prepare(
    session: Session,
    claimed: list[Claimed],
    *,
    policy: Policy,
    public_url: str,
    secret: str,
    now: datetime,
) -> None:
    """Fill in each claimed message's subject and body and keep them on its row (in the
    claim's transaction, so the links it issues commit with the claim). A resend already
    has the words it was sent with."""
    claimed = [c for c in claimed if not c.resend]
    user_ids = {c.user_id for c in claimed if c.user_id is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    incident_ids = {c.incident_id for c in claimed if c.incident_id is not None}
    incidents = {
        i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(incident_ids)))
    }
    # The links' rows go out in one flush at commit, not one before each query.
    with session.no_autoflush:
        for item in claimed:
            _prepare_one(session, item, users, incidents, policy, public_url, secret, now)


def _prepare_one(
    session: Session,
    item: Claimed,
    users: dict[int, User],
    incidents: dict[str, Incident],
    policy: Policy,
    public_url: str,
    secret: str,
    now: datetime,
) -> None:
    user = users.get(item.user_id) if item.user_id is not None else None
    incident = incidents.get(item.incident_id) if item.incident_id else None
    ack_url = resolve_url = None
    contact_id = item.data.get("external_contact_id") if item.user_id is None else None
    if incident is not None and item.kind in LINKED_KINDS:
        issued = [
            links.link_url(
                public_url,
                links.issue(
                    session,
                    incident_id=incident.id,
                    action=action,
                    user_id=item.user_id,
                    now=now,
                    ttl=LINK_TTL,
                    secret=secret,
                    external_contact_id=contact_id if isinstance(contact_id, int) else None,
                ),
            )
            for action in (CONTACT_LINKS if contact_id else ("acknowledge", "resolve"))
        ]
        ack_url, resolve_url = issued[0], (issued[1] if len(issued) > 1 else None)
    extra = _extra(session, item, now=now)
    subscriber = item.data.get("subscriber")
    if item.kind == "status_update" and isinstance(subscriber, dict):
        # A status page subscriber's one-click unsubscribe link, derived, never stored.
        token = unsubscribe.token(secret, int(subscriber["id"]), str(subscriber["key"]))
        extra["unsubscribe_url"] = unsubscribe.url(public_url, token)
    if incident is not None and item.kind == "approval_request":
        # The approver's one-use link to the approval page (comms/approvals.py); the jti on
        # the row ties the link to the message it approves.
        token = links.issue(
            session,
            incident_id=incident.id,
            action="approve",
            user_id=item.user_id,
            now=now,
            ttl=LINK_TTL,
            secret=secret,
        )
        extra["approve_url"] = f"{public_url.rstrip('/')}/approvals/link/{token}"
        item.data = {**item.data, "link_jti": token.partition(".")[0]}
    message = messages.render(
        item.kind,
        incident=incident,
        policy=policy,
        locale=item.locale,
        public_url=public_url,
        note=_note(item.data.get("note"), item.locale),
        ack_url=ack_url,
        resolve_url=resolve_url,
        recipient=(
            (user.display_name or user.username) if user else str(item.data.get("recipient", ""))
        ),
        extra=extra,
    )
    body = message.body
    if item.data.get("mention") in MENTIONS:
        # A step's `mention` (seed 003: Slack @channel, @here), on its own first line.
        body = f"@{item.data['mention']}\n{body}"
    # The column's width: what is sent is what is kept, so a resend is identical.
    item.subject, item.body = message.subject[:SUBJECT_MAX], body
    row = session.get(Notification, item.id)  # claimed in this session: no query
    if row is not None:
        row.subject, row.body = item.subject, item.body
        if item.kind == "approval_request":
            row.data = item.data


def _stakeholder_words(session: Session, item: Claimed) -> dict[str, Any]:
    """A stakeholder message is sent as written (comms/service.py): in the recipient's
    language when it was written in several, else as it is."""
    message = session.get(CommsMessage, item.data.get("comms_message_id"))
    if message is None:
        return {"subject": "", "body": ""}
    texts = (message.data or {}).get("texts") or {}
    want = messages.template_locale(item.locale)
    text = texts.get(want) if want != message.locale else None
    subject, body = (text["subject"], text["body"]) if text else (message.subject, message.body)
    return {"subject": " ".join(subject.split()), "body": body}


def _note(note: Any, locale: str) -> str:
    if isinstance(note, str | dict) and note:
        return localized(note, locale)
    return ""


def _extra(session: Session, item: Claimed, *, now: datetime) -> dict[str, Any]:
    if item.kind == "stakeholder":
        return _stakeholder_words(session, item)
    if item.kind == "bundle":
        incidents = {
            i.id: i
            for i in session.scalars(
                select(Incident).where(
                    Incident.id.in_({n.incident_id for n in item.bundled} | {item.incident_id})
                )
            )
        }
        items = []
        # A drill's line says so; the whole message is marked only when every line is a
        # drill's, so a real page bundled with a drill's is never taken for a drill.
        mark = messages.DRILL_MARK[messages.template_locale(item.locale)]
        drills = []
        for incident_id in dict.fromkeys(
            [item.incident_id, *(n.incident_id for n in item.bundled)]
        ):
            incident = incidents.get(incident_id or "")
            drills.append(bool(incident and incident.drill))
            items.append(
                f"{mark + ' ' if incident.drill else ''}{incident.id} [{incident.severity}] "
                f"{incident.title}"
                if incident
                else "(notice)"
            )
        return {"items": items, "count": len(item.bundled) + 1, "drill": all(drills)}
    if item.kind == "handoff":
        data = item.data
        names = {
            u.id: u.display_name or u.username
            for u in session.scalars(
                select(User).where(User.id.in_([data.get("from_user_id"), data.get("to_user_id")]))
            )
        }
        schedule = session.get(Schedule, data.get("schedule_id"))
        return {
            "schedule": schedule.name or schedule.slug if schedule else "",
            "layer": data.get("layer", ""),
            "at": datetime.fromisoformat(data["at"]) if data.get("at") else now,
            "from_user": names.get(data.get("from_user_id") or 0, ""),
            "to_user": names.get(data.get("to_user_id") or 0, ""),
        }
    if item.kind == "update_reminder" and item.data.get("due_at"):
        return {"due_at": datetime.fromisoformat(item.data["due_at"])}
    return dict(item.data)
