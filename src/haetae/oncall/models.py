"""Schedules, their rotations (in layers), overrides and hand-off notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


def _schedule_fk() -> Any:
    return ForeignKey("schedules.id", ondelete="CASCADE")


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    # sha256 of the secret in the schedule's iCal feed URL; NULL: no feed
    ical_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Rotation(Base):
    """Participants taking turns. Layer names the level ("primary", "secondary"); within a
    layer the rotation with the highest `priority` that covers a moment wins.

    `handoff` is the local wall-clock start of the participant at index 0 (the anchor),
    in the rotation's zone; shifts follow the wall clock across DST changes.
    """

    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(_schedule_fk(), index=True)
    name: Mapped[str] = mapped_column(String(100))
    layer: Mapped[str] = mapped_column(String(32), default="primary")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    shift_length: Mapped[int] = mapped_column(Integer, default=1)
    shift_unit: Mapped[str] = mapped_column(String(8), default="weeks")
    handoff: Mapped[str] = mapped_column(String(32))  # local ISO datetime, no offset
    time_zone: Mapped[str] = mapped_column(String(64))
    participants: Mapped[list[int]] = mapped_column(JSON, default=list)  # user ids, in order
    # [{"days": ["mon", ...], "start": "18:00", "end": "09:00"}]; empty: always
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Override(Base):
    """Someone covers a period. With `replaces_user_id` only that person's time is covered;
    without it, the whole layer's. Overlapping overrides: the newest wins."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (Index("ix_schedule_overrides_span", "schedule_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(_schedule_fk())
    layer: Mapped[str] = mapped_column(String(32), default="primary")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    replaces_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandoffNote(Base):
    """Seed 001: a hand-over checklist written when a shift changes."""

    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_schedule", "schedule_id", "shift_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(_schedule_fk())
    layer: Mapped[str] = mapped_column(String(32), default="primary")
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime())
    from_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    to_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # {item id: done?} for the policy's checklist, plus free text
    checklist: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
