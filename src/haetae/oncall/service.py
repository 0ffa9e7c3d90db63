"""Schedules as the rest of Haetae uses them: who is on call, shifts, hand-offs, specs.

The escalation engine calls `on_call` and `shift_changes`; `haetae apply` and `haetae
export` call `put_schedule` and `spec_of`. The rules live in rotation.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.clock import as_utc
from haetae.errors import HaetaeError
from haetae.oncall.models import Override, Rotation, Schedule
from haetae.oncall.rotation import (
    WEEKDAY_NAMES,
    OverrideSlot,
    Piece,
    RotationPlan,
    Window,
    by_person,
    layer_timeline,
)
from haetae.oncall.schemas import OverrideSpec, Restriction, RotationSpec, ScheduleSpec
from haetae.people.models import Team

_TICK = timedelta(microseconds=1)
# Schedules are computed between these years; outside them a time is refused, not overflowed.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def check_range(*moments: datetime, field: str = "at") -> None:
    for moment in moments:
        if not EARLIEST <= moment <= LATEST:
            raise HaetaeError(
                "VALIDATION_ERROR", "Times must fall between 1900 and 2200.", field=field
            )


@dataclass(frozen=True)
class Shift:
    """A stretch of one person's on-call time in one layer of a schedule."""

    schedule_id: int
    layer: str
    user_id: int
    username: str
    start: datetime
    end: datetime
    source: str  # rotation | override
    rotation_id: int | None
    override_id: int | None


@dataclass(frozen=True)
class ShiftChange:
    """A hand-off: at `at`, `to_user_id` takes over from `from_user_id` (None: nobody)."""

    schedule_id: int
    layer: str
    at: datetime
    from_user_id: int | None
    to_user_id: int | None


# Lookups


def schedule_by_slug(session: Session, slug: str) -> Schedule | None:
    return session.scalars(select(Schedule).where(Schedule.slug == slug)).first()


def get_schedule(session: Session, slug: str) -> Schedule:
    found = schedule_by_slug(session, slug)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No schedule {slug}.")
    return found


def list_schedules(session: Session, *, team_id: int | None = None) -> list[Schedule]:
    query = select(Schedule).order_by(Schedule.slug)
    if team_id is not None:
        query = query.where(Schedule.team_id == team_id)
    return list(session.scalars(query))


def rotations_of(session: Session, schedule_id: int) -> list[Rotation]:
    query = select(Rotation).where(Rotation.schedule_id == schedule_id).order_by(Rotation.id)
    return list(session.scalars(query))


def layers_of(session: Session, schedule_id: int) -> list[str]:
    """The schedule's layers: primary first, then the others by name."""
    names = {r.layer for r in rotations_of(session, schedule_id)}
    return sorted(names, key=lambda name: (name != "primary", name != "secondary", name))


