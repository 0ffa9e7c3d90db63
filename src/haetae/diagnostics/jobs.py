"""The diagnostics' worker jobs: running queued checks, the certificate watch, first analyses."""

from __future__ import annotations

from haetae.diagnostics import run_jobs, watch_jobs
from haetae.jobs import Job

JOBS: list[Job] = [*run_jobs.JOBS, *watch_jobs.JOBS]
