"""Teams (members and leads) and services (owning team, schedule, escalation per severity)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.escalation import policies as escalation_policies
from haetae.inputs import problems_error
from haetae.oncall.models import Schedule
from haetae.people.models import Service, Team, TeamMember
from haetae.people.schemas import ServiceSpec, TeamSpec
from haetae.policy.schema import Policy


def find_team(session: Session, slug: str) -> Team | None:
    return session.scalars(select(Team).where(Team.slug == slug)).first()


def get_team(session: Session, slug: str) -> Team:
    team = find_team(session, slug)
    if team is None:
        raise HaetaeError("NOT_FOUND", f"No team '{slug}'.")
    return team


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.slug)))


def team_spec(session: Session, team: Team) -> TeamSpec:
    rows = session.execute(
        select(User.username, TeamMember.role)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id)
    ).all()
    members: list[str] = []
    leads: list[str] = []
    for username, role in rows:
        (leads if role == "lead" else members).append(username)
    return TeamSpec(
        id=team.slug,
        name=team.name,
        description=team.description,
        members=sorted(members),
        leads=sorted(leads),
    )


def _user_ids(session: Session, usernames: list[str], field: str) -> dict[str, int]:
    rows = session.execute(select(User.username, User.id).where(User.username.in_(set(usernames))))
    found: dict[str, int] = {name: user_id for name, user_id in rows.all()}
    for k, name in enumerate(usernames):
        if name not in found:
            raise HaetaeError(
                "UNKNOWN_USER", f"{field}: unknown user '{name}'.", field=f"{field}.{k}"
            )
    return found


def put_team(session: Session, spec: TeamSpec, *, now: datetime) -> tuple[Team, bool]:
    """Create or replace team `spec.id` with exactly these members and leads; True when made."""
    spec = spec.normalized()
    ids = _user_ids(session, spec.leads, "leads") | _user_ids(session, spec.members, "members")
    team = find_team(session, spec.id)
    created = team is None
    if team is None:
        team = Team(slug=spec.id, created_at=now)
        session.add(team)
    team.name = spec.name
    team.description = spec.description
    session.flush()
    wanted = {ids[name]: "lead" for name in spec.leads}
    wanted |= {ids[name]: "member" for name in spec.members}
    current = {
        m.user_id: m
        for m in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id))
    }
    for user_id, member in current.items():
        if user_id not in wanted:
            session.delete(member)
        elif member.role != wanted[user_id]:
            member.role = wanted[user_id]
    for user_id, role in wanted.items():
        if user_id not in current:
            session.add(TeamMember(team_id=team.id, user_id=user_id, role=role))
    session.flush()
    return team, created


def set_member(session: Session, team: Team, username: str, *, role: str) -> None:
    user_id = _user_ids(session, [username], "username")[username]
    member = session.scalars(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
    ).first()
    if member is None:
        session.add(TeamMember(team_id=team.id, user_id=user_id, role=role))
    else:
        member.role = role
    session.flush()


def remove_member(session: Session, team: Team, username: str) -> None:
    member = session.scalars(
        select(TeamMember)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id, User.username == username)
    ).first()
    if member is None:
        raise HaetaeError("NOT_FOUND", f"{username} is not in team {team.slug}.")
    session.delete(member)
    session.flush()


def delete_team(session: Session, team: Team) -> None:
    """Its memberships go with it; services and schedules it owned keep going without one."""
    for member in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id)):
        session.delete(member)
    for service in session.scalars(select(Service).where(Service.team_id == team.id)):
        service.team_id = None
    for schedule in session.scalars(select(Schedule).where(Schedule.team_id == team.id)):
        schedule.team_id = None
    session.delete(team)
    session.flush()


# Services.


def find_service(session: Session, slug: str) -> Service | None:
    return session.scalars(select(Service).where(Service.slug == slug)).first()


def get_service(session: Session, slug: str) -> Service:
    service = find_service(session, slug)
    if service is None:
        raise HaetaeError("NOT_FOUND", f"No service '{slug}'.")
    return service


def list_services(session: Session) -> list[Service]:
    return list(session.scalars(select(Service).order_by(Service.slug)))


def service_spec(session: Session, service: Service) -> ServiceSpec:
    team = session.get(Team, service.team_id) if service.team_id else None
    schedule = session.get(Schedule, service.schedule_id) if service.schedule_id else None
    return ServiceSpec(
        id=service.slug,
        name=service.name,
        description=service.description,
        team=team.slug if team else None,
        schedule=schedule.slug if schedule else None,
        escalation={k: list(v) for k, v in (service.escalation or {}).items()},
    )


def escalation_problems(
    session: Session,
    policy: Policy,
    spec: ServiceSpec,
    *,
    extra_policies: frozenset[str] | set[str] = frozenset(),
) -> list[tuple[tuple[str | int, ...], str]]:
    """Severities the policy does not define and escalation policies nobody defines, each
    with its location under the service (`escalation.P1.0`)."""
    severity_ids = [s.id for s in policy.severities]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for severity, slugs in spec.escalation.items():
        if severity not in severity_ids:
            problems.append(
                (
                    ("escalation", severity),
                    f"'{severity}' is not a severity (one of: {', '.join(severity_ids)})",
                )
            )
        for k, slug in enumerate(slugs):
            if slug in extra_policies:
                continue
            if escalation_policies.resolve(session, policy, slug) is None:
                problems.append(
                    (("escalation", severity, k), f"unknown escalation policy '{slug}'")
                )
    return problems


def put_service(
    session: Session, policy: Policy, spec: ServiceSpec, *, now: datetime, check: bool = True
) -> tuple[Service, bool]:
    """Create or replace service `spec.id`; True when it was made. `check=False` skips the
    escalation policy check (config as code checks the whole file first)."""
    spec = spec.normalized()
    if check:
        problems = escalation_problems(session, policy, spec)
        if problems:
            raise problems_error(problems)
    team_id = get_team_id(session, spec.team)
    schedule_id = None
    if spec.schedule is not None:
        schedule_id = session.scalars(
            select(Schedule.id).where(Schedule.slug == spec.schedule)
        ).first()
        if schedule_id is None:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"schedule: unknown schedule '{spec.schedule}'.",
                field="schedule",
            )
    service = find_service(session, spec.id)
    created = service is None
    if service is None:
        service = Service(slug=spec.id, created_at=now)
        session.add(service)
    service.name = spec.name
    service.description = spec.description
    service.team_id = team_id
    service.schedule_id = schedule_id
    service.escalation = {k: list(v) for k, v in spec.escalation.items()}
    session.flush()
    return service, created


def get_team_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    team_id = session.scalars(select(Team.id).where(Team.slug == slug)).first()
    if team_id is None:
        raise HaetaeError("UNKNOWN_TEAM", f"team: unknown team '{slug}'.", field="team")
    return team_id


def delete_service(session: Session, service: Service) -> None:
    session.delete(service)
    session.flush()
