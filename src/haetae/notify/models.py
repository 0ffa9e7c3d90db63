"""The outbox (one row per message), each contact method's throttle, one-use action links,
and the engine's leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

# pending -> sending -> sent | failed | pending (retry) ; pending -> canceled | bundled.
# A bundled row rides in the message of the row named by its bundle_id: until that message
# is delivered (sent_at set) it follows the carrier's fate (docs/notifications.md).
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "canceled", "bundled")
NOTIFICATION_KINDS = (
    "page",
    "escalation",
    "update_reminder",
    "resolved",
    "handoff",
    "test",
    # A manual escalation ("page now", contacts/): a plain page, seed 000's external support
    # request and its business escalation.
    "manual_page",
    "external_support",
    "business",
    # Status page subscribers (statuspage/subscribers.py): the double opt-in's confirmation,
    # and a published public update or maintenance notice; data holds their words.
    "status_confirm",
    "status_update",
    # A stakeholder message waits for its approvers (comms/approvals.py).
    "approval_request",
    # A message to stakeholders: a channel, a channel's member, a follower (comms/service.py).
    "stakeholder",
)


class Notification(Base):
    """One message to one contact method. Written in the transaction of the change that
    caused it; `idem_key` makes a replayed step insert nothing instead of paging twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "due_at"),
        Index("ix_notifications_contact_sent", "contact_method_id", "sent_at"),
        Index("ix_notifications_bundle", "bundle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True, index=True
    )
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    contact_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="SET NULL"), nullable=True
    )
    # acknowledged: an ack or resolve cancels it while pending; resolved: only a resolve;
    # never: always sent (a resolution notice, a test).
    cancel_on: Mapped[str] = mapped_column(String(16), default="acknowledged")
    # What the message says is rendered when it is first claimed (the incident as it is then,
    # in the recipient's language, with fresh ack links): `data` keeps the step's note and
    # the like until then; subject and body keep what was sent, and a resend under the same
    # idempotency key sends exactly them again.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A send whose outcome is unknown (the worker died mid-send) is retried once.
    unknown_retries: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    bundle_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationThrottle(Base):
    """When a contact method may next be sent a message. A claim locks this row (SKIP LOCKED
    on PostgreSQL) while it decides what goes to the contact method, so that two workers
    never send to one contact method at once; while a message is in flight, `next_at` is its
    lease's end, and once it is settled, the moment the next one may go."""

    __tablename__ = "notification_throttles"

    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), primary_key=True
    )
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionLink(Base):
    """A signed ack/resolve link, usable once: the row records its use."""

    __tablename__ = "action_links"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(16))  # acknowledge | resolve
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Sent to an external contact (contacts/): using it records the contact's ack on the
    # timeline and never acknowledges the incident itself.
    external_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_contacts.id", ondelete="CASCADE"), nullable=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EngineLease(Base):
    """Who runs a singleton part of the engine (all of it on SQLite) until when."""

    __tablename__ = "engine_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
