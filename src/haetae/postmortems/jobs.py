"""The postmortems domain's background jobs (filled in by issue 11)."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
