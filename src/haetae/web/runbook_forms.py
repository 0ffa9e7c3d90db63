"""What responders do in the incident page's Runbooks panel: attach and detach a runbook, tick
a step, queue a step's check, record the runbook's accuracy; each form calls one
runbooks.service function and re-renders the page's panels."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.runbooks import library, service
from haetae.runbooks.incident_schemas import AccuracyIn, StepIn
from haetae.web.console import Console, field, responder_post
from haetae.web.incident_actions import act

router = APIRouter(include_in_schema=False)
Posted = tuple[Console, FormData]
PANEL = "runbooks"
# The refusals of this panel in the reader's language.
MESSAGES = {
    "RUNBOOK_NOT_FOUND": N_("That runbook is not in the library or not on this incident."),
    "RUNBOOK_STEP_NOT_FOUND": N_("The runbook has no such step."),
    "RUNBOOK_ALREADY_ATTACHED": N_("That runbook is already attached."),
    "INCIDENT_NOT_OPEN": N_("The incident is closed or canceled; its runbooks no longer change."),
    "RUNBOOK_STEP_HAS_NO_CHECK": N_("This step has no check to run."),
    "CHECK_NOT_FOUND": N_("The step names a check that is not configured."),
}


def _run(
    console: Console, incident_id: str, form: FormData, action: Callable[[Session], object]
) -> Response:
    def worded(session: Session) -> None:
        try:
            action(session)
        except HaetaeError as exc:
            if exc.code in MESSAGES:
                raise HaetaeError(exc.code, console.gettext(MESSAGES[exc.code])) from None
            raise

    return act(console, incident_id, PANEL, form, worded)


@router.post("/incidents/{incident_id}/runbooks")
def attach(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    runbook_id = field(form, "runbook_id")

    def run(session: Session) -> None:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        found = library.current(console.settings, console.policy).get(runbook_id)
        if found is None:
            raise HaetaeError("RUNBOOK_NOT_FOUND")
        service.attach(
            session,
            console.policy,
            incident,
            found,
            how="manual",
            reasons=[],
            by=console.actor,
            now=console.now(),
        )

    return _run(console, incident_id, form, run)


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/detach")
def detach(incident_id: str, runbook_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        service.detach(session, incident, runbook_id, by=console.actor, now=console.now())

    return _run(console, incident_id, form, run)


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/steps/{step_id}")
def tick(
    incident_id: str, runbook_id: str, step_id: str, posted: Posted = Depends(responder_post)
) -> Response:
    """Done, skip or undo (back to pending), with an optional note."""
    console, form = posted

    def run(session: Session) -> None:
        body = StepIn.model_validate({"status": field(form, "status"), "note": field(form, "note")})
        service.set_step(
            session,
            incident_id,
            runbook_id,
            step_id,
            status=body.status,
            note=body.note,
            by=console.actor,
            now=console.now(),
        )

    return _run(console, incident_id, form, run)


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/steps/{step_id}/check")
def run_check(
    incident_id: str, runbook_id: str, step_id: str, posted: Posted = Depends(responder_post)
) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        service.run_step_check(
            session, incident_id, runbook_id, step_id, by=console.actor, now=console.now()
        )

    return _run(console, incident_id, form, run)


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/accuracy")
def accuracy(
    incident_id: str, runbook_id: str, posted: Posted = Depends(responder_post)
) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = AccuracyIn.model_validate(
            {"accuracy": field(form, "accuracy"), "note": field(form, "note")}
        )
        service.set_accuracy(
            session,
            incident_id,
            runbook_id,
            accuracy=body.accuracy,
            note=body.note,
            by=console.actor,
            now=console.now(),
        )

    return _run(console, incident_id, form, run)
