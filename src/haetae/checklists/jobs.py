"""The checklists' worker job: remind the on-call and the IC about required roles left empty."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
