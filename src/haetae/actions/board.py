"""The follow-up board (seed 001 App. C): one reader behind GET /api/v1/board, `haetae board`
and the console's /board, placing incidents, post-mortems and action items in the columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.queries import (
    ItemFilter,
    TeamScope,
    filtered,
    services_match,
    team_scope,
    today,
)
from haetae.actions.schemas import BoardOut, Card, ColumnOut, LaneOut
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident, RoleAssignment
from haetae.policy.schema import Policy
from haetae.postmortems.models import Postmortem

LANES = ("incident", "postmortem", "action_items")
# What marks each post-mortem deadline as met (policy.followup.DeadlineEvent).
_MET_BY = {
    "submitted": "submitted_at",
    "meeting_held": "meeting_held_at",
    "published": "published_at",
}


@dataclass(frozen=True, slots=True)
class BoardFilter:
    team: str | None = None
    service: str | None = None
    owner: str | None = None
    class_of_service: str | None = None


def incident_class(policy: Policy, severity: str) -> str:
    return "expedite" if severity in policy.board.expedite_severities else "standard"


def read_board(session: Session, policy: Policy, where: BoardFilter, *, now: datetime) -> BoardOut:
    on = today(policy, now)
    columns = policy.board.columns
    lanes: dict[str, dict[str, list[Card]]] = {
        lane: {column: [] for column in columns} for lane in LANES
    }
    scope = team_scope(session, where.team) if where.team is not None else None
    shown_since = now - timedelta(days=policy.board.done_visible_days)

    # Incident lane: active incidents come and go with their status.
    incident_query = select(Incident.id, Incident.title, Incident.severity, Incident.status).where(
        Incident.status.in_(lifecycle.ACTIVE)
    )
    incident_query = incident_query.where(*_incident_scope(where, scope))
    ics = _ics(session)
    for inc_id, title, severity, status in session.execute(
        incident_query.order_by(Incident.declared_at)
    ):
        cls = incident_class(policy, severity)
        owner = ics.get(inc_id)
        if not _keep(where, cls, owner):
            continue
        column = "backlog" if severity in policy.board.backlog_severities else "in_progress"
        lanes["incident"][column].append(
            Card.model_construct(
                kind="incident",
                code=inc_id,
                title=title,
                incident_id=inc_id,
                severity=severity,
                status=status,
                owner=owner,
                due_date=None,
                overdue=False,
                priority=None,
                class_of_service=cls,
                url=f"/incidents/{inc_id}",
            )
        )

    # Post-mortem lane: draft, in review, and published for done_visible_days.
    pm_query = (
        select(Postmortem, Incident.severity)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(
            or_(
                Postmortem.status.in_(("draft", "in_review")),
                Postmortem.published_at >= shown_since,
            )
        )
    )
    pm_query = pm_query.where(*_incident_scope(where, scope))
    for pm, severity in session.execute(pm_query.order_by(Postmortem.started_at)):
        cls = incident_class(policy, severity)
        if not _keep(where, cls, pm.author):
            continue
        due = _next_deadline(policy, pm)
        due_date = due.astimezone(policy.zone).date() if due else None
        column = {"draft": "in_progress", "in_review": "review", "published": "done"}.get(
            pm.status, "in_progress"
        )
        if column not in columns:
            column = "in_progress"
        lanes["postmortem"][column].append(
            Card.model_construct(
                kind="postmortem",
                code=pm.incident_id,
                title=pm.title,
                incident_id=pm.incident_id,
                severity=severity,
                status=pm.status,
                owner=pm.author,
                due_date=due_date,
                overdue=due is not None and due < now,
                priority=None,
                class_of_service=cls,
                url=f"/postmortems/{pm.incident_id}",
            )
        )

    # Action items: in their stored column and order; Done ones for done_visible_days.
    item_query = filtered(
        session,
        policy,
        ItemFilter(
            owner=where.owner,
            team=where.team,
            service=where.service,
            class_of_service=where.class_of_service,
        ),
        on,
    ).where(or_(ActionItem.column != "done", ActionItem.done_at >= shown_since))
    wanted = (
        ActionItem.id,
        ActionItem.series,
        ActionItem.number,
        ActionItem.title,
        ActionItem.owner,
        ActionItem.due_date,
        ActionItem.priority,
        ActionItem.class_of_service,
        ActionItem.column,
        ActionItem.incident_id,
    )
    rows = session.execute(
        item_query.with_only_columns(*wanted).order_by(ActionItem.position, ActionItem.id)
    )
    for _id, series, number, title, owner, due_date, priority, cls, column, inc_id in rows:
        if column not in lanes["action_items"]:
            column = "in_progress"  # a review card after the policy dropped the column
        lanes["action_items"][column].append(
            Card.model_construct(
                kind="action_item",
                code=f"{series}-{number:03d}",
                title=title,
                incident_id=inc_id,
                severity=None,
                status=None,
                owner=owner,
                due_date=due_date,
                overdue=_late(due_date, column, on),
                priority=priority,
                class_of_service=cls,
                url=f"/incidents/{inc_id}" if inc_id else "",
            )
        )

    limits = {str(k): v for k, v in policy.board.wip_limits.items()}
    return BoardOut(
        columns=list(columns),
        wip_limits=limits,
        today=on,
        lanes=[
            LaneOut(
                id=lane,
                columns=[
                    ColumnOut(
                        id=column,
                        count=len(cards),
                        wip_limit=limits.get(column) if lane == "action_items" else None,
                        cards=cards,
                    )
                    for column, cards in lanes[lane].items()
                ],
            )
            for lane in LANES
        ],
    )


def _late(due_date: date | None, column: str, on: date) -> bool:
    return due_date is not None and due_date < on and column != "done"


def _keep(where: BoardFilter, cls: str, owner: str | None) -> bool:
    if where.class_of_service is not None and cls != where.class_of_service:
        return False
    return where.owner is None or owner == where.owner


def _incident_scope(where: BoardFilter, scope: TeamScope | None) -> list[ColumnElement[bool]]:
    """Incidents (and their post-mortems) by the services they name, or the team's services."""
    conditions = []
    if where.service is not None:
        conditions.append(services_match([where.service]))
    if scope is not None:
        conditions.append(services_match(scope.services))
    return conditions


def _ics(session: Session) -> dict[str, str]:
    """Who is IC of each active incident now: the incident card's owner."""
    rows = session.execute(
        select(RoleAssignment.incident_id, RoleAssignment.assignee)
        .join(Incident, Incident.id == RoleAssignment.incident_id)
        .where(
            RoleAssignment.role == "ic",
            RoleAssignment.ended_at.is_(None),
            Incident.status.in_(lifecycle.ACTIVE),
        )
    )
    return {inc_id: assignee for inc_id, assignee in rows}


def _next_deadline(policy: Policy, pm: Postmortem) -> datetime | None:
    """The earliest deadline of the policy not met yet (its due time as fixed at the start)."""
    due: list[datetime] = []
    for deadline in policy.postmortem.deadlines:
        if getattr(pm, _MET_BY[deadline.done_when]) is not None:
            continue
        raw = (pm.deadlines or {}).get(deadline.id)
        if raw:
            try:
                due.append(datetime.fromisoformat(raw))
            except ValueError:
                continue
    return min(due) if due else None
