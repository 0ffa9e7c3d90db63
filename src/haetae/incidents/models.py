"""Incident tables: the incident, its roles, updates, notes, decisions and condition checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


def _incident_fk() -> Any:
    return ForeignKey("incidents.id", ondelete="CASCADE")


class Incident(Base):
    __tablename__ = "incidents"
    # The list reads newest first (declared_at, id); each filter has an index led by the
    # filtered columns and ordered by that key, so a page is read from the index in order.
    __table_args__ = (
        Index("ix_incidents_declared", "declared_at", "id"),
        Index("ix_incidents_status_declared", "status", "declared_at", "id"),
        Index("ix_incidents_severity_declared", "severity", "declared_at", "id"),
        Index("ix_incidents_status_severity_declared", "status", "severity", "declared_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(32))
    severity_source: Mapped[str] = mapped_column(String(16))  # matrix | explicit
    severity_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    environment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    impact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    business_impact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_impact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    complexity: Mapped[int] = mapped_column(Integer, default=1)
    priority_score: Mapped[float] = mapped_column(Float)
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The next_update_due a reminder was sent for: one reminder per missed update.
    update_reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # How it was resolved, in the resolver's words (seed 000's "해결 방법"); None until then.
    resolution_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The earlier incident this one is a recurrence of (the case library; the recurrence rate).
    recurrence_of: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # A drill's incident (drills/): paged with the drill mark, left out of the real metrics and
    # the status page.
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The version of the affected service that was running (seed 004), as responders or the
    # change feed name it; None when unknown.
    affected_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentService(Base):
    """One of an incident's services, lowercased: the list's service filter reads this
    instead of the JSON list. declared_at is copied (it never changes) so the index is in
    the list's order."""

    __tablename__ = "incident_services"
    __table_args__ = (
        Index("ix_incident_services_service_declared", "service", "declared_at", "incident_id"),
    )

    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk(), primary_key=True)
    service: Mapped[str] = mapped_column(String(200), primary_key=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentTag(Base):
    """One of an incident's tags, lowercased, for the list's tag filter (as IncidentService)."""

    __tablename__ = "incident_tags"
    __table_args__ = (Index("ix_incident_tags_tag_declared", "tag", "declared_at", "incident_id"),)

    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk(), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentCounter(Base):
    """The last sequence number used per day, so IDs stay unique under concurrent declares."""

    __tablename__ = "incident_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (Index("ix_role_assignments_incident", "incident_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk())
    role: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str] = mapped_column(String(200))
    assigned_by: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StatusUpdate(Base):
    __tablename__ = "status_updates"
    __table_args__ = (Index("ix_status_updates_incident", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk())
    situation: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[str] = mapped_column(Text, default="")
    eta: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Seed 002's "Next Steps", and the fields a severity's seed report asks for
    # (communications.required_fields: customer_impact, workaround, mitigation_eta, ...).
    next_steps: Mapped[str] = mapped_column(Text, default="", server_default="")
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Note(Base):
    """A free-text note, or evidence (a link to logs, a graph, a ticket)."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_incident", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk())
    kind: Mapped[str] = mapped_column(String(16))  # note | evidence
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_incident", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk())
    kind: Mapped[str] = mapped_column(String(16))  # technical | operational
    decision: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConditionCheck(Base):
    """A responder's confirmation of one of the policy's manual resolution conditions."""

    __tablename__ = "condition_checks"
    __table_args__ = (UniqueConstraint("incident_id", "condition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(32), _incident_fk())
    condition_id: Mapped[str] = mapped_column(String(64))
    checked_by: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
