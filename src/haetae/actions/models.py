"""Action item tables: the items (AI-NNN) and the counter that numbers them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class ActionItem(Base):
    """A follow-up: a post-mortem's measure, or one added by hand. Its column is where it sits
    on the board's Incident Action Items lane."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_board", "column", "position"),
        Index("ix_action_items_incident", "incident_id"),
        Index("ix_action_items_owner_due", "owner", "due_date"),
        # Each series numbers its items from 1: AI-001 (follow-ups), TI-001 (drills' findings).
        UniqueConstraint("series", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)  # shown as AI-001 (or TI-001)
    # AI: an incident's follow-up; TI: an improvement a drill found (drills/, seed 001 8.3).
    series: Mapped[str] = mapped_column(String(4), default="AI", server_default="AI")
    drill_id: Mapped[int | None] = mapped_column(
        ForeignKey("drills.id", ondelete="SET NULL"), nullable=True, index=True
    )
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
    )
    postmortem_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("postmortems.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a username
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # in the policy's zone
    priority: Mapped[str] = mapped_column(String(8))  # high | medium | low (상/중/하)
    class_of_service: Mapped[str] = mapped_column(String(16))  # expedite | fixed_date | standard
    # A post-mortem measure's term: short (a week), mid (a month), long (a quarter); None if not.
    term: Mapped[str | None] = mapped_column(String(8), nullable=True)
    column: Mapped[str] = mapped_column(String(16))  # backlog | in_progress | review | done
    position: Mapped[float] = mapped_column(Float, default=0.0)  # order within the column
    tracker_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The due date a reminder was sent for, before and after it: one of each per due date.
    reminded_before: Mapped[date | None] = mapped_column(Date, nullable=True)
    reminded_overdue: Mapped[date | None] = mapped_column(Date, nullable=True)


class ActionItemCounter(Base):
    """The last number used, so AI-NNN stays unique under concurrent writers: one row per
    series (id 1 AI, id 2 TI; actions.service.SERIES)."""

    __tablename__ = "action_item_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
