"""The incident page's Diagnostics panel: the first analysis, the check runs, and running a
check on demand (the forms post to web/diagnostics_forms.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.diagnostics import analysis, report, views
from haetae.incidents.models import Incident
from haetae.web.console import Console, Refused, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
# The runs the panel lists, newest first.
PANEL_RUNS = 20


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction."""
    latest = analysis.latest(session, incident.id)
    runs = views.run_outs(session, views.incident_runs(session, incident.id, limit=PANEL_RUNS))
    writable = console.can_write and incident.status not in ("closed", "canceled")
    checks = [c for c in views.checks(session) if c.enabled] if writable else []
    # The incident's own services' checks first: those are the ones a responder wants.
    checks.sort(key=lambda c: (c.service not in incident.services, c.service or "", c.id))
    return {
        "diag_analysis": latest,
        "diag_report": (
            report.render(latest.report, console.policy, console.locale)
            if latest is not None and latest.status == "complete"
            else None
        ),
        "diag_runs": runs,
        "diag_status_labels": {r.id: report.status_label(r.status, console.locale) for r in runs},
        "diag_checks": checks,
        "diag_writable": writable,
        "diag_pending": any(r.status in analysis.PENDING for r in runs)
        or (latest is not None and latest.status == "running"),
    }


@router.get("/incidents/{incident_id}/diagnostics")
def diagnostics_fragment(incident_id: str, console: Console = Depends(signed_in)) -> Response:
    """The panel alone, which the page asks for again while a run or an analysis is pending."""
    with console.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            message = console.gettext("Incident %(id)s does not exist.") % {"id": incident_id}
            raise Refused(404, message)
        data = gather(session, console, incident)
    return render(console, "incident/panel_diagnostics.html", incident=incident, oob=False, **data)
