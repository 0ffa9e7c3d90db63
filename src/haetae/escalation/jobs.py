"""The escalation domain's background job: run the escalation steps that are due."""

from __future__ import annotations

from haetae.escalation import engine
from haetae.jobs import Job, JobContext

# Due steps per transaction: a slice commits and its pages go to the senders while the
# next slice runs, so a flood of due steps starts paging at once.
STEP_BATCH = 25
# Slices per cycle; then the other jobs get their turn.
STEP_SLICES = 400


def run_due_steps(ctx: JobContext) -> int:
    with ctx.session() as session:
        runs = engine.run_due_steps(
            session, ctx.policy, now=ctx.now, limit=STEP_BATCH, skip_locked=ctx.skip_locked
        )
    return len(runs)


JOBS = [Job("escalation", run_due_steps, batch=STEP_BATCH, max_runs=STEP_SLICES)]
