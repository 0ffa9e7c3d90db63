"""The notify domain's background job: take back sends whose worker died mid-send."""

from __future__ import annotations

from haetae.jobs import Job, JobContext
from haetae.notify import outbox


def _reclaim(ctx: JobContext) -> int:
    with ctx.session() as session:
        return outbox.reclaim_expired(session, now=ctx.now, skip_locked=ctx.skip_locked)


JOBS = [Job("reclaim", _reclaim)]
