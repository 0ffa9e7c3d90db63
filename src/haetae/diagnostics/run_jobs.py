"""The job that runs queued diagnostics, many at once, off the worker's main loop."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