def user_by_name(session: Session, username: str, *, field: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise HaetaeError("UNKNOWN_USER", f"No user '{username}'.", field=field)
    return user


def _users(session: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


# The timeline


def plan_of(rotation: Rotation) -> RotationPlan:
    return RotationPlan(
        id=rotation.id,
        layer=rotation.layer,
        priority=rotation.priority,
        length=rotation.shift_length,
        unit=rotation.shift_unit,
        handoff=datetime.fromisoformat(rotation.handoff),
        zone=ZoneInfo(rotation.time_zone),
        participants=tuple(rotation.participants),
        windows=tuple(_window(r) for r in rotation.restrictions),
    )


def _window(stored: dict[str, object]) -> Window:
    restriction = Restriction.model_validate(stored)
    return Window(
        days=frozenset(WEEKDAY_NAMES.index(d) for d in restriction.days),
        start=restriction.start,
        end=restriction.end,
    )


def _slots(
    session: Session, schedule_id: int, start: datetime, end: datetime
) -> list[OverrideSlot]:
    rows = session.scalars(
        select(Override).where(
            Override.schedule_id == schedule_id,
            Override.starts_at < end,
            Override.ends_at > start,
        )
    )
    return [
        OverrideSlot(o.id, o.layer, o.user_id, o.replaces_user_id, o.starts_at, o.ends_at)
        for o in rows
    ]


def timeline(
    session: Session,
    schedule_id: int,
    *,
    start: datetime,
    end: datetime,
    layer: str | None = None,
) -> dict[str, list[Piece]]:
    """Layer -> the final schedule's pieces over [start, end)."""
    start, end = as_utc(start), as_utc(end)
    check_range(start, end, field="start")
    plans = [plan_of(r) for r in rotations_of(session, schedule_id)]
    slots = _slots(session, schedule_id, start, end)
    names = {p.layer for p in plans} | {s.layer for s in slots}
    if layer is not None:
        names &= {layer}
    return {name: layer_timeline(name, plans, slots, start, end) for name in sorted(names)}


def shifts(
    session: Session,
    schedule_id: int,
    *,
    start: datetime,
    end: datetime,
    layer: str | None = None,
) -> list[Shift]:
    """Every layer's shifts (or one layer's) over [start, end), clipped to it, by start."""
    pieces = [
        p
        for found in timeline(session, schedule_id, start=start, end=end, layer=layer).values()
        for p in found
    ]
    users = _users(session, {p.user_id for p in pieces})
    found_shifts = [
        Shift(
            schedule_id=schedule_id,
            layer=p.layer,
            user_id=p.user_id,
            username=users[p.user_id].username if p.user_id in users else "",
            start=p.start,
            end=p.end,
            source=p.source,
            rotation_id=p.rotation_id,
            override_id=p.override_id,
        )
        for p in pieces
    ]
    return sorted(found_shifts, key=lambda s: (s.start, s.layer))


def on_call(
    session: Session, schedule_id: int, *, layer: str = "primary", at: datetime
) -> list[User]:
    """Who is on call in the layer at `at`: usually one person; empty if nobody."""
    at = as_utc(at)
    check_range(at)
    pieces = timeline(session, schedule_id, start=at, end=at + _TICK, layer=layer).get(layer, [])
    users = _users(session, {p.user_id for p in pieces})
    return [users[p.user_id] for p in pieces if p.user_id in users]


@dataclass(frozen=True)
class OnCallNow:
    """One layer's on-call at a moment, and until when (None: beyond the horizon)."""

    schedule: Schedule
    layer: str
    users: list[User]
    since: datetime | None
    until: datetime | None


def on_call_now(
    session: Session, schedule: Schedule, *, at: datetime, horizon: timedelta = timedelta(days=90)
) -> list[OnCallNow]:
    """Each layer of the schedule at `at`, with the current stretch's start and end."""
    at = as_utc(at)
    check_range(at)
    answers = []
    start, end = at - horizon, at + horizon
    for layer, pieces in timeline(session, schedule.id, start=start, end=end).items():
        stretches = by_person(pieces)
        current = next(((s, e, u) for s, e, u in stretches if s <= at < e), None)
        users = _users(session, {current[2]}) if current else {}
        since = until = None
        if current is not None:
            since = None if current[0] == start else current[0]
            until = None if current[1] == end else current[1]
        else:
            before = [e for s, e, u in stretches if e <= at]
            after = [s for s, e, u in stretches if s > at]
            since = before[-1] if before else None
            until = after[0] if after else None
        answers.append(OnCallNow(schedule, layer, list(users.values()), since, until))
    return answers


def shift_changes(session: Session, *, start: datetime, end: datetime) -> list[ShiftChange]:
    """Every hand-off at a moment in [start, end), across all schedules and layers, by time.
    Going off duty (to nobody) and coming on (from nobody) count."""
    changes = [
        change
        for schedule in list_schedules(session)
        for change in changes_of(session, schedule.id, start=start, end=end)
    ]
    return sorted(changes, key=lambda c: (c.at, c.schedule_id, c.layer))


def changes_of(
    session: Session,
    schedule_id: int,
    *,
    start: datetime,
    end: datetime,
    layer: str | None = None,
) -> list[ShiftChange]:
    """One schedule's hand-offs in [start, end), by time."""
    start, end = as_utc(start), as_utc(end)
    changes = []
    found = timeline(session, schedule_id, start=start - _TICK, end=end, layer=layer)
    for name, pieces in found.items():
        for at, before, after in _transitions(by_person(pieces), start - _TICK, end):
            if start <= at < end and before != after:
                changes.append(ShiftChange(schedule_id, name, at, before, after))
    return sorted(changes, key=lambda c: (c.at, c.layer))


def _transitions(
    stretches: list[tuple[datetime, datetime, int]], start: datetime, end: datetime
) -> list[tuple[datetime, int | None, int | None]]:
    """(when, from, to) for each change of person over [start, end), nobody being None."""
    found: list[tuple[datetime, int | None, int | None]] = []
    current: int | None = None
    until = start
    for s, e, user in stretches:
        if s > until and current is not None:
            found.append((until, current, None))
            current = None
        found.append((s, current, user))
        current, until = user, e
    if current is not None and until < end:
        found.append((until, current, None))
    return found


# Specs: create, replace, export


def _team_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    team = session.scalars(select(Team).where(Team.slug == slug)).first()
    if team is None:
        raise HaetaeError("UNKNOWN_TEAM", f"No team '{slug}'.", field="team")
    return team.id


def _check_names(spec: ScheduleSpec) -> None:
    seen: set[str] = set()
    for i, rotation in enumerate(spec.rotations):
        if rotation.name in seen:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"Two rotations are named '{rotation.name}'; names are unique in a schedule.",
                field=f"rotations.{i}.name",
            )
        seen.add(rotation.name)


def put_schedule(session: Session, spec: ScheduleSpec, *, now: datetime) -> Schedule:
    """Create the schedule named by `spec.id`, or make the stored one equal to the spec.
    Rotations are matched by name and keep their ids; applying the same spec twice
    changes nothing."""
    _check_names(spec)
    for i, rotation in enumerate(spec.rotations):
        check_range(rotation.handoff.replace(tzinfo=UTC), field=f"rotations.{i}.handoff")
    team_id = _team_id(session, spec.team)
    participants = [
        [
            user_by_name(session, name, field=f"rotations.{i}.participants.{j}").id
            for j, name in enumerate(rotation.participants)
        ]
        for i, rotation in enumerate(spec.rotations)
    ]
    schedule = schedule_by_slug(session, spec.id)
    if schedule is None:
        schedule = Schedule(slug=spec.id, created_at=now)
        session.add(schedule)
    _assign(
        schedule,
        name=spec.name or spec.id,
        description=spec.description,
        time_zone=spec.time_zone,
        team_id=team_id,
    )
    session.flush()
    existing = {r.name: r for r in rotations_of(session, schedule.id)}
    for rotation_spec, ids in zip(spec.rotations, participants, strict=True):
        row = existing.pop(rotation_spec.name, None)
        if row is None:
            row = Rotation(schedule_id=schedule.id, name=rotation_spec.name)
            session.add(row)
        _assign(row, **_rotation_values(rotation_spec, ids, spec.time_zone))
    for gone in existing.values():
        session.delete(gone)
    session.flush()
    return schedule


def _assign(row: object, **values: object) -> None:
    # Only changed attributes are set, so an unchanged spec writes nothing.
    for key, value in values.items():
        if getattr(row, key, None) != value:
            setattr(row, key, value)


def _rotation_values(spec: RotationSpec, participants: list[int], zone: str) -> dict[str, object]:
    return {
        "layer": spec.layer,
        "priority": spec.priority,
        "shift_length": spec.shift_length,
        "shift_unit": spec.unit,
        "handoff": spec.handoff.isoformat(),
        "time_zone": spec.time_zone or zone,
        "participants": participants,
        "restrictions": [r.model_dump(mode="json") for r in spec.restrictions],
    }


_TYPE_OF_UNIT = {"days": "daily", "weeks": "weekly"}


def spec_of(session: Session, schedule: Schedule) -> ScheduleSpec:
    """The schedule as a spec, for `haetae export` and the API; put_schedule(spec_of(s))
    changes nothing."""
    rotations = rotations_of(session, schedule.id)
    users = _users(session, {u for r in rotations for u in r.participants})
    team = session.get(Team, schedule.team_id) if schedule.team_id else None
    return ScheduleSpec(
        id=schedule.slug,
        name=schedule.name,
        description=schedule.description,
        time_zone=schedule.time_zone,
        team=team.slug if team else None,
        rotations=[
            RotationSpec(
                name=r.name,
                layer=r.layer,
                priority=r.priority,
                type=_TYPE_OF_UNIT.get(r.shift_unit, "custom"),
                shift_length=r.shift_length,
                shift_unit=None if r.shift_unit in _TYPE_OF_UNIT else r.shift_unit,
                handoff=datetime.fromisoformat(r.handoff),
                time_zone=None if r.time_zone == schedule.time_zone else r.time_zone,
                participants=[users[u].username for u in r.participants if u in users],
                restrictions=[Restriction.model_validate(x) for x in r.restrictions],
            )
            for r in rotations
        ],
    )


def delete_schedule(session: Session, schedule: Schedule) -> None:
    session.execute(delete(Rotation).where(Rotation.schedule_id == schedule.id))
    session.execute(delete(Override).where(Override.schedule_id == schedule.id))
    session.delete(schedule)
    session.flush()


# Overrides


def add_override(
    session: Session, schedule_id: int, spec: OverrideSpec, *, by: str, now: datetime
) -> Override:
    check_range(spec.start, spec.end, field="start")
    layers = layers_of(session, schedule_id)
    if spec.layer not in layers:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"The schedule has no layer '{spec.layer}' (it has: {', '.join(layers) or '-'}).",
            field="layer",
        )
    user = user_by_name(session, spec.user, field="user")
    replaces = user_by_name(session, spec.replaces, field="replaces") if spec.replaces else None
    override = Override(
        schedule_id=schedule_id,
        layer=spec.layer,
        user_id=user.id,
        replaces_user_id=replaces.id if replaces else None,
        starts_at=as_utc(spec.start),
        ends_at=as_utc(spec.end),
        note=spec.note,
        created_by=by,
        created_at=now,
    )
    session.add(override)
    session.flush()
    return override


def list_overrides(
    session: Session,
    schedule_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Override]:
    query = select(Override).where(Override.schedule_id == schedule_id)
    if start is not None:
        query = query.where(Override.ends_at > as_utc(start))
    if end is not None:
        query = query.where(Override.starts_at < as_utc(end))
    return list(session.scalars(query.order_by(Override.starts_at, Override.id)))


def remove_override(session: Session, schedule_id: int, override_id: int) -> None:
    override = session.get(Override, override_id)
    if override is None or override.schedule_id != schedule_id:
        raise HaetaeError("NOT_FOUND", f"No override {override_id} on this schedule.")
    session.delete(override)
    session.flush()


def usernames(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    return {i: u.username for i, u in _users(session, {i for i in ids if i is not None}).items()}
