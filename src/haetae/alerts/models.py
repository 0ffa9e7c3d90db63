"""Integrations (who may send alerts), alerts, alert groups and API-managed routing rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

# `changes`: a CI/CD sender of the change feed (changes/), refused on the alert paths.
INTEGRATION_TYPES = ("alertmanager", "grafana", "pagerduty", "generic", "changes")
ALERT_STATUSES = ("firing", "acknowledged", "resolved")


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertGroup(Base):
    """Alerts that belong together, and the incident they open or joined."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the parts
    description: Mapped[str] = mapped_column(String(1000))
    rule: Mapped[str] = mapped_column(String(100))
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id"), nullable=True, index=True
    )
    on_resolve: Mapped[str] = mapped_column(String(16))
    flap_window_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """One alert as its sender identifies it (fingerprint or dedup key) while it is open.

    `open_key` is the dedup key while the alert is firing or acknowledged and NULL once
    resolved: the unique constraint on it lets only one open alert exist per key, and a
    later trigger with the same key opens a new alert, as PagerDuty does.
    """

    __tablename__ = "alerts"
    # The list reads newest first (received_at, id); each filter has an index led by the
    # filtered column and ordered by that key, so a page is read from the index in order.
    __table_args__ = (
        UniqueConstraint("integration_id", "open_key"),
        Index("ix_alerts_received", "received_at", "id"),
        Index("ix_alerts_integration_received", "integration_id", "received_at", "id"),
        Index("ix_alerts_status_received", "status", "received_at", "id"),
        Index("ix_alerts_severity_received", "severity", "received_at", "id"),
        Index("ix_alerts_dedup_received", "dedup_key", "received_at", "id"),
        Index("ix_alerts_incident_received", "incident_id", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(1024))
    details: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sender_severity: Mapped[str | None] = mapped_column(String(64), nullable=True)
    severity: Mapped[str | None] = mapped_column(String(32), nullable=True)
    service: Mapped[str | None] = mapped_column(String(200), nullable=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    generator_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    receipts: Mapped[int] = mapped_column(Integer, default=1)
    # Digest of the payload last stored: a repeat that sends the same content again (the
    # usual case: HA peers, repeat_interval) only bumps last_received_at and receipts.
    content_hash: Mapped[str] = mapped_column(String(32), default="")
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id"), nullable=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RoutingRule(Base):
    """A routing rule managed through the API; tried before the policy file's rules."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
