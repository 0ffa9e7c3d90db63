"""The verbs of action items: create (numbered AI-NNN), and the rules every change follows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem, ActionItemCounter
from haetae.errors import HaetaeError
from haetae.policy.followup import ClassOfService
from haetae.policy.schema import Policy
from haetae.timeline.service import record

PRIORITIES = ("high", "medium", "low")  # 상 / 중 / 하
TERMS = ("short", "mid", "long")  # within a week, a month, a quarter (seed 001 6.5)
CLASSES: tuple[ClassOfService, ...] = ("expedite", "fixed_date", "standard")


def code(item: ActionItem) -> str:
    return f"AI-{item.number:03d}"


def parse_code(value: str) -> int | None:
    """AI-007, ai-7 or 7 -> 7; anything else -> None."""
    text = value.strip().upper().removeprefix("AI-")
    return int(text) if text.isdigit() else None


def next_number(session: Session) -> int:
    """One atomic upsert per item, so concurrent writers never share a number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(ActionItemCounter)
        .values(id=1, last=1)
        .on_conflict_do_update(
            index_elements=[ActionItemCounter.id], set_={"last": ActionItemCounter.last + 1}
        )
        .returning(ActionItemCounter.last)
    )
    return int(session.execute(upsert).scalar_one())


def default_class(policy: Policy, severity: str | None) -> ClassOfService:
    """Seed 001 App. C: follow-ups of Expedite severities (P1/P2) are Expedite, others Standard."""
    if severity is not None and severity in policy.board.expedite_severities:
        return "expedite"
    return "standard"


def create_item(
    session: Session,
    policy: Policy,
    *,
    title: str,
    by: str,
    now: datetime,
    incident_id: str | None = None,
    incident_severity: str | None = None,
    postmortem_id: int | None = None,
    description: str = "",
    owner: str | None = None,
    due_date: date | None = None,
    priority: str = "medium",
    class_of_service: ClassOfService | None = None,
    term: str | None = None,
    tracker_url: str | None = None,
    column: str = "backlog",
) -> ActionItem:
    """A new item at the bottom of its column; recorded on its incident's timeline. The caller
    has checked that the owner exists; `incident_severity` picks the default class."""
    if priority not in PRIORITIES:
        raise HaetaeError("VALIDATION_ERROR", f"priority must be one of {', '.join(PRIORITIES)}")
    if term is not None and term not in TERMS:
        raise HaetaeError("VALIDATION_ERROR", f"term must be one of {', '.join(TERMS)}")
    if column not in policy.board.columns:
        raise HaetaeError(
            "VALIDATION_ERROR", f"column must be one of {', '.join(policy.board.columns)}"
        )
    cls = class_of_service or default_class(policy, incident_severity)
    if cls == "fixed_date" and due_date is None:
        raise HaetaeError("VALIDATION_ERROR", "a Fixed Date item needs a due date")
    bottom = session.scalar(
        select(func.max(ActionItem.position)).where(ActionItem.column == column)
    )
    item = ActionItem(
        number=next_number(session),
        incident_id=incident_id,
        postmortem_id=postmortem_id,
        title=title,
        description=description,
        owner=owner,
        due_date=due_date,
        priority=priority,
        class_of_service=cls,
        term=term,
        column=column,
        position=(bottom or 0.0) + 1.0,
        tracker_url=tracker_url,
        created_by=by,
        created_at=now,
        updated_at=now,
        done_at=now if column == "done" else None,
    )
    session.add(item)
    session.flush()
    if incident_id is not None:
        record(
            session,
            incident_id,
            kind="action_item_created",
            actor=by,
            at=now,
            summary=f"{code(item)} {title}",
            item=code(item),
            owner=owner,
            due_date=due_date.isoformat() if due_date else None,
            priority=priority,
            class_of_service=cls,
        )
    return item
