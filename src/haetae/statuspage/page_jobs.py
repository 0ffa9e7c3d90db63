"""The status page's jobs: public update reminders to the comms lead, maintenance windows
opening and closing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.incidents import roles
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration
from haetae.statuspage import service
from haetae.statuspage.models import Maintenance, PublicIncident
from haetae.timeline import service as timeline

BATCH = 200
# Who is reminded: the incident's comms lead, else its incident commander.
REMINDED_ROLES = ("comms_lead", "ic")


def remind_public_updates(
    session: Session, policy: Policy, *, now: datetime, limit: int = BATCH
) -> int:
    """Remind the comms lead (else the IC) of each published, unresolved public incident
    whose next update is due, once per due time. Returns how many incidents were reminded."""
    due = list(
        session.scalars(
            select(PublicIncident)
            .where(
                PublicIncident.published_at.is_not(None),
                PublicIncident.status.not_in(("resolved", "postmortem")),
                PublicIncident.incident_id.is_not(None),
                PublicIncident.next_update_due <= now,
                or_(
                    PublicIncident.reminded_for.is_(None),
                    PublicIncident.reminded_for != PublicIncident.next_update_due,
                ),
            )
            .order_by(PublicIncident.next_update_due, PublicIncident.id)
            .limit(limit)
        )
    )
    every = parse_duration(policy.communications.status_page.update_every)
    reminded = 0
    for public in due:
        due_at = public.next_update_due
        assert due_at is not None and public.incident_id is not None
        # Claimed by moving reminded_for only if it is still what was read: two workers never
        # both remind for one due time.
        claimed = session.execute(
            update(PublicIncident)
            .where(
                PublicIncident.id == public.id,
                PublicIncident.next_update_due == due_at,
                or_(
                    PublicIncident.reminded_for.is_(None),
                    PublicIncident.reminded_for != due_at,
                ),
            )
            .values(reminded_for=due_at)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], claimed).rowcount == 0:
            continue
        holders = roles.current_roles(session, public.incident_id)
        username = next((holders[r] for r in REMINDED_ROLES if r in holders), None)
        user_id = (
            session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))
            if username
            else None
        )
        queued = None
        if user_id is not None:
            queued = outbox.notify_user(
                session,
                user_id,
                kind="public_update_reminder",
                idem_key=f"public-reminder:{public.code}:{due_at.isoformat()}:u{user_id}",
                incident_id=public.incident_id,
                cancel_on="resolved",
                now=now,
                data={
                    "code": public.code,
                    "title": public.title,
                    "public_status": public.status,
                    "minutes": int(every.total_seconds() // 60),
                    "late_minutes": int((now - due_at).total_seconds() // 60),
                },
                first_method_only=True,
            )
        timeline.record(
            session,
            public.incident_id,
            kind="public_update_reminder",
            actor="haetae",
            at=now,
            summary=(
                f"public update due for {public.code}; reminded {username}"
                if queued is not None
                else f"public update due for {public.code}; nobody to remind"
            ),
            public_incident=public.code,
            due_at=due_at.isoformat(),
            user=username if queued is not None else None,
        )
        reminded += 1
    return reminded


def run_maintenance_windows(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Start the windows whose time has come (components under maintenance) and complete
    those that have ended (components back). Returns how many windows moved."""
    moved = 0
    starting = session.scalars(
        select(Maintenance)
        .where(
            Maintenance.status == "scheduled",
            Maintenance.scheduled_for <= now,
            Maintenance.scheduled_until > now,
        )
        .order_by(Maintenance.scheduled_for)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    for window in list(starting):
        service.set_maintenance_status(session, window, "in_progress", by="haetae", now=now)
        moved += 1
    ending = session.scalars(
        select(Maintenance)
        .where(
            Maintenance.status.in_(("scheduled", "in_progress", "verifying")),
            Maintenance.scheduled_until <= now,
        )
        .order_by(Maintenance.scheduled_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    for window in list(ending):
        service.set_maintenance_status(session, window, "completed", by="haetae", now=now)
        moved += 1
    return moved


def _anything_due(session: Session, *, now: datetime) -> bool:
    """Read before writing: an idle worker does not take SQLite's write lock every 30 s."""
    reminder = session.scalar(
        select(PublicIncident.id)
        .where(
            PublicIncident.published_at.is_not(None),
            PublicIncident.status.not_in(("resolved", "postmortem")),
            PublicIncident.next_update_due <= now,
            or_(
                PublicIncident.reminded_for.is_(None),
                PublicIncident.reminded_for != PublicIncident.next_update_due,
            ),
        )
        .limit(1)
    )
    window = session.scalar(
        select(Maintenance.id)
        .where(
            or_(
                (Maintenance.status == "scheduled") & (Maintenance.scheduled_for <= now),
                Maintenance.status.in_(("scheduled", "in_progress", "verifying"))
                & (Maintenance.scheduled_until <= now),
            )
        )
        .limit(1)
    )
    return reminder is not None or window is not None


def _reminders(ctx: JobContext) -> int:
    with ctx.session(write=False) as session:
        if not _anything_due(session, now=ctx.now):
            return 0
    with ctx.session() as session:
        return remind_public_updates(session, ctx.policy, now=ctx.now)


def _windows(ctx: JobContext) -> int:
    with ctx.session(write=False) as session:
        if not _anything_due(session, now=ctx.now):
            return 0
    with ctx.session() as session:
        return run_maintenance_windows(session, now=ctx.now)


JOBS: list[Job] = [
    Job("public_update_reminders", _reminders, every=timedelta(seconds=30)),
    Job("maintenance_windows", _windows, every=timedelta(seconds=30)),
]
