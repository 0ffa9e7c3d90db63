"""The schedule page's forms: overrides, hand-off notes, a rotation's turns, the iCal feed.

Each post calls the same `haetae.oncall` function as the API, in one transaction; a
success goes back to the page (303), a refusal shows the page again with the message on
the form that was posted and what was typed. Times typed are on the schedule's wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.inputs import RowId, is_number
from haetae.oncall import handoffs as notes
from haetae.oncall import ical
from haetae.oncall import service as oncall
from haetae.oncall.schemas import OverrideSpec, RotationSpec, ScheduleSpec
from haetae.web.alerts_pages import base_url
from haetae.web.console import Console, Refused, field, responder_post
from haetae.web.forms import Failure, split_list
from haetae.web.oncall_pages import find_schedule, schedule_page, weeks_from

router = APIRouter(include_in_schema=False)

NOTE_MAX = 2000
BODY_MAX = 20000
USER_REQUIRED = N_("Choose who covers the shift.")
LAYER_UNKNOWN = N_("Choose one of the schedule's layers.")
WHEN_INVALID = N_("%(field)s: give a date and time.")
OUT_OF_RANGE = N_("Times must fall between 1900 and 2200.")
END_AFTER_START = N_("The end must be after the start.")
NOTE_TOO_LONG = N_("The note is too long (at most %(num)d characters).")
UNKNOWN_USER = N_("There is no user %(name)s.")
HANDOFF_REQUIRED = N_("Choose the hand-off the note is about.")
PARTICIPANTS_REQUIRED = N_("List at least one participant, in order.")
LENGTH_INVALID = N_("The shift length is a whole number from 1 to 1000.")
TYPE_INVALID = N_("Choose daily, weekly or custom.")
UNIT_REQUIRED = N_("A custom rotation needs a unit: hours, days or weeks.")
NO_ROTATION = N_("The schedule has no rotation %(id)s.")
NO_OVERRIDE = N_("The schedule has no override %(id)s.")
LABEL_START = N_("Start")
LABEL_END = N_("End")
LABEL_HANDOFF = N_("First hand-off")


class Invalid(Exception):
    """A form the page refuses before calling the service, with messages for the person."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(*messages)
        self.messages = messages


