"""The diagnostics' scheduled jobs: the certificate expiry watch, and completing first analyses."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
