"""What people do on a post-mortem's page: each form (a section, the whys, the timeline's
picks, a measure, reviewers, submit, review, publish, the meeting, and starting one from the
incident page) calls one postmortems.service function; a refusal is shown on the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from haetae.errors import HaetaeError
from haetae.inputs import is_number
from haetae.postmortems import service
from haetae.postmortems.schemas import MeasureIn, PostmortemEdit
from haetae.web.console import Console, Refused, field, responder_post
from haetae.web.forms import Failure, local_time, split_lines, validation_messages
from haetae.web.postmortem_pages import (
    LIST_SECTIONS,
    TEXT_SECTIONS,
    missing_is_404,
    page,
    refusal,
)

router = APIRouter(include_in_schema=False)


def _failure(console: Console, panel: str, form: FormData, exc: Exception) -> Failure:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if isinstance(exc, ValidationError):
        return Failure(panel, validation_messages(console, exc), values, 422)
    assert isinstance(exc, HaetaeError)
    return Failure(panel, [refusal(console, exc)], values, exc.status)


def _back(incident_id: str, anchor: str, **params: str | int) -> RedirectResponse:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = f"/postmortems/{incident_id}" + (f"?{query}" if query else "") + f"#{anchor}"
    return RedirectResponse(url, status_code=303)


@router.post("/postmortems/{incident_id}/start")
def start(incident_id: str, posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """From the incident page. One that exists already is simply opened."""
    console, _form = posted
    try:
        with console.write() as session:
            service.start(session, console.policy, incident_id, by=console.actor, now=console.now())
    except HaetaeError as exc:
        if exc.code == "POSTMORTEM_EXISTS":
            return _back(incident_id, "top")
        if exc.code == "NOT_FOUND":
            message = console.gettext("Incident %(id)s does not exist.") % {"id": incident_id}
            raise Refused(404, message) from None
        raise Refused(exc.status, refusal(console, exc)) from None
    return _back(incident_id, "top", done="started")


def _edit_from(section: str, form: FormData) -> tuple[dict[str, Any], int | None]:
    """The PostmortemEdit fields a section's form sets, and how many blank whys to show next
    (None: as usual)."""
    if section == "basic":
        changes: dict[str, Any] = {"title": field(form, "title")}
        if "impact" in form:
            changes["impact"] = field(form, "impact")
        if field(form, "author"):
            changes["author"] = field(form, "author")
        return changes, None
    if section in TEXT_SECTIONS:
        return {section: field(form, section)}, None
    if section in LIST_SECTIONS:
        return {section: split_lines(field(form, section))}, None
    if section == "five_whys":
        answers = [str(v).strip() for v in form.getlist("why")]
        remove = field(form, "remove")
        if is_number(remove) and 0 < int(remove) <= len(answers):
            del answers[int(remove) - 1]
        kept = [a for a in answers if a]
        slots = None
        if field(form, "op") == "add":
            slots = max(len(answers) - len(kept), 0) + 1
        return {"whys": kept, "root_cause": field(form, "root_cause")}, slots
    if section == "timeline":
        return {"key_events": _key_events(form)}, None
    return {"custom": {section: field(form, "text")}}, None


def _key_events(form: FormData) -> list[dict[str, Any]]:
    picks: list[dict[str, Any]] = []
    for value in form.getlist("pick"):
        if is_number(str(value)):
            event_id = int(str(value))
            pick: dict[str, Any] = {"event_id": event_id, "note": field(form, f"note_{event_id}")}
            if field(form, f"text_{event_id}"):
                pick["text"] = field(form, f"text_{event_id}")
            picks.append(pick)
    rows = zip(
        form.getlist("free_at"), form.getlist("free_text"), form.getlist("free_note"), strict=False
    )
    for at, text, note in rows:
        if str(text).strip() or str(at).strip():
            picks.append({"at": str(at).strip(), "text": str(text).strip(), "note": str(note)})
    return picks


@router.post("/postmortems/{incident_id}/sections/{section}")
def save_section(
    incident_id: str, section: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted
    slots: int | None = None
    try:
        changes, slots = _edit_from(section, form)
        if "key_events" in changes:
            for pick in changes["key_events"]:
                if "at" in pick:
                    pick["at"] = local_time(console, pick["at"], name="key_events")
        with console.write() as session:
            service.edit(
                session,
                console.policy,
                incident_id,
                PostmortemEdit.model_validate(changes),
                by=console.actor,
                now=console.now(),
            )
    except (HaetaeError, ValidationError) as exc:
        if isinstance(exc, HaetaeError):
            missing_is_404(console, exc, incident_id)
        failure = _failure(console, section, form, exc)
        return page(console, incident_id, failure=failure, status=failure.status)
    if slots is not None:
        return _back(incident_id, f"section-{section}", slots=slots)
    return _back(incident_id, f"section-{section}", saved=section)


@router.post("/postmortems/{incident_id}/measures")
def add_measure(
    incident_id: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted
    try:
        measure = MeasureIn.model_validate(
            {
                "title": field(form, "title"),
                "description": field(form, "description"),
                "term": field(form, "term") or "short",
                "owner": field(form, "owner") or None,
                "due_date": field(form, "due_date") or None,
                "priority": field(form, "priority") or "medium",
            }
        )
        with console.write() as session:
            service.add_measure(
                session, console.policy, incident_id, measure, by=console.actor, now=console.now()
            )
    except (HaetaeError, ValidationError) as exc:
        if isinstance(exc, HaetaeError):
            missing_is_404(console, exc, incident_id)
        failure = _failure(console, "measures", form, exc)
        return page(console, incident_id, failure=failure, status=failure.status)
    return _back(incident_id, "section-measures", done="measure")


def _life(console: Console, incident_id: str, form: FormData, step: str) -> str:
    """One step of the post-mortem's life; returns what to tell the person."""
    policy, by, now = console.policy, console.actor, console.now()
    with console.write() as session:
        if step == "reviewers":
            names = [n for n in form.getlist("reviewer") if str(n).strip()]
            if not names:
                raise HaetaeError("VALIDATION_ERROR", console.gettext("Pick a reviewer."))
            service.add_reviewers(
                session, policy, incident_id, [str(n) for n in names], by=by, now=now
            )
            return "reviewers"
        if step == "submit":
            service.submit(session, policy, incident_id, by=by, now=now)
            return "submitted"
        if step == "review":
            verdict = field(form, "verdict")
            service.review(
                session,
                policy,
                incident_id,
                verdict=verdict,
                comment=field(form, "comment"),
                by=by,
                now=now,
            )
            return verdict
        if step == "publish":
            service.publish(session, policy, incident_id, by=by, now=now)
            return "published"
        if step == "meeting":
            held = field(form, "held") == "1"
            at = local_time(console, field(form, "at"), name="at")
            if at is None and not held:
                raise HaetaeError(
                    "VALIDATION_ERROR", console.gettext("Give the meeting's date and time.")
                )
            service.meeting(session, policy, incident_id, at=at, held=held, by=by, now=now)
            return "meeting"
    raise Refused(404, console.gettext("Not found"))


@router.post("/postmortems/{incident_id}/{step}")
def life_step(
    incident_id: str, step: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """Reviewers, submit, review, publish and the meeting; a refusal (409, 403, 422) is shown
    on the page beside the buttons, never as an error page."""
    console, form = posted
    try:
        done = _life(console, incident_id, form, step)
    except HaetaeError as exc:
        missing_is_404(console, exc, incident_id)
        failure = _failure(console, "life", form, exc)
        return page(console, incident_id, failure=failure, status=failure.status)
    return _back(incident_id, "life", done=done)
