"""The Diagnostics panel's forms: run a configured check on the incident, run the first
analysis again. Each calls one service function through incident_actions.act."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.diagnostics import analysis, on_demand
from haetae.incidents.service import get_incident
from haetae.web.console import field, responder_post
from haetae.web.incident_actions import Posted, act

router = APIRouter(include_in_schema=False)


@router.post("/incidents/{incident_id}/diagnostics/run")
def run_check(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        on_demand.run_check(
            session,
            incident_id,
            check=field(form, "check"),
            by=console.actor,
            now=console.now(),
            prometheus_url=console.settings.prometheus_url,
        )

    return act(console, incident_id, "diagnostics", form, run)


@router.post("/incidents/{incident_id}/diagnostics/analysis")
def rerun_analysis(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        incident = get_incident(session, incident_id)
        analysis.request_on_demand(
            session, console.policy, incident, by=console.actor, now=console.now()
        )

    return act(console, incident_id, "diagnostics", form, run)
