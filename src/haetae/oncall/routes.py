"""Schedules, who is on call, shifts, overrides, hand-off notes and iCal feeds over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.deps import Context, responder, viewer
from haetae.errors import HaetaeError
from haetae.inputs import RowId, Timestamp
from haetae.oncall import handoffs as notes
from haetae.oncall import ical
from haetae.oncall import service as oncall
from haetae.oncall.models import HandoffNote, Schedule
from haetae.oncall.schemas import (
    ChecklistAnswer,
    HandoffIn,
    HandoffOut,
    IcalFeed,
    OnCallOut,
    OverrideOut,
    OverrideSpec,
    ScheduleOut,
    ScheduleSpec,
    ShiftOut,
)
from haetae.oncall.views import (
    override_out,
    schedule_out,
    schedules_for,
    shift_outs,
    who_is_on_call,
)
from haetae.policy.terms import localized

router = APIRouter(tags=["on-call"])
feeds = APIRouter(tags=["on-call"])

MAX_SPAN = timedelta(days=366)
Slug = Annotated[str, Path(max_length=64)]


def base_url(request: Request) -> str:
    """PUBLIC_URL, else the address the caller reached (a feed URL it can use as is)."""
    return str(request.app.state.settings.base_url_for(request.base_url))


# Who is on call


@router.get("/oncall", response_model=list[OnCallOut])
def get_on_call(
    at: Timestamp | None = Query(default=None, description="ISO 8601; default: now"),
    schedule: str | None = Query(default=None, max_length=64),
    team: str | None = Query(default=None, max_length=64),
    service: str | None = Query(default=None, max_length=64),
    ctx: Context = viewer,
) -> list[OnCallOut]:
    """Who is on call at a moment, per schedule and layer, and until when."""
    with ctx.read() as session:
        return who_is_on_call(
            session, at=at or ctx.now(), schedule=schedule, team=team, service=service
        )


# Schedules


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(
    team: str | None = Query(default=None, max_length=64), ctx: Context = viewer
) -> list[ScheduleOut]:
    with ctx.read() as session:
        if team is None:
            return [schedule_out(session, s) for s in oncall.list_schedules(session)]
        return [schedule_out(session, s) for s in schedules_for(session, None, team, None)]


@router.post("/schedules", status_code=201, response_model=ScheduleOut)
def create_schedule(body: ScheduleSpec, ctx: Context = responder) -> ScheduleOut:
    try:
        with ctx.write() as session:
            if oncall.schedule_by_slug(session, body.id):
                raise HaetaeError(
                    "CONFLICT", f"A schedule {body.id} already exists; PUT replaces it."
                )
            return schedule_out(session, oncall.put_schedule(session, body, now=ctx.now()))
    except IntegrityError:
        raise HaetaeError("CONFLICT", f"A schedule {body.id} already exists.") from None


@router.get("/schedules/{slug}", response_model=ScheduleOut)
def get_schedule(slug: Slug, ctx: Context = viewer) -> ScheduleOut:
    with ctx.read() as session:
        return schedule_out(session, oncall.get_schedule(session, slug))


@router.put("/schedules/{slug}", response_model=ScheduleOut)
def put_schedule(slug: Slug, body: ScheduleSpec, ctx: Context = responder) -> ScheduleOut:
    """Create the schedule or make it equal to the body; rotations keep their ids by name."""
    if body.id != slug:
        raise HaetaeError(
            "VALIDATION_ERROR", f"The body's id is {body.id}, the URL's {slug}.", field="id"
        )
    try:
        with ctx.write() as session:
            return schedule_out(session, oncall.put_schedule(session, body, now=ctx.now()))
    except IntegrityError:
        raise HaetaeError("CONFLICT", f"Schedule {slug} changed meanwhile; retry.") from None


@router.delete("/schedules/{slug}", status_code=204)
def delete_schedule(slug: Slug, ctx: Context = responder) -> Response:
    with ctx.write() as session:
        oncall.delete_schedule(session, oncall.get_schedule(session, slug))
    return Response(status_code=204)


@router.get("/schedules/{slug}/shifts", response_model=list[ShiftOut])
def get_shifts(
    slug: Slug,
    start: Timestamp | None = Query(default=None, description="default: now"),
    end: Timestamp | None = Query(default=None, description="default: start + 14 days"),
    layer: str | None = Query(default=None, max_length=32),
    ctx: Context = viewer,
) -> list[ShiftOut]:
    """The final schedule's shifts over [start, end), clipped to it (at most 366 days)."""
    start = start or ctx.now()
    end = end or start + timedelta(days=14)
    if end <= start:
        raise HaetaeError("VALIDATION_ERROR", "end must be after start.", field="end")
    if end - start > MAX_SPAN:
        raise HaetaeError("VALIDATION_ERROR", "Ask for at most 366 days at a time.", field="end")
    with ctx.read() as session:
        schedule = oncall.get_schedule(session, slug)
        return shift_outs(session, schedule, start=start, end=end, layer=layer)


# Overrides


@router.get("/schedules/{slug}/overrides", response_model=list[OverrideOut])
def list_overrides(
    slug: Slug,
    start: Timestamp | None = Query(default=None, description="ending after this"),
    end: Timestamp | None = Query(default=None, description="starting before this"),
    ctx: Context = viewer,
) -> list[OverrideOut]:
    with ctx.read() as session:
        schedule = oncall.get_schedule(session, slug)
        rows = oncall.list_overrides(session, schedule.id, start=start, end=end)
        return [override_out(session, schedule, row) for row in rows]


