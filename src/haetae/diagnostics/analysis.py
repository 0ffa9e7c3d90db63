"""Seed 002 2.1's automated first analysis: on declaration, run the affected services' checks
and assemble the initial report (severity assessment, affected components, findings and the
matched runbooks' suggested next actions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from haetae.diagnostics.models import IncidentAnalysis
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy


def request_first_analysis(
    session: Session, policy: Policy, incident: Incident, *, by: str, now: datetime
) -> IncidentAnalysis | None:
    """Start the first analysis of an incident (its checks queued); None when there is
    nothing to run. The intake job calls it for the severities the policy names."""
    return None
