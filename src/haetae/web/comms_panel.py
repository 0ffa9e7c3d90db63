"""The incident page's Communications panel: messages to stakeholders from templates, their
delivery, follow."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.comms import follows, templates
from haetae.comms.models import CommsChannel, CommsMessage
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.notify.models import Notification
from haetae.policy.communications import TEMPLATE_KINDS
from haetae.web.console import Console

router = APIRouter(include_in_schema=False)
SHOWN = 30
STAKEHOLDER = "stakeholder"


def _delivery(session: Session, incident_id: str) -> dict[int, dict[str, int]]:
    """Per message: how many of its outbox rows are in each state (sent, failed, pending)."""
    counts: dict[int, Counter[str]] = {}
    rows = session.execute(
        select(Notification.status, Notification.data).where(
            Notification.incident_id == incident_id, Notification.kind == STAKEHOLDER
        )
    )
    for status, data in rows:
        message_id = (data or {}).get("comms_message_id")
        if isinstance(message_id, int):
            counts.setdefault(message_id, Counter())[status] += 1
    return {k: dict(v) for k, v in counts.items()}


def _compose(
    session: Session, console: Console, incident: Incident, channels: list[str]
) -> dict[str, Any] | None:
    """The preview asked for by ?compose=KIND&compose_lang=ko|en: the rendered text to edit,
    and the channels the policy's routes preselect."""
    kind = console.request.query_params.get("compose", "")
    if kind not in TEMPLATE_KINDS:
        return None
    lang = console.request.query_params.get("compose_lang") or console.locale
    lang = "ko" if lang.startswith("ko") else "en"
    routes = console.policy.communications.routes_for(kind, incident.severity, incident.services)
    chosen = [c for r in routes for c in r.channels if c in channels]
    preview: dict[str, Any] = {
        "kind": kind,
        "locale": lang,
        "channels": list(dict.fromkeys(chosen)),
        "gated": kind in console.policy.communications.approvals.kinds,
        "subject": "",
        "body": "",
        "error": "",
    }
    try:
        context = templates.context_for(session, console.policy, incident, lang, now=console.now())
        rendered = templates.render(session, console.policy, kind, context, lang)
        preview["subject"], preview["body"] = rendered.subject, rendered.body
    except HaetaeError as exc:
        preview["error"] = exc.message
    return preview


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction."""
    messages = list(
        session.scalars(
            select(CommsMessage)
            .where(CommsMessage.incident_id == incident.id)
            .order_by(CommsMessage.created_at.desc(), CommsMessage.id.desc())
            .limit(SHOWN)
        )
    )
    channels = list(
        session.scalars(
            select(CommsChannel.slug)
            .where(CommsChannel.enabled.is_(True))
            .order_by(CommsChannel.slug)
        )
    )
    user_id = session.scalar(select(User.id).where(User.username == console.actor))
    return {
        "comms": {
            "messages": messages,
            "delivery": _delivery(session, incident.id),
            "kinds": TEMPLATE_KINDS,
            "channels": channels,
            "compose": _compose(session, console, incident, channels),
            "can_follow": user_id is not None,
            "following": user_id is not None and follows.is_following(session, user_id, incident),
        }
    }
