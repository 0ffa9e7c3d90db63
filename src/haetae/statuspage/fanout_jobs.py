"""The subscribers' job: a published update fanned out to subscribers through the outbox in
bundles."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
