"""Diagnostics: the checks an admin configures (per service, by config as code), the
allow-list of what Haetae may probe, each run of a check, the first analysis of an incident,
and the certificate warnings already raised."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

CHECK_KINDS = ("http", "tcp", "dns", "tls", "prometheus")
# queued -> running -> ok | warning | failed | error | timeout; refused never runs (a target
# outside the allow-list).
RUN_STATUSES = ("queued", "running", "ok", "warning", "failed", "error", "timeout", "refused")
RUN_REASONS = ("manual", "runbook_step", "first_analysis", "cert_watch")


class ServiceCheck(Base):
    """A named check, usually of one service: `spec` holds the kind's fields (url,
    expect_status, host, port, query, threshold, ...) as diagnostics.schemas validates them."""

    __tablename__ = "service_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=10.0)
    # The scheduled certificate watch (seed 001 5.5) looks at this tls check.
    watch: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AllowedTarget(Base):
    """One entry of the allow-list: a host name (`*.example.com` for its subdomains), an IP
    or CIDR, optionally with `:port`, or a URL prefix. Nothing outside it is ever probed."""

    __tablename__ = "diagnostic_allow"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(500), unique=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DiagnosticRun(Base):
    __tablename__ = "diagnostic_runs"
    __table_args__ = (
        Index("ix_diagnostic_runs_status", "status", "requested_at"),
        Index("ix_diagnostic_runs_incident", "incident_id", "requested_at"),
        # The certificate watch reads the last day's runs of its own.
        Index("ix_diagnostic_runs_reason_finished", "reason", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True
    )
    analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_analyses.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The configured check it ran (None: a runbook step's own check).
    check_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_checks.id", ondelete="SET NULL"), nullable=True
    )
    # The runbook step that asked for it.
    incident_runbook_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_runbooks.id", ondelete="SET NULL"), nullable=True
    )
    step_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(1000))  # what is probed, as shown
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timeout_seconds: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")  # bounded output, never secrets
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentAnalysis(Base):
    """Seed 002 2.1's automated first analysis of an incident: its checks run, then the report
    (severity assessment, affected components, findings, suggested next actions)."""

    __tablename__ = "incident_analyses"
    # The worker looks for running analyses every second.
    __table_args__ = (Index("ix_incident_analyses_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # running | complete
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CertificateWarning(Base):
    """A certificate expiry warning already raised (seed 001 5.5: 30 and 7 days), so that one
    certificate gets one follow-up per threshold."""

    __tablename__ = "certificate_warnings"
    __table_args__ = (UniqueConstraint("check_id", "not_after", "threshold_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("service_checks.id", ondelete="CASCADE"))
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    threshold_days: Mapped[int] = mapped_column(Integer)
    # What it opened: a Fixed Date follow-up (action item) or a P3 incident.
    action_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_items.id", ondelete="SET NULL"), nullable=True
    )
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
