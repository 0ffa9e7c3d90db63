"""The kept review reports: one weekly or monthly review per period, its figures as JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class ReviewReport(Base):
    """A review as it was built: the figures and lists, not the words, so it reads in any
    language later. One per (kind, period_start): the scheduled job never builds one twice."""

    __tablename__ = "review_reports"
    __table_args__ = (
        UniqueConstraint("kind", "period_start", name="uq_review_reports_period"),
        Index("ix_review_reports_built", "built_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly | monthly
    # The period's first and last day in the policy's zone (the last day included).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    built_by: Mapped[str] = mapped_column(String(200))  # a username, or "system" for the job
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # When the scheduled job queued it to the policy's recipients; None: not sent yet (a
    # report built by hand before the schedule's moment is still sent then, once).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
