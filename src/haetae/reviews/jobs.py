"""The reviews' worker jobs: the weekly and monthly review reports on the policy's schedule."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
