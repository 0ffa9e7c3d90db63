"""The public status page: component groups and components (linked to Haetae services), their
state history (the uptime bars), public incidents with their own public updates (never the
internal ones), scheduled maintenance, and subscribers (personal data: shown masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

# The hosted status page API's words, so existing widgets read them unchanged.
COMPONENT_STATES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
INCIDENT_STATES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
IMPACTS = ("none", "minor", "major", "critical", "maintenance")
MAINTENANCE_STATES = ("scheduled", "in_progress", "verifying", "completed")


class ComponentGroup(Base):
    __tablename__ = "statuspage_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # {en, ko}: the reader's language picks.
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Component(Base):
    __tablename__ = "statuspage_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuspage_groups.id", ondelete="SET NULL"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Haetae service slugs whose incidents may set this component's state.
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), default="operational")
    visible: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentState(Base):
    """A component was in `status` from `since` until `until` (None: still): the 90 days of
    uptime bars are read from these."""

    __tablename__ = "statuspage_component_states"
    __table_args__ = (Index("ix_statuspage_states_component", "component_id", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("statuspage_components.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PublicIncident(Base):
    """What the public sees of an incident: its own title, impact, state and updates. Linked
    to a Haetae incident (never a drill's) or standing alone."""

    __tablename__ = "statuspage_incidents"
    __table_args__ = (Index("ix_statuspage_incidents_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public id in URLs and JSON (random, so nothing is counted from it).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    impact: Mapped[str] = mapped_column(String(16), default="minor")
    status: Mapped[str] = mapped_column(String(16), default="investigating")
    # component id -> its state during this incident
    components: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Nothing is public until the first update is published.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the comms lead is reminded to post the next public update.
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicUpdate(Base):
    __tablename__ = "statuspage_updates"
    __table_args__ = (Index("ix_statuspage_updates_incident", "public_incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_incident_id: Mapped[int] = mapped_column(
        ForeignKey("statuspage_incidents.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # {en, ko}
    # draft | published
    state: Mapped[str] = mapped_column(String(16), default="draft")
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Maintenance(Base):
    __tablename__ = "statuspage_maintenances"
    __table_args__ = (Index("ix_statuspage_maintenances_window", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    scheduled_until: Mapped[datetime] = mapped_column(UTCDateTime())
    component_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Subscriber(Base):
    """Someone who follows the status page by e-mail (double opt-in) or webhook, to every
    component (`component_ids` empty) or some. Their address is personal data: shown masked,
    exportable and deletable. Once confirmed they have a contact method (user None,
    `subscriber_id` set) so messages go through the outbox."""

    __tablename__ = "statuspage_subscribers"
    __table_args__ = (Index("ix_statuspage_subscribers_address", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | webhook
    address: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(8), default="en")
    component_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # A random secret for the confirm and unsubscribe links (its hash only).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StatusPageSettings(Base):
    """The page's own settings (one row, config as code): its title, whether it is on, its
    host name, the support link."""

    __tablename__ = "statuspage_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    host: Mapped[str | None] = mapped_column(String(253), nullable=True)
    support_url: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
