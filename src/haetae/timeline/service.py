"""record(...) is how every domain writes to an incident's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.timeline.models import TimelineEvent


def record(
    session: Session,
    incident_id: str,
    *,
    kind: str,
    actor: str,
    at: datetime,
    summary: str = "",
    **data: Any,
) -> TimelineEvent:
    event = TimelineEvent(
        incident_id=incident_id, kind=kind, actor=actor, at=at, summary=summary, data=data
    )
    session.add(event)
    return event


def events(session: Session, incident_id: str) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    return list(session.scalars(query))
