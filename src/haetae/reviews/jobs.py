"""The reviews' worker job: on the policy's `reviews.weekly` and `reviews.monthly` schedule,
build the report of the period just ended (once) and queue it to the recipients (once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.jobs import Job, JobContext
from haetae.policy.schema import Policy
from haetae.reviews import build, service
from haetae.reviews.models import ReviewReport
from haetae.reviews.periods import KINDS, Kind, Period, last_due, last_full

# A worker that was down over the schedule's moment still builds and sends the report when it
# is back within this long; a new installation does not send an old one.
CATCH_UP = timedelta(days=3)


def due_periods(policy: Policy, *, now: datetime) -> list[Period]:
    """The periods whose report the schedule asks for now (enabled, its moment passed within
    CATCH_UP): the period that had just ended at that moment."""
    found = []
    for kind in KINDS:
        schedule = getattr(policy.reviews, kind)
        if not schedule.enabled:
            continue
        due = last_due(kind, schedule, now, policy.zone)
        if now - due <= CATCH_UP:
            found.append(last_full(kind, due, policy.zone))
    return found


def _sent(session: Session, kind: Kind, period: Period) -> bool:
    return (
        session.scalar(
            select(ReviewReport.id).where(
                ReviewReport.kind == kind,
                ReviewReport.period_start == period.first,
                ReviewReport.sent_at.is_not(None),
            )
        )
        is not None
    )


def deliver(
    session: Session,
    policy: Policy,
    period: Period,
    *,
    now: datetime,
    data: dict[str, object] | None = None,
    skip_locked: bool = False,
) -> bool:
    """Keep the period's report (built from `data`, or the one kept already) and queue it to
    the recipients, unless it was sent already: the row is locked and sent_at decided on it,
    so a second worker or a second run sends nothing. True when it was queued now."""
    report = service.find(session, period.kind, period.first)
    if report is None:
        report = service.keep(
            session,
            period,
            dict(data) if data is not None else build.gather(session, policy, period, now=now),
            by=service.SYSTEM,
            now=now,
        )
    query = select(ReviewReport).where(ReviewReport.id == report.id)
    locked = session.scalars(
        query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    ).one_or_none()
    if locked is None or locked.sent_at is not None:
        return False
    service.send(session, policy, locked, now=now)
    return True


def _reviews(ctx: JobContext) -> int:
    done = 0
    for period in due_periods(ctx.policy, now=ctx.now):
        # The figures are read in a read-only transaction (SQLite's one writer is not held
        # while they are counted); the report is kept and queued in a short write.
        with ctx.session(write=False) as session:
            if _sent(session, period.kind, period):
                continue
            kept = service.find(session, period.kind, period.first)
            data = None if kept else build.gather(session, ctx.policy, period, now=ctx.now)
        with ctx.session() as session:
            sent = deliver(
                session, ctx.policy, period, now=ctx.now, data=data, skip_locked=ctx.skip_locked
            )
            done += int(sent)
    return done


# A review is due once a week or month: a look a minute is soon enough, and most looks read
# one indexed row per kind.
JOBS = [Job("review_reports", _reviews, every=timedelta(minutes=1), timeout=60.0)]
