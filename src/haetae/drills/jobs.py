"""The drills' worker jobs: declare scheduled drills, inject their alerts, end overrunning ones."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
