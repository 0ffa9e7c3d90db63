"""The checklists' worker job: remind the on-call and the IC about required roles left empty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.checklists import queries
from haetae.checklists.models import RoleReminderSent
from haetae.escalation import recipients
from haetae.incidents import lifecycle, roles
from haetae.incidents.models import Incident
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.policy.escalation import Target
from haetae.policy.schema import Policy
from haetae.policy.terms import localized, parse_duration
from haetae.timeline import service as timeline

BATCH = 500
# The on-call of the incident's services' schedules (or the policy's default schedule), as
# an escalation step's `oncall: primary` means it.
ON_CALL = Target(oncall="primary")


def remind_empty_roles(
    session: Session, policy: Policy, *, now: datetime, limit: int, skip_locked: bool
) -> int:
    """One reminder per incident and empty required role per period: `after` the
    declaration, then every `repeat` while the role stays empty. Returns how many were sent.

    Only once someone has acknowledged the incident: until then escalation is paging, and a
    reminder beside its pages would be noise that also takes the contact method's next free
    moment from them (a SEV-3 that pages nobody is not paged by its reminder either)."""
    setting = policy.response.role_reminder
    if setting.after is None:
        return 0
    after = parse_duration(setting.after)
    repeat = parse_duration(setting.repeat) if setting.repeat else None
    required = {s.id: s.required_roles for s in policy.severities if s.required_roles}
    if not required:
        return 0
    query = (
        select(Incident)
        .where(
            Incident.status.in_(lifecycle.ACTIVE),
            Incident.severity.in_(list(required)),
            Incident.acknowledged_at.is_not(None),
            Incident.declared_at <= now - after,
        )
        .order_by(Incident.declared_at.desc(), Incident.id)
        .limit(limit)
    )
    if skip_locked:
        # Another worker reminding about one of these incidents keeps it until it commits.
        query = query.with_for_update(skip_locked=True)
    incidents = list(session.scalars(query))
    last = queries.reminders(session, [i.id for i in incidents])
    sent = 0
    for incident in incidents:
        holders = roles.current_roles(session, incident.id)
        claimed: list[tuple[str, int]] = []
        for role in required[incident.severity]:
            if role in holders:
                continue
            previous = last.get((incident.id, role))
            if previous is not None and (repeat is None or now < previous.sent_at + repeat):
                continue
            count = _claim(session, incident.id, role, previous, now=now)
            if count is not None:  # else another worker sent this period's reminder
                claimed.append((role, count))
        if claimed:
            # One message per person naming every role due now: two reminders at one moment
            # would only be bundled into a bare "paging you" by the contact method's spacing.
            _remind(session, policy, incident, claimed, holders, now=now)
            sent += 1
    return sent


def _claim(
    session: Session,
    incident_id: str,
    role: str,
    previous: RoleReminderSent | None,
    *,
    now: datetime,
) -> int | None:
    """Take this period's reminder: insert the first row, or move the last one's time on
    only if it is still the time read. The reminder's number, or None if it was taken."""
    if previous is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = cast(Table, RoleReminderSent.__table__)
        statement = (
            insert(table)
            .values(incident_id=incident_id, role_id=role, sent_at=now, count=1)
            .on_conflict_do_nothing(index_elements=["incident_id", "role_id"])
            .returning(table.c.role_id)
        )
        # RETURNING, not rowcount: psycopg's rowcount of a skipped insert is not reliable.
        return 1 if session.connection().execute(statement).first() is not None else None
    count = previous.count + 1
    moved = session.execute(
        update(RoleReminderSent)
        .where(
            RoleReminderSent.incident_id == incident_id,
            RoleReminderSent.role_id == role,
            RoleReminderSent.sent_at == previous.sent_at,
        )
        .values(sent_at=now, count=count)
        .execution_options(synchronize_session=False)
    )
    return count if cast(CursorResult[Any], moved).rowcount > 0 else None


def _remind(
    session: Session,
    policy: Policy,
    incident: Incident,
    claimed: list[tuple[str, int]],
    holders: dict[str, str],
    *,
    now: datetime,
) -> None:
    """Queue the reminder about the claimed roles to the on-call and the IC (if there is
    one), and say so on the timeline."""
    on_call, _why = recipients.resolve(session, policy, incident, ON_CALL, now=now)
    users = [u.id for u in on_call]
    ic = holders.get("ic")
    if ic is not None:
        ic_id = session.scalar(select(User.id).where(User.username == ic, User.active.is_(True)))
        if ic_id is not None:
            users.append(ic_id)
    users = list(dict.fromkeys(users))
    role_ids = [role for role, _count in claimed]
    names = {lang: [_role_name(policy, role, lang) for role in role_ids] for lang in ("en", "ko")}
    empty_for = int((now - incident.declared_at).total_seconds() // 60)
    period = ",".join(f"{role}{count}" for role, count in claimed)
    reached = []
    for user_id in users:
        queued = outbox.notify_user(
            session,
            user_id,
            kind="role_reminder",
            idem_key=f"role:{incident.id}:{period}:u{user_id}",
            incident_id=incident.id,
            cancel_on="resolved",
            now=now,
            data={"roles": role_ids, "role_names": names, "minutes": empty_for},
            first_method_only=True,
        )
        if queued is not None:
            reached.append(user_id)
    for role, count in claimed:
        timeline.record(
            session,
            incident.id,
            kind="role_reminder",
            actor="haetae",
            at=now,
            summary=f"{_role_name(policy, role, 'en')} still unassigned after {empty_for} min; "
            f"reminded {len(reached)} people",
            role=role,
            minutes=empty_for,
            users=reached,
            count=count,
        )


def _role_name(policy: Policy, role: str, lang: str) -> str:
    definition = policy.role(role)
    return localized(definition.name, lang) if definition is not None else role


def _run(ctx: JobContext) -> int:
    with ctx.session() as session:
        return remind_empty_roles(
            session, ctx.policy, now=ctx.now, limit=BATCH, skip_locked=ctx.skip_locked
        )


JOBS = [Job("role_reminders", _run, every=timedelta(seconds=30))]
