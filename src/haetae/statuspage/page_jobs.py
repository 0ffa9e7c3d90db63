"""The status page's jobs: public update reminders to the comms lead, maintenance windows
opening and closing."""

from __future__ import annotations

from haetae.jobs import Job

JOBS: list[Job] = []
