"""The cap on messages to one contact method: at most one per SPACING, never two at once.

Each contact method has a throttle row holding the next moment it may be sent to. A claim
locks that row while it decides what goes out, so two workers cannot claim for one contact
method together; while a message is in flight the row holds the message's lease, and once
the message is settled, the moment the next one may go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from haetae.notify.models import Notification, NotificationThrottle

# Per contact method: at most THROTTLE_COUNT messages in any THROTTLE_WINDOW, held by an even
# spacing (a sliding window would let a page wait a whole window behind five quick ones).
THROTTLE_COUNT = 5
THROTTLE_WINDOW = timedelta(minutes=1)
SPACING = THROTTLE_WINDOW / THROTTLE_COUNT


def lets_go_by(moment: InstrumentedAttribute[datetime] | datetime) -> ColumnElement[bool]:
    """SQL: the outer-joined throttle lets a message go by `moment` (no row yet: at once)."""
    return or_(NotificationThrottle.next_at.is_(None), NotificationThrottle.next_at <= moment)


def lock(
    session: Session, cm_ids: list[int], *, now: datetime, skip_locked: bool
) -> dict[int, NotificationThrottle]:
    """The throttle rows of these contact methods that let a message go now, locked for this
    claim (creating the missing ones); one that another claim holds is passed over."""
    ids = sorted(cm_ids)  # one order for every worker's inserts: no deadlock between them
    have = set(
        session.scalars(
            select(NotificationThrottle.contact_method_id).where(
                NotificationThrottle.contact_method_id.in_(ids)
            )
        )
    )
    missing = [{"contact_method_id": i, "next_at": now} for i in ids if i not in have]
    if missing:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        table = cast(Table, NotificationThrottle.__table__)
        session.execute(insert(table).on_conflict_do_nothing(), missing)
    query = (
        select(NotificationThrottle)
        .where(NotificationThrottle.contact_method_id.in_(ids), NotificationThrottle.next_at <= now)
        .order_by(NotificationThrottle.contact_method_id)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return {t.contact_method_id: t for t in session.scalars(query)}


def hold_while_sending(held: NotificationThrottle, lease_until: datetime) -> datetime:
    """In flight: nothing else goes to the contact method until the message is settled or
    its lease runs out. Returns the moment it was free before, to restore if nothing went."""
    free_at = held.next_at
    held.next_at = lease_until
    return free_at


def free(session: Session, contact_method_id: int | None, at: datetime) -> None:
    """The contact method may be sent its next message at `at`."""
    if contact_method_id is None:
        return
    session.execute(
        update(NotificationThrottle)
        .where(NotificationThrottle.contact_method_id == contact_method_id)
        .values(next_at=at)
        .execution_options(synchronize_session=False)
    )


def free_after_send(session: Session, contact_method_id: int | None, *, sent_at: datetime) -> None:
    """Spaced from the send's end, not its start: the receiver has the message by then, so its
    own clock never sees two messages closer than SPACING however long sends take."""
    free(session, contact_method_id, sent_at + SPACING)


def next_release(session: Session) -> datetime | None:
    """The earliest moment a throttle lets go rows that were due before it."""
    return session.scalar(
        select(func.min(NotificationThrottle.next_at)).where(
            exists().where(
                Notification.contact_method_id == NotificationThrottle.contact_method_id,
                Notification.status == "pending",
                Notification.due_at < NotificationThrottle.next_at,
            )
        )
    )
