"""Stakeholder communication: the channels messages go to (config as code; an Apprise URL's
channel has a contact method with `comms_channel_id` set and no user, so it shares the outbox,
throttle and retries), the messages written from templates (with their approval), and who
follows which incident or service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

# draft -> pending_approval -> approved -> sent | rejected ; draft -> sent (no approval needed)
MESSAGE_STATUSES = ("draft", "pending_approval", "approved", "rejected", "sent", "canceled")


class CommsChannel(Base):
    """A stakeholder channel: a room or list reached through an Apprise URL (its contact
    method), or people and teams (`members`: usernames and `team:<slug>`)."""

    __tablename__ = "comms_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")  # seed 001 7.2's "용도"
    language: Mapped[str] = mapped_column(String(8), default="ko")
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommsMessage(Base):
    """One message to stakeholders about an incident: rendered from a template (or an event),
    maybe edited, maybe approved, then sent to its channels through the outbox."""

    __tablename__ = "comms_messages"
    __table_args__ = (
        Index("ix_comms_messages_incident", "incident_id", "created_at"),
        Index("ix_comms_messages_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    # What made it: an event id (declared, update #12, ...) so a replay sends nothing twice.
    source: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The channel slugs it goes to.
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Approval (policy communications.approvals): who may, who did, when, why.
    approvers: Mapped[list[str]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Follow(Base):
    """A user following an incident or a service: they get its updates."""

    __tablename__ = "comms_follows"
    __table_args__ = (UniqueConstraint("user_id", "incident_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True, index=True
    )
    service: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
