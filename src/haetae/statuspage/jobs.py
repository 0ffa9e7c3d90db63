"""The status page's worker jobs: reminders and maintenance windows, and the fan-out to
subscribers."""

from __future__ import annotations

from haetae.jobs import Job
from haetae.statuspage import fanout_jobs, page_jobs

JOBS: list[Job] = [*page_jobs.JOBS, *fanout_jobs.JOBS]
