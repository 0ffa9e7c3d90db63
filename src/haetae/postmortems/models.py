"""Post-mortem tables: one post-mortem per incident, and the reviews it collects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class Postmortem(Base):
    """Blameless by construction: people are recorded as author, reviewers and owners of
    measures, never as a cause. The incident's facts (times, severity, IC, alerts, roles) are
    read from the incident when shown, so they stay true; what people write is stored here."""

    __tablename__ = "postmortems"
    __table_args__ = (
        UniqueConstraint("incident_id", name="uq_postmortems_incident"),
        Index("ix_postmortems_status", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))  # draft | in_review | published
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200))
    started_by: Mapped[str] = mapped_column(String(200))  # a username, or "system" on resolve
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The moment the deadlines count from: the incident's resolution, or the start if earlier.
    clock_start: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    # The timeline as the post-mortem tells it: [{"at", "text", "note", "event_id"|None}].
    key_events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    whys: Mapped[list[str]] = mapped_column(JSON, default=list)  # the 5 whys, in order
    root_cause: Mapped[str] = mapped_column(Text, default="")
    contributing_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    went_well: Mapped[list[str]] = mapped_column(JSON, default=list)
    went_wrong: Mapped[list[str]] = mapped_column(JSON, default=list)
    lucky: Mapped[list[str]] = mapped_column(JSON, default=list)
    lessons: Mapped[str] = mapped_column(Text, default="")
    # The policy's own sections (any id not built in): {"section_id": "text"}.
    custom: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    meeting_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Each deadline's due time, fixed when the post-mortem starts: {"draft": iso, ...}.
    deadlines: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Reminders already sent, so none is sent twice: {"draft": ["before", "overdue"], ...}.
    reminded: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class PostmortemReview(Base):
    """A reviewer asked to review, and their verdict once given."""

    __tablename__ = "postmortem_reviews"
    __table_args__ = (UniqueConstraint("postmortem_id", "reviewer", name="uq_postmortem_reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("postmortems.id", ondelete="CASCADE"), index=True
    )
    reviewer: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verdict: Mapped[str | None] = mapped_column(
        String(24), nullable=True
    )  # approved | changes_requested
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
