"""External contacts kept by config as code, and manual escalation ("page now"): paging a
person, a team, a schedule's on-call or an external contact about an incident, through the
outbox, with seed 000's external support and business escalation messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import wakeup
from haetae.auth.models import User
from haetae.contacts.models import CONTACT_KINDS, CONTACT_LANGUAGES, ExternalContact
from haetae.contacts.queries import find_contact, methods_of
from haetae.errors import HaetaeError
from haetae.incidents import lifecycle, roles
from haetae.incidents.models import Incident
from haetae.notify import delivery, outbox
from haetae.notify.models import ActionLink
from haetae.notify.rows import insert_new, new_row
from haetae.oncall import service as oncall
from haetae.people.models import ContactMethod, Service, Team, TeamMember
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline
from haetae.timeline.models import TimelineEvent

MESSAGE_TYPES = ("page", "external_support", "business")
# The outbox kind of each message type (notify/templates/*/KIND.txt).
NOTIFICATION_KIND = {
    "page": "manual_page",
    "external_support": "external_support",
    "business": "business",
}
TARGET_KINDS = ("user", "team", "schedule", "contact")
# A second click on the same target, type and note within this long pages nobody again.
REPEAT_WINDOW = timedelta(seconds=10)


@dataclass(frozen=True)
class EscalationTarget:
    kind: str  # user | team | schedule | contact
    name: str  # a username or a slug


@dataclass
class Escalation:
    incident_id: str
    target: EscalationTarget
    message_type: str
    note: str
    recipients: list[str] = field(default_factory=list)
    queued: int = 0
    duplicate: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """One of an external contact's contact methods, as config as code gives it."""

    name: str
    url: str
    enabled: bool = True
    kind: str | None = None


# Config as code.


def put_contact(
    session: Session,
    *,
    slug: str,
    name: str,
    kind: str,
    support_plan: str,
    sla_tier: str,
    notes: str,
    enabled: bool,
    language: str,
    methods: list[MethodSpec] | None,
    now: datetime,
) -> ExternalContact:
    """Create or update an external contact; with `methods`, its contact methods become
    exactly those (matched by name, so a kept method keeps its throttle and history)."""
    if kind not in CONTACT_KINDS:
        raise HaetaeError("VALIDATION_ERROR", f"kind must be one of {CONTACT_KINDS}", field="kind")
    if language not in CONTACT_LANGUAGES:
        raise HaetaeError("VALIDATION_ERROR", "language must be en or ko", field="language")
    contact = find_contact(session, slug)
    if contact is None:
        contact = ExternalContact(slug=slug, created_at=now, updated_at=now)
        session.add(contact)
    values = {
        "name": name,
        "kind": kind,
        "support_plan": support_plan,
        "sla_tier": sla_tier,
        "notes": notes,
        "enabled": enabled,
        "language": language,
    }
    if any(getattr(contact, k, None) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(contact, key, value)
        contact.updated_at = now
    session.flush()
    if methods is not None:
        existing = {m.name: m for m in methods_of(session, [contact.id]).get(contact.id, [])}
        for position, spec in enumerate(methods):
            # The `kind` column as a person's: the mark given, else the URL's scheme.
            marked = spec.kind or delivery.check_url(spec.url)
            method = existing.pop(spec.name, None)
            if method is None:
                session.add(
                    ContactMethod(
                        user_id=None,
                        external_contact_id=contact.id,
                        name=spec.name,
                        kind=marked,
                        url=spec.url,
                        position=position,
                        enabled=spec.enabled,
                        created_at=now,
                    )
                )
            else:
                method.url, method.kind = spec.url, marked
                method.position, method.enabled = position, spec.enabled
        for gone in existing.values():
            session.delete(gone)
        session.flush()
    return contact


def delete_contact(session: Session, contact: ExternalContact) -> None:
    for method in methods_of(session, [contact.id]).get(contact.id, []):
        session.delete(method)
    session.flush()  # the methods first: no relationship tells the ORM the order
    session.delete(contact)
    session.flush()


# Page now.


def _users_of(
    session: Session, target: EscalationTarget, *, now: datetime
) -> tuple[list[User], bool]:
    """The active users a user, team or schedule target names now, and whether the target
    exists at all. A team's: the current primary on-call of the schedules of the services it
    owns, when any of them has one; else every member."""
    if target.kind == "user":
        user = session.scalars(select(User).where(User.username == target.name)).first()
        return ([user] if user is not None and user.active else []), user is not None
    if target.kind == "schedule":
        schedule = oncall.schedule_by_slug(session, target.name)
        if schedule is None:
            return [], False
        found = oncall.on_call(session, schedule.id, at=now)
    else:
        team_id = session.scalar(select(Team.id).where(Team.slug == target.name))
        if team_id is None:
            return [], False
        schedule_ids = [
            s
            for s in session.scalars(
                select(Service.schedule_id).where(Service.team_id == team_id).order_by(Service.id)
            )
            if s is not None
        ]
        found = []
        for schedule_id in dict.fromkeys(schedule_ids):
            found += oncall.on_call(session, schedule_id, at=now)
        if not [u for u in found if u.active]:
            found = list(
                session.scalars(
                    select(User)
                    .join(TeamMember, TeamMember.user_id == User.id)
                    .where(TeamMember.team_id == team_id)
                    .order_by(User.username)
                )
            )
    return [u for u in dict.fromkeys(found) if u.active], True


def _repeat_of(
    session: Session, incident_id: str, signature: dict[str, str], *, now: datetime
) -> TimelineEvent | None:
    """The same escalation made within REPEAT_WINDOW (a double click), if any."""
    recent = session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id,
            TimelineEvent.kind == "manual_escalation",
            TimelineEvent.at >= now - REPEAT_WINDOW,
        )
    )
    for event in recent:
        data = event.data or {}
        if all(data.get(k) == v for k, v in signature.items()):
            return event
    return None


