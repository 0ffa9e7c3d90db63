"""What responders do on the drill pages: create a drill, start it, end it or pull its kill
switch, fill in its scorecard and add improvement items. Each form calls the drills services;
a refusal is shown on the page beside the form, never as an error page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from haetae.drills import scorecard, service
from haetae.drills.schemas import DrillIn, DrillItemIn, ScorecardIn
from haetae.errors import HaetaeError
from haetae.web.console import Console, field, responder_post
from haetae.web.drill_views import (
    CHAOS_FIELDS,
    FORM_LABELS,
    drill_page,
    list_page,
    missing,
    refusal,
)
from haetae.web.forms import FIELD_LABELS, Failure, local_time, split_list

router = APIRouter(include_in_schema=False)


def _values(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _messages(console: Console, exc: ValidationError) -> list[str]:
    """Refused fields by the names the form shows them with (the chaos template's, an alert
    row's), in the reader's language."""
    messages = []
    for error in exc.errors():
        where = [str(p) for p in error["loc"]]
        label = {**FIELD_LABELS, **FORM_LABELS}.get(where[0] if where else "")
        if where[:1] == ["chaos"]:
            label = CHAOS_FIELDS.get(where[-1], label)
        name = console.gettext(label) if label else ".".join(where)
        if error["type"] in ("missing", "string_too_short"):
            messages.append(console.gettext("%(field)s is required.") % {"field": name})
        else:
            reason = str(error["msg"]).removeprefix("Value error, ")
            messages.append(f"{name}: {reason}" if name else reason)
    return messages


def _failure(console: Console, panel: str, form: FormData, exc: Exception, **kw: Any) -> Failure:
    if isinstance(exc, ValidationError):
        return Failure(panel, _messages(console, exc), _values(form), 422)
    assert isinstance(exc, HaetaeError)
    return Failure(panel, [refusal(console, exc, kw.get("drill"))], _values(form), exc.status)


def _back(ref: str, anchor: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/drills/{ref}?done={done}#{anchor}", status_code=303)


def drill_in(console: Console, form: FormData) -> DrillIn:
    """The New drill form as the drills service's input."""
    kind = field(form, "kind")
    inject = []
    rows = zip(
        form.getlist("inject_alertname"),
        form.getlist("inject_severity"),
        form.getlist("inject_service"),
        form.getlist("inject_after"),
        strict=False,
    )
    for alertname, severity, service_name, after in rows:
        name = str(alertname).strip()
        if not name:
            continue
        labels = {"alertname": name}
        if str(severity).strip():
            labels["severity"] = str(severity).strip()
        if str(service_name).strip():
            labels["service"] = str(service_name).strip()
        seconds = str(after).strip() or "0"
        inject.append({"labels": labels, "after_seconds": seconds})
    data: dict[str, Any] = {
        "title": field(form, "title"),
        "kind": kind,
        "scenario": field(form, "scenario"),
        "severity": field(form, "severity") or None,
        "services": split_list(field(form, "services")),
        "participants": [str(p) for p in form.getlist("participants") if str(p).strip()]
        + split_list(field(form, "participants_more")),
        "max_duration": field(form, "max_duration") or None,
        "scheduled_at": local_time(console, field(form, "scheduled_at"), name="scheduled_at"),
        "inject": inject,
    }
    if kind == "chaos":
        data["chaos"] = {name: field(form, f"chaos_{name}") for name in CHAOS_FIELDS}
    return DrillIn.model_validate(data)


@router.post("/drills")
def create(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    console, form = posted
    try:
        data = drill_in(console, form)
        with console.write() as session:
            made = service.create_drill(
                session, console.policy, data, by=console.actor, now=console.now()
            )
            ref = service.code(made)
    except (HaetaeError, ValidationError) as exc:
        failure = _failure(console, "new", form, exc)
        return list_page(console, failure=failure, status=failure.status)
    return _back(ref, "top", "created")


@router.post("/drills/{ref}/scorecard")
def save_scorecard(
    ref: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted
    try:
        data = ScorecardIn.model_validate(
            {
                "communication": field(form, "communication") or None,
                "communication_note": field(form, "communication_note"),
                "runbook": field(form, "runbook") or None,
                "runbook_note": field(form, "runbook_note"),
                "participants": [str(p) for p in form.getlist("participants") if str(p).strip()],
                "assessment": field(form, "assessment"),
            }
        )
        with console.write() as session:
            drill = service.get_drill(session, ref, for_update=True)
            scorecard.update(session, drill, data, now=console.now())
    except (HaetaeError, ValidationError) as exc:
        if isinstance(exc, HaetaeError):
            missing(console, exc, ref)
        failure = _failure(console, "scorecard", form, exc)
        return drill_page(console, ref, failure=failure, status=failure.status)
    return _back(ref, "scorecard", "scorecard")


@router.post("/drills/{ref}/items")
def add_item(ref: str, posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """An improvement item: TI-NNN on the follow-up board."""
    console, form = posted
    try:
        data = DrillItemIn.model_validate(
            {
                "title": field(form, "title"),
                "owner": field(form, "owner") or None,
                "due_date": field(form, "due_date") or None,
            }
        )
        with console.write() as session:
            drill = service.get_drill(session, ref, for_update=True)
            scorecard.add_item(
                session, console.policy, drill, data, by=console.actor, now=console.now()
            )
    except (HaetaeError, ValidationError) as exc:
        if isinstance(exc, HaetaeError):
            missing(console, exc, ref)
        failure = _failure(console, "items", form, exc)
        return drill_page(console, ref, failure=failure, status=failure.status)
    return _back(ref, "drill-items", "item")


@router.post("/drills/{ref}/{step}")
def life_step(
    ref: str, step: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """Start, End and the Kill switch."""
    console, form = posted
    ends = {"end": "completed", "kill": "kill_switch"}
    if step not in ("start", *ends):
        missing(console, HaetaeError("DRILL_NOT_FOUND", ""), ref)
    drill = None
    try:
        with console.write() as session:
            drill = service.get_drill(session, ref, for_update=True)
            if step == "start":
                service.start_drill(
                    session, console.policy, drill, by=console.actor, now=console.now()
                )
            else:
                service.end_drill(
                    session,
                    console.policy,
                    drill,
                    by=console.actor,
                    now=console.now(),
                    reason=ends[step],
                    note=field(form, "note"),
                )
    except HaetaeError as exc:
        missing(console, exc, ref)
        failure = _failure(console, "life", form, exc, drill=drill)
        return drill_page(console, ref, failure=failure, status=failure.status)
    done = {"start": "started", "end": "ended", "kill": "killed"}[step]
    return _back(ref, "top", done)
