"""The verbs of action items: create (numbered AI-NNN), edit, assign and move, and the rules
every change follows (owners exist, WIP limits, timeline entries)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem, ActionItemCounter
from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.inputs import is_number
from haetae.policy.followup import COLUMNS, ClassOfService
from haetae.policy.schema import Policy
from haetae.postmortems.models import Postmortem
from haetae.timeline.service import record

PRIORITIES = ("high", "medium", "low")  # 상 / 중 / 하
TERMS = ("short", "mid", "long")  # within a week, a month, a quarter (seed 001 6.5)
CLASSES: tuple[ClassOfService, ...] = ("expedite", "fixed_date", "standard")
COLUMNS_ALL = COLUMNS


# Each series and its counter row: AI-NNN follow-ups, TI-NNN drill improvements.
SERIES = {"AI": 1, "TI": 2}


def code(item: ActionItem) -> str:
    return f"{item.series or 'AI'}-{item.number:03d}"


def parse_code(value: str) -> int | None:
    """AI-007, ai-7, TI-7 or 7 -> 7; anything else -> None."""
    text = value.strip().upper()
    for series in SERIES:
        text = text.removeprefix(f"{series}-")
    return int(text) if is_number(text) else None


def next_number(session: Session, series: str = "AI") -> int:
    """One atomic upsert per item, so concurrent writers never share a number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(ActionItemCounter)
        .values(id=SERIES[series], last=1)
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
    series: str = "AI",
    drill_id: int | None = None,
) -> ActionItem:
    """A new item at the bottom of its column; recorded on its incident's timeline. The caller
    has checked that the owner exists; `incident_severity` picks the default class. A drill's
    improvement item is series TI with its drill_id."""
    if priority not in PRIORITIES:
        raise HaetaeError("VALIDATION_ERROR", f"priority must be one of {', '.join(PRIORITIES)}")
    if term is not None and term not in TERMS:
        raise HaetaeError("VALIDATION_ERROR", f"term must be one of {', '.join(TERMS)}")
    if column not in policy.board.columns:
        raise HaetaeError(
            "VALIDATION_ERROR", f"column must be one of {', '.join(policy.board.columns)}"
        )
    cls = class_of_service or default_class(policy, incident_severity)
    if cls not in CLASSES:
        raise HaetaeError("VALIDATION_ERROR", f"class must be one of {', '.join(CLASSES)}")
    if cls == "fixed_date" and due_date is None:
        raise HaetaeError("VALIDATION_ERROR", "a Fixed Date item needs a due date")
    check_tracker_url(tracker_url)
    check_owner(session, owner)
    lock_board(session)
    check_wip(session, policy, column=column, class_of_service=cls)
    bottom = session.scalar(
        select(func.max(ActionItem.position)).where(ActionItem.column == column)
    )
    item = ActionItem(
        number=next_number(session, series),
        series=series,
        drill_id=drill_id,
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


# One constant key for PostgreSQL's advisory lock that serializes the board's column changes.
_BOARD_LOCK_KEY = 0x4841_4554  # "HAET"
# Below this gap between neighbours, a column's positions are renumbered 1, 2, 3 ...
_MIN_GAP = 1e-6
EDITABLE = ("title", "description", "due_date", "priority", "class_of_service", "tracker_url")


def lock_board(session: Session) -> None:
    """Serialize the changes that a WIP limit judges, so two moves cannot both see room for one
    card. PostgreSQL: a transaction-scoped advisory lock; SQLite already has one writer (the
    write transaction begins IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BOARD_LOCK_KEY})


def check_owner(session: Session, owner: str | None) -> None:
    if owner is None:
        return
    if session.scalar(select(User.id).where(User.username == owner)) is None:
        raise HaetaeError("UNKNOWN_USER", f"No user '{owner}'.", field="owner", owner=owner)


def check_tracker_url(url: str | None) -> None:
    """Only web links: a javascript: or file: URL would run or open something on a click."""
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HaetaeError(
            "VALIDATION_ERROR", "tracker_url must be an http or https URL", field="tracker_url"
        )


def column_count(session: Session, column: str, *, but: int | None = None) -> int:
    query = select(func.count()).select_from(ActionItem).where(ActionItem.column == column)
    if but is not None:
        query = query.where(ActionItem.id != but)
    return int(session.scalar(query) or 0)


def check_wip(
    session: Session,
    policy: Policy,
    *,
    column: str,
    class_of_service: str,
    but: int | None = None,
) -> None:
    """409 WIP_LIMIT_REACHED when one more card would pass the column's limit; Expedite items
    ignore WIP limits (seed 001 App. C). `but`: the item itself, already counted elsewhere."""
    limit = policy.board.wip_limits.get(column)  # type: ignore[call-overload]
    if limit is None or class_of_service == "expedite":
        return
    count = column_count(session, column, but=but)
    if count + 1 > limit:
        raise HaetaeError(
            "WIP_LIMIT_REACHED",
            f"The {column} column holds {count} of its WIP limit {limit}; "
            "only Expedite items move past it.",
            column=column,
            limit=limit,
            count=count,
        )


def find_item(session: Session, ref: str) -> ActionItem:
    """AI-007 or TI-007 (any case) names the item's series and number; bare digits name its
    row id."""
    value = ref.strip()
    item: ActionItem | None = None
    series = value[:2].upper()
    if series in SERIES and value[2:3] == "-":
        number = parse_code(value)
        if number is not None:
            item = session.scalars(
                select(ActionItem).where(ActionItem.series == series, ActionItem.number == number)
            ).first()
    elif is_number(value) and len(value) < 10:
        item = session.get(ActionItem, int(value))
    if item is None:
        raise HaetaeError("NOT_FOUND", f"No action item {ref}.")
    return item


def _incident_event(
    session: Session,
    item: ActionItem,
    kind: str,
    *,
    by: str,
    now: datetime,
    summary: str,
    **data: Any,
) -> None:
    if item.incident_id is not None:
        record(
            session,
            item.incident_id,
            kind=kind,
            actor=by,
            at=now,
            summary=summary,
            item=code(item),
            **data,
        )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def edit(
    session: Session,
    policy: Policy,
    item: ActionItem,
    *,
    by: str,
    now: datetime,
    **changes: Any,
) -> ActionItem:
    """Change the item's own fields (EDITABLE); owner and column have their own verbs. Records
    `action_item_edited` with each changed field's old and new value."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise HaetaeError("VALIDATION_ERROR", f"cannot edit {', '.join(sorted(unknown))}")
    if "priority" in changes and changes["priority"] not in PRIORITIES:
        raise HaetaeError("VALIDATION_ERROR", f"priority must be one of {', '.join(PRIORITIES)}")
    if "class_of_service" in changes and changes["class_of_service"] not in CLASSES:
        raise HaetaeError("VALIDATION_ERROR", f"class must be one of {', '.join(CLASSES)}")
    if "title" in changes and not changes["title"]:
        raise HaetaeError("VALIDATION_ERROR", "title must not be empty", field="title")
    check_tracker_url(changes.get("tracker_url"))
    cls = changes.get("class_of_service", item.class_of_service)
    due = changes.get("due_date", item.due_date)
    if cls == "fixed_date" and due is None:
        raise HaetaeError("VALIDATION_ERROR", "a Fixed Date item needs a due date")
    if cls != item.class_of_service and item.class_of_service == "expedite":
        # Leaving Expedite makes the card count against its column's limit like any other.
        lock_board(session)
        check_wip(session, policy, column=item.column, class_of_service=cls, but=item.id)
    diff = {
        name: {"from": _plain(getattr(item, name)), "to": _plain(value)}
        for name, value in changes.items()
        if getattr(item, name) != value
    }
    if not diff:
        return item
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at = now
    _incident_event(
        session,
        item,
        "action_item_edited",
        by=by,
        now=now,
        summary=f"{code(item)} {item.title}",
        changes=diff,
    )
    return item


def assign(
    session: Session,
    policy: Policy,
    item: ActionItem,
    owner: str | None,
    *,
    by: str,
    now: datetime,
) -> ActionItem:
    """A new owner (an existing user), or None for nobody; `action_item_assigned` records both."""
    check_owner(session, owner)
    if owner == item.owner:
        return item
    before, item.owner, item.updated_at = item.owner, owner, now
    _incident_event(
        session,
        item,
        "action_item_assigned",
        by=by,
        now=now,
        summary=f"{code(item)} {before or '-'} -> {owner or '-'}",
        changes={"owner": {"from": before, "to": owner}},
    )
    return item


def move(
    session: Session,
    policy: Policy,
    item: ActionItem,
    *,
    column: str,
    by: str,
    now: datetime,
    before: str | None = None,
    after: str | None = None,
    position: float | None = None,
) -> ActionItem:
    """Put the item in `column`, just before the card `before`, just after `after`, at
    `position`, or else at the bottom. A column change passes the WIP check (Expedite ignores
    it), sets or clears done_at and records `action_item_moved`; reordering within a column is
    never refused and is not a timeline event."""
    if column not in policy.board.columns:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"column must be one of {', '.join(policy.board.columns)}",
            field="column",
        )
    if sum(x is not None for x in (before, after, position)) > 1:
        raise HaetaeError("VALIDATION_ERROR", "give at most one of before, after and position")
    lock_board(session)
    session.refresh(item)  # the column as it is now, after any mover ahead of us committed
    source = item.column
    if column != source:
        check_wip(
            session, policy, column=column, class_of_service=item.class_of_service, but=item.id
        )
    item.position = _place(session, item, column, before=before, after=after, position=position)
    item.column = column
    item.updated_at = now
    if column != source:
        item.done_at = now if column == "done" else None
        _incident_event(
            session,
            item,
            "action_item_moved",
            by=by,
            now=now,
            summary=f"{code(item)} {source} -> {column}",
            changes={"column": {"from": source, "to": column}},
        )
    return item


