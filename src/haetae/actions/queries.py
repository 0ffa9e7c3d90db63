"""Reading action items: the one filtered list and the one read behind the API, CLI and console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, Text, cast, false, func, or_, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.schemas import ItemOut, ItemPage
from haetae.actions.service import code
from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.inputs import is_number
from haetae.people.models import Service, Team, TeamMember
from haetae.policy.schema import Policy


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Every field left None matches all items."""

    column: str | None = None
    owner: str | None = None
    team: str | None = None
    service: str | None = None
    class_of_service: str | None = None
    overdue: bool | None = None
    incident_id: str | None = None


@dataclass(frozen=True, slots=True)
class TeamScope:
    """What a team filter reaches: its services (by slug) and its members (by username)."""

    services: tuple[str, ...]
    members: tuple[str, ...]


def today(policy: Policy, now: datetime) -> date:
    """Due dates are days in the policy's zone."""
    return now.astimezone(policy.zone).date()


def is_overdue(due_date: date | None, column: str, on: date) -> bool:
    return due_date is not None and due_date < on and column != "done"


def team_scope(session: Session, slug: str) -> TeamScope:
    team_id = session.scalar(select(Team.id).where(Team.slug == slug))
    if team_id is None:
        raise HaetaeError("UNKNOWN_TEAM", f"No team '{slug}'.", field="team")
    services = session.scalars(select(Service.slug).where(Service.team_id == team_id))
    members = session.scalars(
        select(User.username)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id)
    )
    return TeamScope(tuple(services), tuple(members))


def services_match(slugs: tuple[str, ...] | list[str]) -> ColumnElement[bool]:
    """Incidents naming any of these services (JSON list membership, portable across SQLite and
    PostgreSQL, as the incident list does)."""
    if not slugs:
        return false()
    text = func.lower(cast(Incident.services, Text))
    return or_(*(text.contains(f'"{slug.lower()}"', autoescape=True) for slug in slugs))


def filtered(session: Session, policy: Policy, where: ItemFilter, on: date) -> Select[ActionItem]:
    query = select(ActionItem)
    if where.column is not None:
        query = query.where(ActionItem.column == where.column)
    if where.owner is not None:
        query = query.where(ActionItem.owner == where.owner)
    if where.class_of_service is not None:
        query = query.where(ActionItem.class_of_service == where.class_of_service)
    if where.incident_id is not None:
        query = query.where(ActionItem.incident_id == where.incident_id)
    if where.service is not None:
        linked = select(Incident.id).where(services_match([where.service]))
        query = query.where(ActionItem.incident_id.in_(linked))
    if where.team is not None:
        scope = team_scope(session, where.team)
        linked = select(Incident.id).where(services_match(scope.services))
        query = query.where(
            or_(ActionItem.incident_id.in_(linked), ActionItem.owner.in_(scope.members))
        )
    if where.overdue is not None:
        late = (ActionItem.due_date < on) & (ActionItem.column != "done")
        query = query.where(late if where.overdue else ~late | ActionItem.due_date.is_(None))
    return query


def item_out(item: ActionItem, on: date) -> ItemOut:
    return ItemOut(
        id=item.id,
        code=code(item),
        title=item.title,
        description=item.description,
        owner=item.owner,
        due_date=item.due_date,
        overdue=is_overdue(item.due_date, item.column, on),
        priority=item.priority,
        class_of_service=item.class_of_service,
        term=item.term,
        incident_id=item.incident_id,
        postmortem_id=item.postmortem_id,
        tracker_url=item.tracker_url,
        column=item.column,
        position=item.position,
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        done_at=item.done_at,
    )


def parse_cursor(value: str | None) -> int | None:
    """The cursor is the row id of the last item of the previous page."""
    if value is None or value == "":
        return None
    if not is_number(value) or len(value) > 9:
        raise HaetaeError("INVALID_QUERY", "cursor is not one this list gave.", field="cursor")
    return int(value)


def item_page(
    session: Session,
    policy: Policy,
    where: ItemFilter,
    *,
    now: datetime,
    limit: int,
    cursor: str | None = None,
) -> ItemPage:
    """Items in the order they were made (AI and TI numbers each rise with it), `limit` at a
    time; next_cursor continues after the last."""
    on = today(policy, now)
    query = filtered(session, policy, where, on)
    after = parse_cursor(cursor)
    if after is not None:
        query = query.where(ActionItem.id > after)
    rows = list(session.scalars(query.order_by(ActionItem.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return ItemPage(
        items=[item_out(i, on) for i in rows],
        next_cursor=str(rows[-1].id) if more and rows else None,
        limit=limit,
    )


def item_detail(session: Session, policy: Policy, item: ActionItem, *, now: datetime) -> ItemOut:
    return item_out(item, today(policy, now))
