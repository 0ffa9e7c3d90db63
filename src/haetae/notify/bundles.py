"""Bundling: everything waiting for one contact method goes in one message, carried by the
oldest row (the others become `bundled`, pointing at it), and what a message carries.

A message being re-sent carries exactly what it carried before, under the same key; a
message that will not be sent (canceled, given back unsent, given up) lets what it carried
wait on its own again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haetae.notify.models import Notification

# A message lists at most this many pages; the rest go in the next one.
BUNDLE_MAX = 200


@dataclass(frozen=True)
class Carried:
    """A page riding in another row's message."""

    id: int
    incident_id: str | None


def gather(carrier: Notification, others: list[Notification]) -> list[Carried]:
    """The carrier takes the rows waiting behind it (oldest first, up to BUNDLE_MAX pages in
    all); the rest stay pending for the next message."""
    taken = others[: BUNDLE_MAX - 1]
    for row in taken:
        row.status, row.bundle_id = "bundled", carrier.id
    return [Carried(r.id, r.incident_id) for r in taken]


def carried_again(session: Session, carrier_id: int) -> list[Carried]:
    """What a message tried before carried: a resend carries the same pages."""
    return [Carried(r.id, r.incident_id) for r in carried_rows(session, carrier_id)]


def carried_rows(
    session: Session, carrier_id: int, ids: Iterable[int] | None = None
) -> list[Notification]:
    """The rows riding in the carrier's message and not yet delivered, oldest first."""
    query = select(Notification).where(
        Notification.bundle_id == carrier_id,
        Notification.status == "bundled",
        Notification.sent_at.is_(None),
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    return list(session.scalars(query.order_by(Notification.due_at, Notification.id)))


def release_carried(session: Session, carrier_ids: Any) -> None:
    """The rows carried by these messages wait on their own again (they go in the next
    message to their contact method, under their own keys). `carrier_ids`: ids or a select."""
    session.execute(
        update(Notification)
        .where(
            Notification.bundle_id.in_(carrier_ids),
            Notification.status == "bundled",
            Notification.sent_at.is_(None),
        )
        .values(status="pending", bundle_id=None)
        .execution_options(synchronize_session=False)
    )