def _neighbour(session: Session, ref: str, column: str, name: str) -> ActionItem:
    try:
        other = find_item(session, ref)
    except HaetaeError:
        raise HaetaeError("VALIDATION_ERROR", f"{name}: no action item {ref}", field=name) from None
    if other.column != column:
        raise HaetaeError(
            "VALIDATION_ERROR", f"{name}: {code(other)} is not in {column}", field=name
        )
    return other


def _place(
    session: Session,
    item: ActionItem,
    column: str,
    *,
    before: str | None,
    after: str | None,
    position: float | None,
) -> float:
    if position is not None:
        return position
    others = select(ActionItem.position).where(
        ActionItem.column == column, ActionItem.id != item.id
    )
    if before is None and after is None:
        bottom = session.scalar(
            select(func.max(ActionItem.position)).where(
                ActionItem.column == column, ActionItem.id != item.id
            )
        )
        return (bottom or 0.0) + 1.0
    anchor = _neighbour(session, before or after or "", column, "before" if before else "after")
    if anchor.id == item.id:
        return item.position
    if before is not None:
        near = session.scalar(
            others.where(ActionItem.position < anchor.position)
            .order_by(ActionItem.position.desc())
            .limit(1)
        )
        low, high = (near if near is not None else anchor.position - 2.0), anchor.position
    else:
        near = session.scalar(
            others.where(ActionItem.position > anchor.position)
            .order_by(ActionItem.position)
            .limit(1)
        )
        low, high = anchor.position, (near if near is not None else anchor.position + 2.0)
    if high - low < _MIN_GAP:
        _renumber(session, column)
        session.refresh(anchor)
        return _place(session, item, column, before=before, after=after, position=None)
    return (low + high) / 2


