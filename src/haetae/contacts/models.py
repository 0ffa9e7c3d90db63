"""External contacts (seed 001 7.3: cloud, managed database, CDN/WAF, partners): their support
plan, SLA tier and notes. Their contact methods are rows of `contact_methods` with
`external_contact_id` set (and no user), so that a page to them goes through the same outbox,
throttle and retries as a page to a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime

CONTACT_KINDS = ("cloud", "database", "cdn_waf", "partner", "vendor", "business", "other")
CONTACT_LANGUAGES = ("en", "ko")


class ExternalContact(Base):
    __tablename__ = "external_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    support_plan: Mapped[str] = mapped_column(String(200), default="")
    sla_tier: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language pages to the contact are written in (a vendor's support desk: English).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
