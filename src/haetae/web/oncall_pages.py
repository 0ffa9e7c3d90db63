"""On-call in the console: who is on call now, and each schedule's calendar and overrides.

Every page reads through `haetae.oncall` (service, views, handoffs), as the API does; the
schedule page's forms (overrides, hand-off notes, rotations, the iCal feed) are in
schedule_forms.py. Times show in the schedule's own zone, not the policy's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.oncall import handoffs as notes
from haetae.oncall import service as oncall
from haetae.oncall.models import HandoffNote, Override, Schedule
from haetae.oncall.schemas import RotationSpec
from haetae.oncall.service import ShiftChange
from haetae.oncall.views import schedules_for
from haetae.people import teams
from haetae.people.models import Team
from haetae.web.console import Console, Refused, signed_in
from haetae.web.forms import Failure
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

# How far ahead the "next hand-off" is looked for.
NEXT_HANDOFF_HORIZON = timedelta(days=31)
# Hand-offs a note can be written about: those of the last two weeks.
NOTE_LOOKBACK = timedelta(days=14)
WEEKS = (2, 3, 4)
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
UNITS = {"hours": N_("hours"), "days": N_("days"), "weeks": N_("weeks")}
ROTATION_TYPES = {"daily": N_("Daily"), "weekly": N_("Weekly"), "custom": N_("Custom")}
NO_SCHEDULE = N_("Schedule %(slug)s does not exist.")


def zoned(value: datetime | None, zone: str) -> str:
    """A UTC time on the wall clock of `zone`, with its abbreviation: 2026-03-02 09:00 KST."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def zoned_input(value: datetime | None, zone: str) -> str:
    """The value of a datetime-local input on the wall clock of `zone`."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def page(console: Console, template: str, status_code: int = 200, **data: Any) -> Response:
    return render(
        console, template, status_code=status_code, zoned=zoned, zoned_input=zoned_input, **data
    )


def find_schedule(console: Console, session: Session, slug: str) -> Schedule:
    found = oncall.schedule_by_slug(session, slug)
    if found is None:
        raise Refused(404, console.gettext(NO_SCHEDULE) % {"slug": slug})
    return found


def usernames(session: Session, ids: list[int | None]) -> dict[int, str]:
    return oncall.usernames(session, ids)


# On call now


@dataclass
class LayerNow:
    layer: str
    people: list[User]
    since: datetime | None
    until: datetime | None
    next_handoff: ShiftChange | None
    next_from: str | None
    next_to: str | None


@dataclass
class ScheduleNow:
    schedule: Schedule
    team: Team | None
    layers: list[LayerNow]


def _now_of(session: Session, schedule: Schedule, now: datetime) -> ScheduleNow:
    changes = oncall.changes_of(session, schedule.id, start=now, end=now + NEXT_HANDOFF_HORIZON)
    names = usernames(session, [c.from_user_id for c in changes] + [c.to_user_id for c in changes])
    layers = []
    for current in oncall.on_call_now(session, schedule, at=now):
        upcoming = next((c for c in changes if c.layer == current.layer and c.at > now), None)
        layers.append(
            LayerNow(
                layer=current.layer,
                people=current.users,
                since=current.since,
                until=current.until,
                next_handoff=upcoming,
                next_from=names.get(upcoming.from_user_id or 0) if upcoming else None,
                next_to=names.get(upcoming.to_user_id or 0) if upcoming else None,
            )
        )
    order = oncall.layers_of(session, schedule.id)
    layers.sort(key=lambda item: order.index(item.layer) if item.layer in order else len(order))
    team = session.get(Team, schedule.team_id) if schedule.team_id else None
    return ScheduleNow(schedule, team, layers)


@router.get("/oncall")
def on_call_now(
    request: Request, team: str = "", service: str = "", console: Console = Depends(signed_in)
) -> Response:
    """Each schedule's layers: who is on call, since and until when, and the next hand-off;
    filtered by a team's schedules or a service's schedule."""
    now = console.now()
    with console.read() as session:
        try:
            found = schedules_for(session, None, team or None, None if team else service or None)
        except HaetaeError as exc:
            if exc.code == "NOT_FOUND":
                raise Refused(404, console.gettext(N_("No such team or service."))) from None
            raise
        rows = [_now_of(session, s, now) for s in found]
        return page(
            console,
            "oncall.html",
            active="oncall",
            rows=rows,
            teams=teams.list_teams(session),
            services=teams.list_services(session),
            filters={"team": team, "service": "" if team else service},
        )


# One schedule


@dataclass
class Segment:
    username: str
    start: str  # HH:MM on the schedule's wall clock
    end: str
    override: bool


@dataclass
class Day:
    day: date
    weekday: str
    today: bool
    cells: list[list[Segment]]  # one list per layer, in the order of `layers`


@dataclass
class RotationView:
    id: int
    spec: RotationSpec
    zone: str


@dataclass
class OverrideView:
    row: Override
    user: str
    replaces: str | None


@dataclass
class NoteView:
    note: HandoffNote
    from_user: str | None
    to_user: str | None


@dataclass
class HandoffChoice:
    value: str  # "layer|ISO time"
    change: ShiftChange
    from_user: str | None
    to_user: str | None


@dataclass
class ScheduleView:
    schedule: Schedule
    team: Team | None
    zone: str
    weeks: int
    layers: list[str]
    days: list[Day]
    now: list[Any] = field(default_factory=list)
    rotations: list[RotationView] = field(default_factory=list)
    overrides: list[OverrideView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    handoff_choices: list[HandoffChoice] = field(default_factory=list)
    users: list[User] = field(default_factory=list)


def _calendar(
    session: Session, schedule: Schedule, layers: list[str], *, now: datetime, weeks: int
) -> list[Day]:
    """Day by day on the schedule's wall clock, from today, each layer's shifts clipped
    to the day."""
    zone = ZoneInfo(schedule.time_zone)
    today = now.astimezone(zone).date()
    bounds = [
        datetime.combine(today + timedelta(days=i), time(0), tzinfo=zone)
        for i in range(weeks * 7 + 1)
    ]
    shifts = oncall.shifts(session, schedule.id, start=bounds[0], end=bounds[-1])
    days = []
    for start, end in pairwise(bounds):
        cells: list[list[Segment]] = []
        for layer in layers:
            segments = []
            for s in shifts:
                if s.layer != layer or s.end <= start or s.start >= end:
                    continue
                begin, finish = max(s.start, start), min(s.end, end)
                segments.append(
                    Segment(
                        username=s.username,
                        start=begin.astimezone(zone).strftime("%H:%M"),
                        end="24:00" if finish == end else finish.astimezone(zone).strftime("%H:%M"),
                        override=s.source == "override",
                    )
                )
            cells.append(segments)
        days.append(Day(start.date(), WEEKDAYS[start.weekday()], start.date() == today, cells))
    return days


def active_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))


def schedule_view(
    session: Session, console: Console, schedule: Schedule, *, weeks: int
) -> ScheduleView:
    now = console.now()
    layers = oncall.layers_of(session, schedule.id)
    spec = oncall.spec_of(session, schedule)
    rows = oncall.rotations_of(session, schedule.id)
    overrides = oncall.list_overrides(session, schedule.id, start=now)
    written = notes.list_handoffs(session, schedule.id, limit=10)
    changes = oncall.changes_of(
        session, schedule.id, start=now - NOTE_LOOKBACK, end=now + timedelta(microseconds=1)
    )
    names = usernames(
        session,
        [o.user_id for o in overrides]
        + [o.replaces_user_id for o in overrides]
        + [n.from_user_id for n in written]
        + [n.to_user_id for n in written]
        + [c.from_user_id for c in changes]
        + [c.to_user_id for c in changes],
    )
    return ScheduleView(
        schedule=schedule,
        team=session.get(Team, schedule.team_id) if schedule.team_id else None,
        zone=schedule.time_zone,
        weeks=weeks,
        layers=layers,
        days=_calendar(session, schedule, layers, now=now, weeks=weeks),
        now=_now_of(session, schedule, now).layers,
        rotations=[
            RotationView(row.id, rotation, rotation.time_zone or schedule.time_zone)
            for row, rotation in zip(rows, spec.rotations, strict=True)
        ],
        overrides=[
            OverrideView(o, names.get(o.user_id, ""), names.get(o.replaces_user_id or 0) or None)
            for o in overrides
        ],
        notes=[
            NoteView(n, names.get(n.from_user_id or 0), names.get(n.to_user_id or 0))
            for n in written
        ],
        handoff_choices=[
            HandoffChoice(
                f"{c.layer}|{c.at.isoformat()}",
                c,
                names.get(c.from_user_id or 0),
                names.get(c.to_user_id or 0),
            )
            for c in reversed(changes)
        ],
        users=active_users(session),
    )


def weeks_from(value: str | None) -> int:
    try:
        weeks = int(value or WEEKS[0])
    except ValueError:
        return WEEKS[0]
    return min(max(weeks, WEEKS[0]), WEEKS[-1])


def schedule_page(
    console: Console,
    slug: str,
    *,
    weeks: int = WEEKS[0],
    failure: Failure | None = None,
    fresh_feed: str | None = None,
    status: int = 200,
) -> Response:
    with console.read() as session:
        view = schedule_view(session, console, find_schedule(console, session, slug), weeks=weeks)
        return page(
            console,
            "schedule.html",
            status_code=status,
            active="oncall",
            view=view,
            failure=failure,
            fresh_feed=fresh_feed,
            week_choices=WEEKS,
            units=UNITS,
            rotation_types=ROTATION_TYPES,
            checklist=console.policy.escalation.handoff_checklist,
        )


@router.get("/schedules/{slug}")
def schedule_detail(slug: str, weeks: str = "", console: Console = Depends(signed_in)) -> Response:
    return schedule_page(console, slug, weeks=weeks_from(weeks))
