"""How an incident is shown: the API's shapes with the derived fields filled in.

Shared by the API routes and the CLI's --json, so both print the same thing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from haetae.incidents import resolution, roles, service
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDetail, IncidentOut
from haetae.policy.schema import Policy


def present(policy: Policy, incident: Incident, now: datetime) -> IncidentOut:
    out = IncidentOut.model_validate(incident)
    out.update_overdue = service.is_update_overdue(incident, now)
    out.response_due_at, out.recovery_due_at = service.targets(policy, incident)
    return out


def present_detail(
    session: Session, policy: Policy, incident: Incident, now: datetime, *, locale: str
) -> IncidentDetail:
    """As GET /api/v1/incidents/{id} returns it: with current roles and conditions."""
    return IncidentDetail(
        **present(policy, incident, now).model_dump(),
        roles=roles.current_roles(session, incident.id),
        resolution_conditions=resolution.conditions(session, policy, incident, locale=locale),
    )
