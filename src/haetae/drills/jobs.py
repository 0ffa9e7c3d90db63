"""The drills' worker jobs: declare scheduled drills, inject their alerts, end overrunning ones."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import Select, select

from haetae.drills import injection, service
from haetae.drills.models import Drill
from haetae.jobs import Job, JobContext

log = logging.getLogger(__name__)
BATCH = 20
ACTOR = "haetae:drills"


def _locked(ctx: JobContext, query: Select[Drill]) -> Select[Drill]:
    # Several workers on PostgreSQL: a drill another worker holds is left to it; the status
    # is checked again under the lock, so a drill never starts or ends twice.
    return query.with_for_update(skip_locked=ctx.skip_locked)


def start_due(ctx: JobContext) -> int:
    """Start every scheduled drill whose time has come."""
    with ctx.session() as session:
        due = session.scalars(
            _locked(
                ctx,
                select(Drill)
                .where(Drill.status == "scheduled", Drill.scheduled_at <= ctx.now)
                .order_by(Drill.scheduled_at, Drill.id)
                .limit(BATCH),
            )
        )
        started = 0
        for drill in due:
            service.start_drill(session, ctx.policy, drill, by=ACTOR, now=ctx.now)
            started += 1
        return started


def end_overrunning(ctx: JobContext) -> int:
    """The safety limit: a drill running past its max_duration is ended as the kill switch
    ends it (end_reason max_duration)."""
    with ctx.session() as session:
        ended = 0
        for drill in service.overrunning(session, now=ctx.now, limit=BATCH):
            locked = session.scalars(
                _locked(ctx, select(Drill).where(Drill.id == drill.id))
            ).first()
            if locked is None or locked.status != "running":
                continue
            service.end_drill(
                session, ctx.policy, locked, by=ACTOR, now=ctx.now, reason="max_duration"
            )
            ended += 1
        return ended


def inject_due(ctx: JobContext) -> int:
    """Send each running drill's due synthetic alerts through Haetae's own ingest path: marked
    sent and the token rotated in one transaction, posted after it commits, given back to the
    next pass if the post fails."""
    if not ctx.public_url:
        return 0
    with ctx.session() as session:
        running = session.scalars(
            _locked(
                ctx,
                select(Drill)
                .where(Drill.status == "running", Drill.integration_id.is_not(None))
                .order_by(Drill.started_at, Drill.id)
                .limit(BATCH),
            )
        )
        taken = [
            one
            for drill in running
            if (one := injection.take_due(session, drill, code=service.code(drill), now=ctx.now))
        ]
    sent = 0
    for one in taken:
        try:
            status = injection.post(ctx.public_url, one)
        except httpx.HTTPError as exc:
            log.warning("drill %s: injecting its alerts failed: %s", one.drill_code, exc)
            status = 0
        if 200 <= status < 300:
            sent += len(one.indexes)
            continue
        log.warning("drill %s: ingest answered %s; retried next pass", one.drill_code, status)
        with ctx.session() as session:
            injection.give_back(session, one, now=ctx.now)
    return sent


def run(ctx: JobContext) -> int:
    return end_overrunning(ctx) + start_due(ctx) + inject_due(ctx)


JOBS: list[Job] = [Job("drills", run, timeout=20.0)]
