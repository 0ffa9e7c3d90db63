"""The runbooks' worker job: the intake of new incidents (attach matched runbooks, ask for the
first analysis)."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
