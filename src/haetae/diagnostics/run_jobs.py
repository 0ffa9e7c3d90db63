"""The job that runs queued diagnostics, many at once, off the worker's main loop."""

from __future__ import annotations

from datetime import timedelta

from haetae.diagnostics import runner
from haetae.jobs import Job, JobContext


def run_diagnostics(ctx: JobContext) -> int:
    """Probe the queued runs concurrently; each transaction is bounded by the job's timeout,
    the probes by their own timeouts (outside any transaction)."""
    return runner.run_batch(
        ctx.session,
        now=ctx.now,
        prometheus_url=ctx.prometheus_url,
        concurrency=ctx.diagnostics_concurrency,
        skip_locked=ctx.skip_locked,
        claim_for=runner.CLAIM_FOR_SECONDS,
    )


# apart: a check that hangs to its timeout (up to a minute) must never delay a due page.
JOBS: list[Job] = [
    Job("diagnostics", run_diagnostics, every=timedelta(seconds=0.5), apart=True, timeout=10.0)
]