def page_now(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    target: EscalationTarget,
    message_type: str,
    note: str,
    by: str,
    now: datetime,
) -> Escalation:
    """Queue the message to everyone the target names, record it on the timeline, and say
    who it goes to. Refused for a closed incident (ESCALATION_INCIDENT_CLOSED), an unknown
    target (ESCALATION_TARGET_NOT_FOUND) and one nobody can be reached through
    (ESCALATION_TARGET_UNREACHABLE). A repeat within REPEAT_WINDOW queues nothing."""
    if message_type not in MESSAGE_TYPES:
        raise HaetaeError(
            "VALIDATION_ERROR", f"type must be one of {', '.join(MESSAGE_TYPES)}", field="type"
        )
    if target.kind not in TARGET_KINDS:
        raise HaetaeError(
            "VALIDATION_ERROR", f"target must be one of {', '.join(TARGET_KINDS)}", field="target"
        )
    if incident.status not in lifecycle.ACTIVE:
        raise HaetaeError(
            "ESCALATION_INCIDENT_CLOSED",
            f"{incident.id} is {incident.status}: nobody is paged about it any more.",
        )
    note = note.strip()
    result = Escalation(incident.id, target, message_type, note)
    signature = {
        "target_kind": target.kind,
        "target": target.name,
        "message_type": message_type,
        "note": note,
    }
    repeat = _repeat_of(session, incident.id, signature, now=now)
    if repeat is not None:
        result.recipients = list((repeat.data or {}).get("recipients", []))
        result.duplicate = True
        return result
    digest = hashlib.sha256(
        "\0".join([target.kind, target.name, message_type, note]).encode()
    ).hexdigest()[:16]
    # Two requests racing in the same window write the same keys: the outbox keeps one.
    window = int(now.timestamp() // REPEAT_WINDOW.total_seconds())
    key = f"manual:{incident.id}:{digest}:{window}"
    data: dict[str, Any] = {
        "note": note,
        "requested_by": by,
        "ic": roles.current_roles(session, incident.id).get("ic", ""),
        "message_type": message_type,
    }
    kind = NOTIFICATION_KIND[message_type]
    if target.kind == "contact":
        contact = find_contact(session, target.name)
        if contact is None:
            raise _unknown(target)
        methods = [m for m in methods_of(session, [contact.id]).get(contact.id, []) if m.enabled]
        if not contact.enabled or not methods:
            raise _unreachable(target, "it is disabled or has no enabled contact method")
        contact_data = {
            **data,
            "external_contact_id": contact.id,
            "external_contact": contact.slug,
            "recipient": contact.name,
        }
        rows = [
            new_row(
                idem_key=f"{key}:cm{m.id}",
                kind=kind,
                user_id=None,
                contact_method_id=m.id,
                due_at=now,
                now=now,
                incident_id=incident.id,
                cancel_on="resolved",
                data=contact_data,
            )
            for m in methods
        ]
        insert_new(session, rows)
        result.queued = len(rows)
        result.recipients = [contact.name]
    else:
        users, exists = _users_of(session, target, now=now)
        if not exists:
            raise _unknown(target)
        if not users:
            raise _unreachable(target, "nobody active is on call or a member there")
        reached: list[str] = []
        rows = []
        for user, targets in ((u, outbox.targets_for(session, u.id)) for u in users):
            if targets:
                reached.append(user.username)
                rows += outbox.rows_for_user(
                    user.id,
                    targets,
                    kind=kind,
                    idem_key=f"{key}:u{user.id}",
                    now=now,
                    incident_id=incident.id,
                    cancel_on="resolved",
                    data=data,
                )
        if not rows:
            raise _unreachable(target, "none of them has a contact method")
        # A row whose key is there already (a racing double click) is skipped.
        outbox.insert_rows(session, rows)
        result.queued, result.recipients = len(rows), reached
    wakeup.request(session)  # the pages are due now: no waiting for the worker's next poll
    timeline.record(
        session,
        incident.id,
        kind="manual_escalation",
        actor=by,
        at=now,
        summary=f"{by} paged {target.kind} {target.name} ({message_type})"
        + (f": {note}" if note else ""),
        **signature,
        recipients=result.recipients,
        queued=result.queued,
    )
    return result


def _unknown(target: EscalationTarget) -> HaetaeError:
    return HaetaeError(
        "ESCALATION_TARGET_NOT_FOUND",
        f"No {target.kind if target.kind != 'contact' else 'external contact'} "
        f"is named '{target.name}'.",
        field=f"target.{target.kind}",
    )


def _unreachable(target: EscalationTarget, why: str) -> HaetaeError:
    return HaetaeError(
        "ESCALATION_TARGET_UNREACHABLE",
        f"{target.kind} '{target.name}' cannot be paged: {why}.",
        field=f"target.{target.kind}",
    )


# An external contact's acknowledgement.


def acknowledge_by_contact(session: Session, link: ActionLink, *, now: datetime) -> str:
    """Record that the external contact a page's ack link went to has taken it: a timeline
    event only. The incident's own acknowledgement belongs to its responders, so it stays as
    it is. Returns the contact's name."""
    contact = session.get(ExternalContact, link.external_contact_id)
    name = contact.name if contact is not None else "external contact"
    timeline.record(
        session,
        link.incident_id,
        kind="contact_acknowledged",
        actor=f"{name} (link)",
        at=now,
        summary=f"acknowledged by {name}",
        external_contact=contact.slug if contact is not None else None,
        contact_name=name,
    )
    return name
