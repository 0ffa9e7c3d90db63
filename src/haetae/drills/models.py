"""The drill table. A drill's incident is an ordinary incident with `incidents.drill` set: it
is declared, paged (marked [DRILL] / [훈련]), worked and resolved like any other, and left out
of the real metrics and the status page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class Drill(Base):
    __tablename__ = "drills"
    __table_args__ = (Index("ix_drills_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # shown as DR-001
    kind: Mapped[str] = mapped_column(String(16))  # tabletop | simulation | game_day | chaos
    title: Mapped[str] = mapped_column(String(300))
    scenario: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(32))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    # scheduled | running | ended | canceled
    status: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # completed | kill_switch | max_duration | canceled
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    max_duration_seconds: Mapped[int] = mapped_column(Integer)
    # The drill's incident, once declared.
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
    )
    # The drill's own alert source (an Alertmanager integration) its synthetic alerts use.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), nullable=True
    )
    # The synthetic alerts to send through the ingest path: [{"labels", "annotations",
    # "after_seconds"}]; injected_at once sent.
    inject: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    injected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Seed 001 8.2's chaos experiment template: name, hypothesis, target, fault_type,
    # kill_switch, success_criteria (max duration is max_duration_seconds).
    chaos: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The scorecard's targets in seconds: {"detect", "escalate", "recover"}.
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What people judge (seed 001 8.3): communication, runbook accuracy, notes per row.
    scorecard: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assessment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DrillCounter(Base):
    """The last DR- number used, so numbers stay unique under concurrent creates."""

    __tablename__ = "drill_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
