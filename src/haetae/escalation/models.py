"""Escalation policies made through the API or `haetae apply`, and each incident's
escalation state: a durable timer row per (incident, policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

ESCALATION_STATUSES = ("active", "done", "stopped")


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The spec as `escalation.spec.EscalationPolicySpec` dumps it: stop_on, repeat, steps.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Escalation(Base):
    """One policy running for one incident. The policy is copied in when the incident
    starts so that editing it later does not change an escalation under way."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("incident_id", "policy_slug"),
        Index("ix_escalations_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    policy_slug: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # the snapshot
    stop_on: Mapped[str] = mapped_column(String(16))  # acknowledged | resolved
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    loop_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
