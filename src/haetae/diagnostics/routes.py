"""The diagnostics' API under /api/v1: checks, runs on demand, an incident's runs and first
analysis."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context, responder, viewer
from haetae.diagnostics import analysis, on_demand, views
from haetae.diagnostics.models import DiagnosticRun
from haetae.errors import HaetaeError
from haetae.incidents.service import get_incident
from haetae.inputs import RowId

router = APIRouter(tags=["diagnostics"])


@router.get("/checks", response_model=list[views.CheckOut])
def list_checks(ctx: Context = viewer) -> list[views.CheckOut]:
    """The configured checks (config as code), with their service."""
    with ctx.read() as session:
        return views.checks(session)


@router.post("/incidents/{incident_id}/diagnostics", status_code=202, response_model=views.RunOut)
def run_check(incident_id: str, body: views.RunIn, ctx: Context = responder) -> views.RunOut:
    """Queue a configured check (`check`) or a spec of its own (`spec`) on the incident; the
    worker runs it and puts the result on the timeline. 422 TARGET_NOT_ALLOWED when the
    allow-list refuses the target, CHECK_NOT_FOUND for an unknown check id."""
    with ctx.write() as session:
        run = on_demand.run_check(
            session,
            incident_id,
            check=body.check,
            spec=body.spec,
            by=ctx.actor,
            now=ctx.now(),
            prometheus_url=ctx.settings.prometheus_url,
        )
        return views.run_out(session, run)


@router.get("/incidents/{incident_id}/diagnostics", response_model=views.RunList)
def incident_runs(incident_id: str, ctx: Context = viewer) -> views.RunList:
    """The incident's runs, newest first (at most 200)."""
    with ctx.read() as session:
        get_incident(session, incident_id)
        return views.RunList(
            runs=views.run_outs(session, views.incident_runs(session, incident_id))
        )


@router.get("/diagnostics/{run_id}", response_model=views.RunOut)
def get_run(run_id: RowId, ctx: Context = viewer) -> views.RunOut:
    with ctx.read() as session:
        run = session.get(DiagnosticRun, run_id)
        if run is None:
            raise HaetaeError("NOT_FOUND", f"No diagnostic run {run_id}.")
        return views.run_out(session, run)


@router.get("/incidents/{incident_id}/analysis", response_model=views.AnalysisOut)
def get_analysis(incident_id: str, ctx: Context = viewer) -> views.AnalysisOut:
    """The incident's latest first analysis: the report as stored and in the caller's
    language (`rendered`, once complete)."""
    with ctx.read() as session:
        get_incident(session, incident_id)
        row = analysis.latest(session, incident_id)
        if row is None:
            raise HaetaeError("NOT_FOUND", f"Incident {incident_id} has no analysis yet.")
        return views.analysis_out(row, ctx.policy, ctx.principal.locale)


@router.post("/incidents/{incident_id}/analysis", status_code=202, response_model=views.AnalysisOut)
def rerun_analysis(incident_id: str, ctx: Context = responder) -> views.AnalysisOut:
    """Run the first analysis again: its checks are queued and a new report is assembled."""
    with ctx.write() as session:
        incident = get_incident(session, incident_id)
        row = analysis.request_on_demand(session, ctx.policy, incident, by=ctx.actor, now=ctx.now())
        return views.analysis_out(row, ctx.policy, ctx.principal.locale)
