"""The communications' worker jobs: the management summary on the policy's cadence."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
