"""Hand-off notes (seed 001: "write the hand-over checklist at every on-call change")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.clock import as_utc
from haetae.errors import HaetaeError
from haetae.oncall import service as oncall
from haetae.oncall.models import HandoffNote, Schedule
from haetae.policy.escalation import ChecklistItem

# How far back "the latest hand-off" is looked for when a note does not name one.
LOOKBACK = timedelta(days=62)


def latest_handoff(session: Session, schedule: Schedule, *, layer: str, now: datetime) -> datetime:
    """The start of the stretch in force at `now` (the last change of person)."""
    changes = oncall.changes_of(
        session, schedule.id, start=now - LOOKBACK, end=now + timedelta(microseconds=1), layer=layer
    )
    if not changes:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"No hand-off in layer '{layer}' in the last {LOOKBACK.days} days; name shift_start.",
            field="shift_start",
        )
    return changes[-1].at


def write_handoff(
    session: Session,
    schedule: Schedule,
    *,
    layer: str,
    shift_start: datetime | None,
    checklist: dict[str, bool],
    body: str,
    items: Sequence[ChecklistItem],
    author: str,
    now: datetime,
) -> HandoffNote:
    """Record a hand-off note: which of the policy's checklist items were done, and free
    text. The people handing over and taking over are read from the schedule."""
    layers = oncall.layers_of(session, schedule.id)
    if layer not in layers:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"The schedule has no layer '{layer}' (it has: {', '.join(layers) or '-'}).",
            field="layer",
        )
    known = {item.id for item in items}
    for item_id in checklist:
        if item_id not in known:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"'{item_id}' is not on the policy's hand-off checklist "
                f"({', '.join(sorted(known)) or 'empty'}).",
                field=f"checklist.{item_id}",
            )
    at = (
        as_utc(shift_start)
        if shift_start
        else latest_handoff(session, schedule, layer=layer, now=now)
    )
    before = oncall.on_call(session, schedule.id, layer=layer, at=at - timedelta(microseconds=1))
    after = oncall.on_call(session, schedule.id, layer=layer, at=at)
    note = HandoffNote(
        schedule_id=schedule.id,
        layer=layer,
        shift_start=at,
        from_user_id=before[0].id if before else None,
        to_user_id=after[0].id if after else None,
        checklist={item.id: bool(checklist.get(item.id, False)) for item in items},
        body=body,
        author=author,
        created_at=now,
    )
    session.add(note)
    session.flush()
    return note


def list_handoffs(
    session: Session, schedule_id: int, *, layer: str | None = None, limit: int = 50
) -> list[HandoffNote]:
    """Newest hand-off first."""
    query = select(HandoffNote).where(HandoffNote.schedule_id == schedule_id)
    if layer is not None:
        query = query.where(HandoffNote.layer == layer)
    order = (HandoffNote.shift_start.desc(), HandoffNote.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))
