"""Runbooks on an incident, under /api/v1/incidents/{id}/runbooks: attach, steps, accuracy."""

from __future__ import annotations

from fastapi import APIRouter, Response

from haetae.deps import Context, responder, viewer
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.runbooks import library, queries, service
from haetae.runbooks.incident_schemas import (
    AccuracyIn,
    AttachIn,
    CheckQueued,
    IncidentRunbookOut,
    StepIn,
)

router = APIRouter(prefix="/incidents", tags=["runbooks"])


def _one(ctx: Context, incident_id: str, runbook_id: str) -> IncidentRunbookOut:
    with ctx.read() as session:
        for out in queries.incident_runbooks(session, incident_id):
            if out.runbook_id == runbook_id:
                return out
    raise HaetaeError("RUNBOOK_NOT_FOUND")


@router.get("/{incident_id}/runbooks", response_model=list[IncidentRunbookOut])
def list_runbooks(incident_id: str, ctx: Context = viewer) -> list[IncidentRunbookOut]:
    """The attached runbooks, each step with its state (who, when, note), progress and
    accuracy."""
    with ctx.read() as session:
        incidents.get_incident(session, incident_id)
        return queries.incident_runbooks(session, incident_id)


@router.post("/{incident_id}/runbooks", status_code=201, response_model=IncidentRunbookOut)
def attach(incident_id: str, body: AttachIn, ctx: Context = responder) -> IncidentRunbookOut:
    """Attach a runbook of the library by hand."""
    found = library.current(ctx.settings, ctx.policy).get(body.runbook_id)
    with ctx.write() as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        if found is None:
            raise HaetaeError(
                "RUNBOOK_NOT_FOUND", f"The library has no runbook '{body.runbook_id}'."
            )
        service.attach(
            session,
            ctx.policy,
            incident,
            found,
            how="manual",
            reasons=[],
            by=ctx.actor,
            now=ctx.now(),
        )
    return _one(ctx, incident_id, body.runbook_id)


@router.delete("/{incident_id}/runbooks/{runbook_id}", status_code=204)
def detach(incident_id: str, runbook_id: str, ctx: Context = responder) -> Response:
    with ctx.write() as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        service.detach(session, incident, runbook_id, by=ctx.actor, now=ctx.now())
    return Response(status_code=204)


@router.patch(
    "/{incident_id}/runbooks/{runbook_id}/steps/{step_id}", response_model=IncidentRunbookOut
)
def set_step(
    incident_id: str, runbook_id: str, step_id: str, body: StepIn, ctx: Context = responder
) -> IncidentRunbookOut:
    """Mark a step done, skipped, or pending again, with an optional note."""
    with ctx.write() as session:
        service.set_step(
            session,
            incident_id,
            runbook_id,
            step_id,
            status=body.status,
            note=body.note,
            by=ctx.actor,
            now=ctx.now(),
        )
    return _one(ctx, incident_id, runbook_id)


@router.post(
    "/{incident_id}/runbooks/{runbook_id}/steps/{step_id}/check",
    status_code=202,
    response_model=CheckQueued,
)
def run_step_check(
    incident_id: str, runbook_id: str, step_id: str, ctx: Context = responder
) -> CheckQueued:
    """Queue the step's check; the worker runs it and its result lands on the timeline."""
    with ctx.write() as session:
        run = service.run_step_check(
            session, incident_id, runbook_id, step_id, by=ctx.actor, now=ctx.now()
        )
        return CheckQueued(run_id=run.id, status=run.status, name=run.name)


@router.put("/{incident_id}/runbooks/{runbook_id}/accuracy", response_model=IncidentRunbookOut)
def set_accuracy(
    incident_id: str, runbook_id: str, body: AccuracyIn, ctx: Context = responder
) -> IncidentRunbookOut:
    """Did the runbook work: worked, partly or failed (seed 001 8.3)."""
    with ctx.write() as session:
        service.set_accuracy(
            session,
            incident_id,
            runbook_id,
            accuracy=body.accuracy,
            note=body.note,
            by=ctx.actor,
            now=ctx.now(),
        )
    return _one(ctx, incident_id, runbook_id)
