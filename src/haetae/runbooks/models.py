"""Runbooks on incidents: which runbook is attached to which incident (a snapshot of it as it
was when attached, so that editing the file never rewrites an incident's record), each step's
progress, and whether the runbook worked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

RUNBOOK_STEP_STATUSES = ("pending", "done", "skipped")
# Runbook accuracy (seed 001 8.3, for post-mortems and drill scorecards): did the steps work?
RUNBOOK_ACCURACY = ("worked", "partly", "failed")


class IncidentRunbook(Base):
    __tablename__ = "incident_runbooks"
    __table_args__ = (UniqueConstraint("incident_id", "runbook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    runbook_id: Mapped[str] = mapped_column(String(100))
    # The runbook as attached (runbooks.schema.Runbook dumped), and the file's digest then.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    # auto: matched on declaration (with what matched in `matched_by`); manual: by a person.
    how: Mapped[str] = mapped_column(String(16))
    matched_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    attached_by: Mapped[str] = mapped_column(String(200))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accuracy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    accuracy_note: Mapped[str] = mapped_column(Text, default="")
    accuracy_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    accuracy_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunbookStep(Base):
    """One step's progress. No row: the step is pending."""

    __tablename__ = "incident_runbook_steps"
    __table_args__ = (UniqueConstraint("incident_runbook_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_runbook_id: Mapped[int] = mapped_column(
        ForeignKey("incident_runbooks.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class IncidentIntake(Base):
    """An incident the response intake has seen (runbooks matched, first analysis asked for,
    checklists set): the worker's job handles each new incident once."""

    __tablename__ = "incident_intake"

    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