def _back(slug: str, weeks: int, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/schedules/{quote(slug)}?weeks={weeks}#{anchor}", status_code=303)


def wall_clock(console: Console, value: str, zone: str, label: str) -> datetime:
    """A datetime-local input read on the wall clock of `zone`, as UTC."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid([console.gettext(WHEN_INVALID) % {"field": console.gettext(label)}]) from None
    if naive.tzinfo is not None or not 1900 <= naive.year < 2200:
        raise Invalid([console.gettext(OUT_OF_RANGE)])
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _refused(
    console: Console, slug: str, weeks: int, panel: str, values: dict[str, str], exc: Exception
) -> Response:
    if isinstance(exc, Invalid):
        messages, status = exc.messages, 422
    else:
        assert isinstance(exc, HaetaeError)
        messages, status = [exc.message], exc.status
    failure = Failure(panel, messages, values, status)
    return schedule_page(console, slug, weeks=weeks, failure=failure, status=status)


# Overrides


def override_spec(
    console: Console, zone: str, layers: list[str], v: dict[str, str]
) -> OverrideSpec:
    messages = []
    if not v["user"]:
        messages.append(console.gettext(USER_REQUIRED))
    if v["layer"] not in layers:
        messages.append(console.gettext(LAYER_UNKNOWN))
    if len(v["note"]) > NOTE_MAX:
        messages.append(console.gettext(NOTE_TOO_LONG) % {"num": NOTE_MAX})
    start = end = None
    for name, label in (("start", LABEL_START), ("end", LABEL_END)):
        try:
            moment = wall_clock(console, v[name], zone, label)
        except Invalid as exc:
            messages += exc.messages
            continue
        if name == "start":
            start = moment
        else:
            end = moment
    if start and end and end <= start:
        messages.append(console.gettext(END_AFTER_START))
    if messages or start is None or end is None:
        raise Invalid(messages)
    return OverrideSpec(
        layer=v["layer"],
        user=v["user"],
        replaces=v["replaces"] or None,
        start=start,
        end=end,
        note=v["note"],
    )


def _unknown_user(
    console: Console, exc: HaetaeError, names: dict[str, str]
) -> HaetaeError | Invalid:
    """UNKNOWN_USER, said in the page's language with the name that was typed; `names` maps
    the last part of the refused field (`user`, a participant's index) to what was typed."""
    if exc.code != "UNKNOWN_USER":
        return exc
    where = str(exc.details.get("field") or "").rsplit(".", 1)[-1]
    return Invalid([console.gettext(UNKNOWN_USER) % {"name": names.get(where, "")}])


@router.post("/schedules/{slug}/overrides")
def add_override(slug: str, posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    console, form = posted
    names = ("layer", "user", "replaces", "start", "end", "note")
    values = {name: field(form, name) for name in names}
    weeks = weeks_from(field(form, "weeks"))
    try:
        with console.write() as session:
            schedule = find_schedule(console, session, slug)
            layers = oncall.layers_of(session, schedule.id)
            spec = override_spec(console, schedule.time_zone, layers, values)
            try:
                oncall.add_override(session, schedule.id, spec, by=console.actor, now=console.now())
            except HaetaeError as exc:
                raise _unknown_user(
                    console, exc, {"user": spec.user, "replaces": spec.replaces or ""}
                ) from None
    except (Invalid, HaetaeError) as exc:
        return _refused(console, slug, weeks, "overrides", values, exc)
    return _back(slug, weeks, "overrides")


@router.post("/schedules/{slug}/overrides/{override_id}/remove")
def remove_override(
    slug: str, override_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted
    with console.write() as session:
        schedule = find_schedule(console, session, slug)
        try:
            oncall.remove_override(session, schedule.id, override_id)
        except HaetaeError as exc:
            if exc.code != "NOT_FOUND":
                raise
            raise Refused(404, console.gettext(NO_OVERRIDE) % {"id": override_id}) from None
    return _back(slug, weeks_from(field(form, "weeks")), "overrides")


# Hand-off notes


def _handoff(console: Console, value: str) -> tuple[str, datetime]:
    layer, _, at = value.partition("|")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise Invalid([console.gettext(HANDOFF_REQUIRED)]) from None
    if not layer or moment.tzinfo is None:
        raise Invalid([console.gettext(HANDOFF_REQUIRED)])
    return layer, moment


@router.post("/schedules/{slug}/handoffs")
def write_handoff(
    slug: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted
    items = console.policy.escalation.handoff_checklist
    values = {"handoff": field(form, "handoff"), "body": field(form, "body")}
    values |= {f"check_{item.id}": field(form, f"check_{item.id}") for item in items}
    weeks = weeks_from(field(form, "weeks"))
    try:
        layer, at = _handoff(console, values["handoff"])
        if len(values["body"]) > BODY_MAX:
            raise Invalid([console.gettext(NOTE_TOO_LONG) % {"num": BODY_MAX}])
        with console.write() as session:
            schedule = find_schedule(console, session, slug)
            notes.write_handoff(
                session,
                schedule,
                layer=layer,
                shift_start=at,
                checklist={item.id: bool(values[f"check_{item.id}"]) for item in items},
                body=values["body"],
                items=items,
                author=console.actor,
                now=console.now(),
            )
    except (Invalid, HaetaeError) as exc:
        return _refused(console, slug, weeks, "handoffs", values, exc)
    return _back(slug, weeks, "handoffs")


# Rotations


def rotation_spec(
    console: Console, old: RotationSpec, v: dict[str, str], zone: str
) -> RotationSpec:
    """The rotation with the form's participants, length, unit and first hand-off."""
    messages = []
    participants = split_list(v["participants"])
    if not participants:
        messages.append(console.gettext(PARTICIPANTS_REQUIRED))
    if v["type"] not in ("daily", "weekly", "custom"):
        messages.append(console.gettext(TYPE_INVALID))
    elif v["type"] == "custom" and v["shift_unit"] not in ("hours", "days", "weeks"):
        messages.append(console.gettext(UNIT_REQUIRED))
    length = int(v["shift_length"]) if is_number(v["shift_length"]) else 0
    if not 1 <= length <= 1000:
        messages.append(console.gettext(LENGTH_INVALID))
    try:
        handoff = wall_clock(console, v["handoff"], zone, LABEL_HANDOFF)
    except Invalid as exc:
        messages += exc.messages
    if messages:
        raise Invalid(messages)
    data: dict[str, Any] = old.model_dump()
    data.update(
        participants=participants,
        type=v["type"],
        shift_length=length,
        shift_unit=v["shift_unit"] if v["type"] == "custom" else None,
        # The spec keeps the wall-clock time without its zone.
        handoff=handoff.astimezone(ZoneInfo(zone)).replace(tzinfo=None),
    )
    try:
        return RotationSpec.model_validate(data)
    except ValidationError as exc:
        raise Invalid([str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]) from None


def _replace_rotation(
    console: Console, session: Session, slug: str, rotation_id: int, v: dict[str, str]
) -> None:
    schedule = find_schedule(console, session, slug)
    ids = [row.id for row in oncall.rotations_of(session, schedule.id)]
    if rotation_id not in ids:
        raise Refused(404, console.gettext(NO_ROTATION) % {"id": rotation_id})
    spec = oncall.spec_of(session, schedule)
    index = ids.index(rotation_id)
    old = spec.rotations[index]
    new = rotation_spec(console, old, v, old.time_zone or spec.time_zone)
    rotations = [r.model_dump() for r in spec.rotations]
    rotations[index] = new.model_dump()
    replaced = ScheduleSpec.model_validate({**spec.model_dump(), "rotations": rotations})
    try:
        oncall.put_schedule(session, replaced, now=console.now())
    except HaetaeError as exc:
        raise _unknown_user(
            console, exc, {str(i): n for i, n in enumerate(new.participants)}
        ) from None


@router.post("/schedules/{slug}/rotations/{rotation_id}")
def edit_rotation(
    slug: str, rotation_id: RowId, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """Change a rotation's participants (in order), shift length and first hand-off."""
    console, form = posted
    names = ("participants", "type", "shift_length", "shift_unit", "handoff")
    values = {name: field(form, name) for name in names} | {"rotation": str(rotation_id)}
    weeks = weeks_from(field(form, "weeks"))
    try:
        with console.write() as session:
            _replace_rotation(console, session, slug, rotation_id, values)
    except (Invalid, HaetaeError) as exc:
        return _refused(console, slug, weeks, "rotations", values, exc)
    return _back(slug, weeks, f"rotation-{rotation_id}")


# The iCal feed


@router.post("/schedules/{slug}/ical-token")
def new_feed(slug: str, posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """A new secret feed URL, shown on this answer only; the previous URL stops working."""
    console, form = posted
    with console.write() as session:
        schedule = find_schedule(console, session, slug)
        token, schedule.ical_token_hash = ical.new_token()
    url = ical.schedule_feed_url(base_url(console), slug, token)
    return schedule_page(console, slug, weeks=weeks_from(field(form, "weeks")), fresh_feed=url)
