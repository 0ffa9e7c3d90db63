"""Contact methods, notification rules, teams, team members and services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


def _user_fk() -> Any:
    return ForeignKey("users.id", ondelete="CASCADE")


class ContactMethod(Base):
    """Where a person can be reached: one Apprise URL (mailto://, slack://, json://, ...).

    The URL may hold a secret (a Slack token, an SMS gateway key): it is never logged and
    the API shows it masked.
    """

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A person's contact method, or (user_id None) an external contact's (contacts/).
    user_id: Mapped[int | None] = mapped_column(_user_fk(), nullable=True, index=True)
    external_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_contacts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # A stakeholder channel's (comms/) or a status page subscriber's (statuspage/) method.
    comms_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("comms_channels.id", ondelete="CASCADE"), nullable=True, index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuspage_subscribers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # the URL's scheme: mailto, json, slack ...
    url: Mapped[str] = mapped_column(Text)
    # Fallback order: after repeated failures the next position is tried.
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationRule(Base):
    """When a person is paged: which contact method, how many minutes after the page."""

    __tablename__ = "notification_rules"
    __table_args__ = (UniqueConstraint("user_id", "contact_method_id", "delay_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE")
    )
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # member | lead


class Service(Base):
    """Something that breaks: its owning team, its on-call schedule, and optionally its own
    escalation policies per severity (otherwise the policy file's apply)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), nullable=True
    )
    # {severity id: [escalation policy slug, ...]}
    escalation: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
