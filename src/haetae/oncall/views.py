"""How schedules are shown: the API's shapes, shared by the routes and the CLI's --json."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.oncall import service as oncall
from haetae.oncall.models import Override, Schedule
from haetae.oncall.schemas import OnCallOut, OnCallPerson, OverrideOut, ScheduleOut, ShiftOut
from haetae.people.models import Service, Team


def schedule_out(session: Session, schedule: Schedule) -> ScheduleOut:
    spec = oncall.spec_of(session, schedule)
    return ScheduleOut(
        **spec.model_dump(),
        layers=oncall.layers_of(session, schedule.id),
        ical_feed=schedule.ical_token_hash is not None,
        created_at=schedule.created_at,
    )


def override_out(session: Session, schedule: Schedule, row: Override) -> OverrideOut:
    names = oncall.usernames(session, [row.user_id, row.replaces_user_id])
    return OverrideOut(
        id=row.id,
        schedule=schedule.slug,
        layer=row.layer,
        user=names.get(row.user_id, ""),
        replaces=names.get(row.replaces_user_id) if row.replaces_user_id else None,
        start=row.starts_at,
        end=row.ends_at,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def schedules_for(
    session: Session, schedule: str | None, team: str | None, service: str | None
) -> list[Schedule]:
    if schedule is not None:
        return [oncall.get_schedule(session, schedule)]
    if team is not None:
        found = session.scalars(select(Team).where(Team.slug == team)).first()
        if found is None:
            raise HaetaeError("NOT_FOUND", f"No team {team}.")
        return oncall.list_schedules(session, team_id=found.id)
    if service is not None:
        owner = session.scalars(select(Service).where(Service.slug == service)).first()
        if owner is None:
            raise HaetaeError("NOT_FOUND", f"No service {service}.")
        linked = session.get(Schedule, owner.schedule_id) if owner.schedule_id else None
        return [linked] if linked else []
    return oncall.list_schedules(session)


def who_is_on_call(
    session: Session,
    *,
    at: datetime,
    schedule: str | None = None,
    team: str | None = None,
    service: str | None = None,
) -> list[OnCallOut]:
    """Each layer of the schedules of a schedule, team or service (default: all) at `at`."""
    answers = []
    for found in schedules_for(session, schedule, team, service):
        for layer in oncall.on_call_now(session, found, at=at):
            answers.append(
                OnCallOut(
                    schedule=found.slug,
                    schedule_name=found.name,
                    layer=layer.layer,
                    users=[
                        OnCallPerson(username=u.username, display_name=u.display_name)
                        for u in layer.users
                    ],
                    since=layer.since,
                    until=layer.until,
                )
            )
    return answers


def shift_outs(
    session: Session,
    schedule: Schedule,
    *,
    start: datetime,
    end: datetime,
    layer: str | None = None,
) -> list[ShiftOut]:
    names = {r.id: r.name for r in oncall.rotations_of(session, schedule.id)}
    return [
        ShiftOut(
            schedule=schedule.slug,
            layer=s.layer,
            user=s.username,
            start=s.start,
            end=s.end,
            source="override" if s.source == "override" else "rotation",
            rotation=names.get(s.rotation_id) if s.rotation_id else None,
            override_id=s.override_id,
        )
        for s in oncall.shifts(session, schedule.id, start=start, end=end, layer=layer)
    ]
