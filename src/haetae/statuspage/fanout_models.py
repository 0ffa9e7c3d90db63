"""The status page's fan-outs to do: one row per published update or maintenance notice,
written in the publishing transaction and expanded into outbox rows by the fan-out job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class StatusFanout(Base):
    """A message for subscribers, going out in bundles: `after_id` is the last subscriber id
    handed to the outbox, and `next_mail_at`/`next_webhook_at` where each transport's next
    message is due (SUBSCRIBER_SEND_RATE apart), so a resumed fan-out keeps its pace."""

    __tablename__ = "statuspage_fanouts"
    __table_args__ = (Index("ix_statuspage_fanouts_open", "finished_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # update | maintenance
    kind: Mapped[str] = mapped_column(String(16))
    public_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuspage_updates.id", ondelete="CASCADE"), nullable=True
    )
    maintenance_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuspage_maintenances.id", ondelete="CASCADE"), nullable=True
    )
    # The components it is about (empty: the whole page, so every subscriber).
    component_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    after_id: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    next_mail_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_webhook_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