def _renumber(session: Session, column: str) -> None:
    """Even out a column's positions when repeated halving has used up the gaps."""
    items = session.scalars(
        select(ActionItem)
        .where(ActionItem.column == column)
        .order_by(ActionItem.position, ActionItem.id)
    )
    for index, one in enumerate(items, start=1):
        one.position = float(index)
    session.flush()


def add_item(
    session: Session,
    policy: Policy,
    *,
    title: str,
    by: str,
    now: datetime,
    incident_id: str | None = None,
    postmortem_id: int | None = None,
    **fields: Any,
) -> ActionItem:
    """create_item for the API, the CLI and the console: the incident and post-mortem named
    must exist (422 otherwise), a post-mortem brings its incident, and the incident's severity
    picks the default class of service."""
    if postmortem_id is not None:
        pm_incident = session.scalar(
            select(Postmortem.incident_id).where(Postmortem.id == postmortem_id)
        )
        if pm_incident is None:
            raise HaetaeError(
                "VALIDATION_ERROR", f"No post-mortem {postmortem_id}.", field="postmortem_id"
            )
        if incident_id is not None and incident_id != pm_incident:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"post-mortem {postmortem_id} belongs to {pm_incident}, not {incident_id}",
                field="postmortem_id",
            )
        incident_id = pm_incident
    severity = None
    if incident_id is not None:
        severity = session.scalar(select(Incident.severity).where(Incident.id == incident_id))
        if severity is None:
            raise HaetaeError(
                "VALIDATION_ERROR", f"No incident {incident_id}.", field="incident_id"
            )
    return create_item(
        session,
        policy,
        title=title,
        by=by,
        now=now,
        incident_id=incident_id,
        incident_severity=severity,
        postmortem_id=postmortem_id,
        **fields,
    )
