"""The incidents domain's background job: remind whoever owes a status update that it is
overdue (seed 004: every 15/30/60 minutes by severity, or the policy's cadence)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident, RoleAssignment
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

BATCH = 500


def remind_updates(
    session: Session, policy: Policy, *, now: datetime, limit: int, skip_locked: bool
) -> int:
    """One reminder per missed update, to the IC, or else to whoever was paged."""
    query = (
        select(Incident)
        .where(
            Incident.status.in_(lifecycle.ACTIVE),
            Incident.next_update_due.is_not(None),
            Incident.next_update_due <= now,
        )
        .order_by(Incident.next_update_due)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    sent = 0
    for incident in session.scalars(query):
        due = incident.next_update_due
        if due is None or incident.update_reminded_for == due:
            continue
        incident.update_reminded_for = due
        users = _update_owners(session, incident)
        for user_id in users:
            outbox.notify_user(
                session,
                user_id,
                kind="update_reminder",
                idem_key=f"update:{incident.id}:{due.timestamp():.0f}:u{user_id}",
                incident_id=incident.id,
                cancel_on="resolved",
                now=now,
                data={"due_at": due.isoformat()},
                first_method_only=True,
            )
        timeline.record(
            session,
            incident.id,
            kind="update_reminder",
            actor="haetae",
            at=now,
            summary="Status update overdue since "
            f"{due.astimezone(policy.zone):%H:%M}; reminded {len(users)} people",
            due_at=due.isoformat(),
            users=users,
        )
        sent += 1
    return sent


def _update_owners(session: Session, incident: Incident) -> list[int]:
    ic = session.scalar(
        select(User.id)
        .join(RoleAssignment, RoleAssignment.assignee == User.username)
        .where(
            RoleAssignment.incident_id == incident.id,
            RoleAssignment.role == "ic",
            RoleAssignment.ended_at.is_(None),
        )
    )
    return [ic] if ic is not None else outbox.paged_users(session, incident.id)


def _remind(ctx: JobContext) -> int:
    with ctx.session() as session:
        return remind_updates(
            session, ctx.policy, now=ctx.now, limit=BATCH, skip_locked=ctx.skip_locked
        )


JOBS = [Job("reminders", _remind)]
