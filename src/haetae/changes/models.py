"""The change feed (seed 001 3.2.4): deploys, configuration and infrastructure changes posted
by CI/CD, and the changes an incident names as a suspected cause."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

CHANGE_KINDS = ("deploy", "config", "infrastructure")


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (
        # A sender's retry with the same id records nothing twice.
        UniqueConstraint("integration_id", "external_id"),
        Index("ix_changes_service_at", "service", "happened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), nullable=True
    )
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    service: Mapped[str] = mapped_column(String(200))  # lowercased, as incident_services
    kind: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    link: Mapped[str] = mapped_column(String(2000), default="")
    rollback: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentChange(Base):
    """A change linked to an incident as a suspected (or confirmed) cause."""

    __tablename__ = "incident_changes"

    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    change_id: Mapped[int] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True
    )
    verdict: Mapped[str] = mapped_column(String(16), default="suspected")  # | confirmed
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
