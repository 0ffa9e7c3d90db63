"""Messages to stakeholders: written from a template (or given), routed by the policy to
channels and followers, and sent through the outbox in the transaction that made them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haetae import wakeup
from haetae.auth.models import User
from haetae.comms import templates
from haetae.comms.models import CommsChannel, CommsMessage, Follow
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.notify.models import Notification
from haetae.notify.rows import insert_new, new_row
from haetae.people.models import ContactMethod, Team, TeamMember
from haetae.policy.communications import EVENT_KINDS, TEMPLATE_KINDS
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

# The outbox kind of a message to stakeholders (notify/models.py NOTIFICATION_KINDS).
NOTIFICATION_KIND = "stakeholder"
# Who follows an incident or a service gets these (the others go to channels only).
FOLLOWED_KINDS = ("update", "resolution")
# The author of what Haetae sends by itself.
AUTOMATIC = "haetae"
DEFAULT_LOCALE = "ko"


def language(locale: str | None) -> str:
    """The template language of a user's or channel's locale: Korean or English."""
    return "ko" if (locale or "").lower().startswith("ko") else "en"


# Automatic messages


def on_event(
    session: Session,
    policy: Policy,
    incident: Incident,
    event: str,
    *,
    source: str,
    now: datetime,
) -> CommsMessage | None:
    """A declaration, posted update, severity change or resolution: a message of that kind to
    the channels the policy's routes name for the incident (a drill's only where the route
    says `drills: true`), and for updates and resolutions to whoever follows it. Nothing when
    no route names an existing channel and nobody follows: no message, no timeline entry."""
    routes = policy.communications.routes_for(event, incident.severity, incident.services or [])
    if incident.drill:
        routes = [r for r in routes if r.drills]
    slugs = list(dict.fromkeys(slug for r in routes for slug in r.channels))
    existing = _enabled_slugs(session, slugs) if slugs else []
    followed = event in FOLLOWED_KINDS and bool(_followers(session, incident))
    if not existing and not followed:
        return None
    return _create(
        session,
        policy,
        incident,
        event,
        channels=existing,
        by=AUTOMATIC,
        now=now,
        source=source,
        routed=True,
    )


# Messages


def create_message(
    session: Session,
    policy: Policy,
    incident: Incident | None,
    kind: str,
    *,
    channels: list[str] | None,
    by: str,
    now: datetime,
    subject: str | None = None,
    body: str | None = None,
    locale: str | None = None,
    source: str = "",
) -> CommsMessage:
    """A message of `kind`, rendered from its template unless subject and body are given,
    to `channels` (None: the policy's routes for the kind, severity and services). It waits
    for approval when the policy's approvals name the kind, else it is queued at once. A
    `source` already used for this incident and kind returns that message: nothing twice."""
    if kind not in (*TEMPLATE_KINDS, *EVENT_KINDS):
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"kind must be one of {', '.join((*TEMPLATE_KINDS, *EVENT_KINDS))}",
            field="kind",
        )
    routed = channels is None
    if channels is None:
        if incident is None:
            raise HaetaeError(
                "NO_CHANNELS", "A message about no incident needs its channels named."
            )
        routes = policy.communications.routes_for(kind, incident.severity, incident.services)
        if incident.drill:
            routes = [r for r in routes if r.drills]
        channels = _enabled_slugs(session, [s for r in routes for s in r.channels])
    else:
        channels = list(dict.fromkeys(channels))
        known = set(_enabled_slugs(session, channels))
        unknown = [c for c in channels if c not in known]
        if unknown:
            raise HaetaeError(
                "UNKNOWN_CHANNEL",
                f"No enabled channel has the slug {', '.join(repr(c) for c in unknown)}.",
                channels=unknown,
            )
    if not channels and not (kind in FOLLOWED_KINDS and incident and _followers(session, incident)):
        raise HaetaeError(
            "NO_CHANNELS",
            f"No route of the policy sends '{kind}' messages about this incident to an existing "
            "channel; name the channels.",
            kind=kind,
        )
    return _create(
        session,
        policy,
        incident,
        kind,
        channels=channels,
        by=by,
        now=now,
        subject=subject,
        body=body,
        locale=locale,
        source=source,
        routed=routed,
    )


def _create(
    session: Session,
    policy: Policy,
    incident: Incident | None,
    kind: str,
    *,
    channels: list[str],
    by: str,
    now: datetime,
    subject: str | None = None,
    body: str | None = None,
    locale: str | None = None,
    source: str = "",
    routed: bool = False,
) -> CommsMessage:
    incident_id = incident.id if incident is not None else None
    if source:
        already = session.scalars(
            select(CommsMessage).where(
                CommsMessage.incident_id == incident_id
                if incident_id
                else CommsMessage.incident_id.is_(None),
                CommsMessage.kind == kind,
                CommsMessage.source == source,
            )
        ).first()
        if already is not None:
            return already
    approvals = policy.communications.approvals
    gated = kind in approvals.kinds
    audience = _audience_languages(session, incident, kind, channels)
    lang = language(locale) if locale else (audience[0] if audience else DEFAULT_LOCALE)
    data: dict[str, Any] = {"routed": routed}
    if subject is None or body is None:
        if incident is None:
            raise HaetaeError(
                "VALIDATION_ERROR", "A message about no incident needs its subject and body."
            )
        rendered = _render(session, policy, incident, kind, lang, now=now)
        subject = rendered.subject if subject is None else subject
        body = rendered.body if body is None else body
        if not gated and locale is None:
            # Each channel and follower reads it in their language; an approved text is the
            # one approved, in one language (the approver may have edited it).
            data["texts"] = {
                other: _text(_render(session, policy, incident, kind, other, now=now))
                for other in audience
                if other != lang
            }
    message = CommsMessage(
        incident_id=incident_id,
        kind=kind,
        source=source,
        locale=lang,
        subject=subject[:300],
        body=body,
        channels=channels,
        status="pending_approval" if gated else "draft",
        created_by=by,
        created_at=now,
        approvers=list(approvals.approvers) if gated else [],
        decision_note="",
        data=data,
    )
    session.add(message)
    session.flush()
    if not gated:
        queue_message(session, policy, message, now=now)
    return message


def _render(
    session: Session, policy: Policy, incident: Incident, kind: str, lang: str, *, now: datetime
) -> templates.Rendered:
    context = templates.context_for(session, policy, incident, lang, now=now)
    return templates.render(session, policy, kind, context, lang)


def _text(rendered: templates.Rendered) -> dict[str, str]:
    return {"subject": rendered.subject[:300], "body": rendered.body}


# Sending


@dataclass(frozen=True)
class _Recipient:
    contact_method_id: int
    user_id: int | None
    name: str
    channel: str | None
    drill_ok: bool


def queue_message(session: Session, policy: Policy, message: CommsMessage, *, now: datetime) -> int:
    """Fan the message out through the outbox: one row per contact method (a channel's own,
    each member's first, each follower's first; each contact method once), sent with the
    words it has. The message is then sent; the incident's timeline says to whom. Returns
    the rows queued (a replay queues none: the keys exist)."""
    incident = session.get(Incident, message.incident_id) if message.incident_id else None
    recipients = _recipients(session, policy, message, incident)
    rows = [
        new_row(
            idem_key=f"comms:{message.id}:{r.contact_method_id}",
            kind=NOTIFICATION_KIND,
            user_id=r.user_id,
            contact_method_id=r.contact_method_id,
            due_at=now,
            now=now,
            incident_id=message.incident_id,
            cancel_on="never",
            data={
                "comms_message_id": message.id,
                "recipient": r.name,
                **({"channel": r.channel} if r.channel else {}),
                # Checked again when sent: a drill may be marked after its declaration.
                "drill_ok": r.drill_ok,
            },
        )
        for r in recipients
    ]
    # Counted before the insert: a batch's rowcount is not reliable on every driver.
    already = set(
        session.scalars(
            select(Notification.idem_key).where(
                Notification.idem_key.in_([r["idem_key"] for r in rows])
            )
        )
    )
    rows = [r for r in rows if r["idem_key"] not in already]
    insert_new(session, rows)
    queued = len(rows)
    message.status, message.sent_at = "sent", now
    if queued:
        wakeup.request(session)
    if message.incident_id is not None:
        followers = sorted({r.name for r in recipients if r.channel is None})
        timeline.record(
            session,
            message.incident_id,
            kind="comms_sent",
            actor=message.created_by,
            at=now,
            summary=f"{message.kind} to {', '.join(message.channels) or 'followers'}"
            + (f" and {len(followers)} follower(s)" if followers and message.channels else "")
            + f": {queued} message(s) queued",
            message_id=message.id,
            message_kind=message.kind,
            channels=list(message.channels),
            followers=followers,
            queued=queued,
        )
    return queued


def _recipients(
    session: Session, policy: Policy, message: CommsMessage, incident: Incident | None
) -> list[_Recipient]:
    found: dict[int, _Recipient] = {}
    channels = list(
        session.scalars(
            select(CommsChannel)
            .where(CommsChannel.slug.in_(message.channels), CommsChannel.enabled.is_(True))
            .order_by(CommsChannel.slug)
        )
    )
    routed = bool((message.data or {}).get("routed"))
    for channel in channels:
        drill_ok = not routed or any(
            r.drills and channel.slug in r.channels and message.kind in r.kinds
            for r in policy.communications.routes
        )
        own = session.scalars(
            select(ContactMethod.id)
            .where(ContactMethod.comms_channel_id == channel.id, ContactMethod.enabled.is_(True))
            .order_by(ContactMethod.position, ContactMethod.id)
        )
        for cm_id in own:
            found.setdefault(cm_id, _Recipient(cm_id, None, channel.name, channel.slug, drill_ok))
        for user_id, username, cm_id in _first_methods(session, _member_ids(session, channel)):
            found.setdefault(cm_id, _Recipient(cm_id, user_id, username, channel.slug, drill_ok))
    if incident is not None and message.kind in FOLLOWED_KINDS:
        for user_id, username, cm_id in _first_methods(session, _followers(session, incident)):
            found.setdefault(cm_id, _Recipient(cm_id, user_id, username, None, True))
    return list(found.values())


def _member_ids(session: Session, channel: CommsChannel) -> list[int]:
    """The active users a people channel names: usernames and `team:<slug>` members."""
    names = [m for m in channel.members or [] if not m.startswith("team:")]
    teams = [m.removeprefix("team:") for m in channel.members or [] if m.startswith("team:")]
    ids: list[int] = []
    if names:
        ids += session.scalars(
            select(User.id).where(User.username.in_(names), User.active.is_(True))
        )
    if teams:
        ids += session.scalars(
            select(User.id)
            .join(TeamMember, TeamMember.user_id == User.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.slug.in_(teams), User.active.is_(True))
        )
    return list(dict.fromkeys(ids))


def _followers(session: Session, incident: Incident) -> list[int]:
    """Users following the incident, or (unless it is a drill) one of its services."""
    services = [s.lower() for s in incident.services or []]
    condition = Follow.incident_id == incident.id
    if services and not incident.drill:
        condition = or_(condition, func.lower(Follow.service).in_(services))
    found = session.scalars(
        select(Follow.user_id)
        .join(User, User.id == Follow.user_id)
        .where(condition, User.active.is_(True))
    )
    return list(dict.fromkeys(found))


def _first_methods(session: Session, user_ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(user id, username, first enabled contact method) of each user who has one."""
    ids = list(user_ids)
    if not ids:
        return []
    rows = session.execute(
        select(User.id, User.username, ContactMethod.id)
        .join(ContactMethod, ContactMethod.user_id == User.id)
        .where(User.id.in_(ids), ContactMethod.enabled.is_(True))
        .order_by(User.id, ContactMethod.position, ContactMethod.id)
    ).all()
    first: dict[int, tuple[int, str, int]] = {}
    for user_id, username, cm_id in rows:
        first.setdefault(user_id, (user_id, username, cm_id))
    return list(first.values())


def _enabled_slugs(session: Session, slugs: list[str]) -> list[str]:
    """The slugs of enabled channels among these, in the order given."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    have = set(
        session.scalars(
            select(CommsChannel.slug).where(
                CommsChannel.slug.in_(wanted), CommsChannel.enabled.is_(True)
            )
        )
    )
    return [s for s in wanted if s in have]


def _audience_languages(
    session: Session, incident: Incident | None, kind: str, channels: list[str]
) -> list[str]:
    """The languages the message's recipients read, the first channel's first."""
    langs: list[str] = []
    if channels:
        by_slug = dict(
            session.execute(
                select(CommsChannel.slug, CommsChannel.language).where(
                    CommsChannel.slug.in_(channels)
                )
            ).all()
        )
        langs += [language(by_slug[s]) for s in channels if s in by_slug]
        members = [
            m
            for ch in session.scalars(select(CommsChannel).where(CommsChannel.slug.in_(channels)))
            for m in _member_ids(session, ch)
        ]
    else:
        members = []
    if incident is not None and kind in FOLLOWED_KINDS:
        members += _followers(session, incident)
    if members:
        langs += [
            language(loc)
            for loc in session.scalars(select(User.locale).where(User.id.in_(set(members))))
        ]
    return list(dict.fromkeys(langs))