@router.post("/schedules/{slug}/overrides", status_code=201, response_model=OverrideOut)
def add_override(slug: Slug, body: OverrideSpec, ctx: Context = responder) -> OverrideOut:
    """Someone covers a period; the newest of overlapping overrides wins."""
    with ctx.write() as session:
        schedule = oncall.get_schedule(session, slug)
        row = oncall.add_override(session, schedule.id, body, by=ctx.actor, now=ctx.now())
        return override_out(session, schedule, row)


@router.delete("/schedules/{slug}/overrides/{override_id}", status_code=204)
def remove_override(slug: Slug, override_id: RowId, ctx: Context = responder) -> Response:
    with ctx.write() as session:
        schedule = oncall.get_schedule(session, slug)
        oncall.remove_override(session, schedule.id, override_id)
    return Response(status_code=204)


# Hand-off notes


def handoff_out(
    session: Session, schedule: Schedule, note: HandoffNote, ctx: Context
) -> HandoffOut:
    names = oncall.usernames(session, [note.from_user_id, note.to_user_id])
    items = {i.id: i for i in ctx.policy.escalation.handoff_checklist}
    locale = ctx.principal.locale
    return HandoffOut(
        id=note.id,
        schedule=schedule.slug,
        layer=note.layer,
        shift_start=note.shift_start,
        from_user=names.get(note.from_user_id) if note.from_user_id else None,
        to_user=names.get(note.to_user_id) if note.to_user_id else None,
        checklist=[
            ChecklistAnswer(
                id=key,
                text=localized(items[key].text, locale) if key in items else key,
                done=done,
            )
            for key, done in note.checklist.items()
        ],
        body=note.body,
        author=note.author,
        created_at=note.created_at,
    )


@router.get("/schedules/{slug}/handoffs", response_model=list[HandoffOut])
def list_handoffs(
    slug: Slug,
    layer: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=50, ge=1, le=500),
    ctx: Context = viewer,
) -> list[HandoffOut]:
    with ctx.read() as session:
        schedule = oncall.get_schedule(session, slug)
        found = notes.list_handoffs(session, schedule.id, layer=layer, limit=limit)
        return [handoff_out(session, schedule, note, ctx) for note in found]


@router.post("/schedules/{slug}/handoffs", status_code=201, response_model=HandoffOut)
def write_handoff(slug: Slug, body: HandoffIn, ctx: Context = responder) -> HandoffOut:
    """The hand-over checklist of seed 001 for a shift change (default: the latest)."""
    with ctx.write() as session:
        schedule = oncall.get_schedule(session, slug)
        note = notes.write_handoff(
            session,
            schedule,
            layer=body.layer,
            shift_start=body.shift_start,
            checklist=body.checklist,
            body=body.body,
            items=ctx.policy.escalation.handoff_checklist,
            author=ctx.actor,
            now=ctx.now(),
        )
        return handoff_out(session, schedule, note, ctx)


# iCal feeds


@router.post("/schedules/{slug}/ical-token", response_model=IcalFeed)
def schedule_ical_token(slug: Slug, request: Request, ctx: Context = responder) -> IcalFeed:
    """A new secret feed URL for the schedule, shown once; the previous URL stops working."""
    with ctx.write() as session:
        schedule = oncall.get_schedule(session, slug)
        token, schedule.ical_token_hash = ical.new_token()
    return IcalFeed(url=ical.schedule_feed_url(base_url(request), slug, token))


@router.post("/users/{username}/ical-token", response_model=IcalFeed)
def user_ical_token(
    username: Annotated[str, Path(max_length=64)], request: Request, ctx: Context = viewer
) -> IcalFeed:
    """A new secret URL for a person's own shifts on every schedule: yourself, or an admin."""
    if ctx.principal.name != username and not ctx.principal.allows("admin"):
        raise HaetaeError("FORBIDDEN", "Only the user themself or an admin makes their feed.")
    with ctx.write() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise HaetaeError("NOT_FOUND", f"No user {username}.")
        token, user.ical_token_hash = ical.new_token()
    return IcalFeed(url=ical.user_feed_url(base_url(request), username, token))


_CALENDAR = "text/calendar; charset=utf-8"
_NO_FEED = "No such feed (or the token is wrong or was replaced)."


@feeds.get("/ical/schedules/{slug}.ics", response_class=Response)
def schedule_calendar(
    slug: Slug, request: Request, token: str | None = Query(default=None, max_length=200)
) -> Response:
    """The schedule's shifts as iCal, for a calendar app; the token is the login."""
    now = Context.now()
    with request.app.state.db.session(write=False) as session:
        schedule = ical.schedule_by_token(session, slug, token)
        if schedule is None:
            raise HaetaeError("NOT_FOUND", _NO_FEED)
        body = ical.schedule_feed(session, schedule, now=now)
    return Response(body, media_type=_CALENDAR, headers={"Cache-Control": "private, max-age=300"})


@feeds.get("/ical/users/{username}.ics", response_class=Response)
def user_calendar(
    username: Annotated[str, Path(max_length=64)],
    request: Request,
    token: str | None = Query(default=None, max_length=200),
) -> Response:
    now = Context.now()
    with request.app.state.db.session(write=False) as session:
        user = ical.user_by_token(session, username, token)
        if user is None:
            raise HaetaeError("NOT_FOUND", _NO_FEED)
        body = ical.user_feed(session, user, now=now)
    return Response(body, media_type=_CALENDAR, headers={"Cache-Control": "private, max-age=300"})
