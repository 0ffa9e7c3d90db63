"""The on-call domain's background job: tell the incoming and outgoing on-call of each
hand-off (seed 001: write the hand-over checklist at every on-call change)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.oncall import service as oncall

HANDOFF_LOOKBACK = timedelta(minutes=10)


def recent_handoffs(session: Session, *, now: datetime) -> list[oncall.ShiftChange]:
    """The hand-offs of the last few minutes (a read of every schedule: the worker does it
    in a read-only transaction, so that SQLite's one writer is not held meanwhile)."""
    return oncall.shift_changes(session, start=now - HANDOFF_LOOKBACK, end=now)


def notify_handoffs(
    session: Session, *, now: datetime, changes: list[oncall.ShiftChange] | None = None
) -> int:
    """Tell the incoming and outgoing on-call of each hand-off in the last few minutes
    (`changes`, or read now); the idempotency key makes a second look at the same
    hand-off send nothing."""
    queued = 0
    if changes is None:
        changes = recent_handoffs(session, now=now)
    for change in changes:
        for user_id in {change.from_user_id, change.to_user_id} - {None}:
            assert user_id is not None
            new = outbox.notify_user(
                session,
                user_id,
                kind="handoff",
                idem_key=f"handoff:{change.schedule_id}:{change.layer}:"
                f"{change.at.timestamp():.0f}:u{user_id}",
                now=now,
                data={
                    "schedule_id": change.schedule_id,
                    "layer": change.layer,
                    "at": change.at.isoformat(),
                    "from_user_id": change.from_user_id,
                    "to_user_id": change.to_user_id,
                },
                first_method_only=True,
            )
            queued += new or 0
    return queued


def _handoffs(ctx: JobContext) -> int:
    with ctx.session(write=False) as session:
        changes = recent_handoffs(session, now=ctx.now)
    if not changes:
        return 0
    with ctx.session() as session:
        return notify_handoffs(session, now=ctx.now, changes=changes)


# Every schedule's shifts are read: in a thread of its own, twice a minute (a hand-off is
# looked for over the last HANDOFF_LOOKBACK, so a late look still finds it).
JOBS = [Job("handoffs", _handoffs, every=timedelta(seconds=30), apart=True, timeout=60.0)]
