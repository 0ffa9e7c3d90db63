"""Subscribers: double opt-in, component filters, one-click unsubscribe, and the fan-out of a
published public update (or a maintenance notice) to them through the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from haetae.statuspage.models import PublicUpdate


def on_published(session: Session, update: PublicUpdate, *, now: datetime) -> None:
    """Called by statuspage.service when a public update is published, in its transaction: queue
    the update's fan-out to the subscribers of its components (the fan-out job sends it)."""
