"""Who a step's target means right now: the on-call of a schedule, a team, a role holder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.incidents.models import Incident, RoleAssignment
from haetae.oncall import service as oncall
from haetae.people.models import Service, TeamMember
from haetae.people.models import Team as TeamRow
from haetae.policy.escalation import Target
from haetae.policy.schema import Policy


def resolve(
    session: Session, policy: Policy, incident: Incident, target: Target, *, now: datetime
) -> tuple[list[User], str | None]:
    """The active users the target names, and why there are none when there are none."""
    kind = target.kind
    users: list[User] = []
    if kind in ("oncall", "schedule"):
        layer = target.oncall if kind == "oncall" else target.layer
        schedule_ids = _schedules(session, policy, incident, target)
        if not schedule_ids:
            name = target.schedule if kind == "schedule" else policy.escalation.default_schedule
            return [], f"schedule '{name}' does not exist"
        for schedule_id in schedule_ids:
            users += oncall.on_call(session, schedule_id, layer=layer or "primary", at=now)
        if not users:
            return [], f"nobody is on call for {target.describe()}"
    elif kind == "user":
        user = session.scalars(select(User).where(User.username == target.user)).one_or_none()
        if user is None:
            return [], f"user '{target.user}' does not exist"
        users = [user]
    elif kind == "team":
        team_id = session.scalar(select(TeamRow.id).where(TeamRow.slug == target.team))
        if team_id is None:
            return [], f"team '{target.team}' does not exist"
        users = _members(session, [team_id], leads=target.members == "leads")
    elif kind == "service_team":
        team_ids = [
            t
            for t in session.scalars(
                select(Service.team_id).where(Service.slug.in_(incident.services or []))
            )
            if t is not None
        ]
        if not team_ids:
            return [], "the incident's services have no team"
        users = _members(session, team_ids, leads=target.service_team == "leads")
    elif kind == "role":
        assignee = session.scalar(
            select(RoleAssignment.assignee).where(
                RoleAssignment.incident_id == incident.id,
                RoleAssignment.role == target.role,
                RoleAssignment.ended_at.is_(None),
            )
        )
        if assignee is None:
            return [], f"nobody holds the role '{target.role}' yet"
        user = session.scalars(select(User).where(User.username == assignee)).one_or_none()
        if user is None:
            return [], f"'{assignee}' ({target.role}) is not a Haetae user"
        users = [user]
    active = [u for u in dict.fromkeys(users) if u.active]
    if not active:
        return [], f"nobody to notify for {target.describe()}"
    return active, None


def _schedules(session: Session, policy: Policy, incident: Incident, target: Target) -> list[int]:
    if target.kind == "schedule":
        found = oncall.schedule_by_slug(session, target.schedule or "")
        return [found.id] if found else []
    by_service = [
        s
        for s in session.scalars(
            select(Service.schedule_id).where(Service.slug.in_(incident.services or []))
        )
        if s is not None
    ]
    if by_service:
        return list(dict.fromkeys(by_service))
    default = oncall.schedule_by_slug(session, policy.escalation.default_schedule)
    return [default.id] if default else []


def _members(session: Session, team_ids: list[int], *, leads: bool) -> list[User]:
    query = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id.in_(team_ids))
        .order_by(User.username)
    )
    if leads:
        query = query.where(TeamMember.role == "lead")
    return list(dict.fromkeys(session.scalars(query)))
