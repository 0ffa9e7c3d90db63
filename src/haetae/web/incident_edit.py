"""Editing an incident's details and classification from its page (the "Edit incident" panel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.incidents import service
from haetae.incidents.schemas import IncidentPatch
from haetae.web.console import Console, field, responder_post
from haetae.web.forms import split_list
from haetae.web.incident_actions import act

router = APIRouter(include_in_schema=False)
TEXT = ("title", "summary")
LISTS = ("services", "tags")
OPTIONAL = ("category", "environment", "business_impact", "user_impact")
IMPACT = {"impact_users": "users", "impact_regions": "regions", "impact_features": "features"}


def patch_from(form: FormData, current_impact: dict[str, Any]) -> dict[str, Any]:
    """The posted fields as a patch. A field the form did not carry stays as it is, and so do
    the parts of the impact the form has no input for (the API's `users_description`)."""
    patch: dict[str, Any] = {}
    for name in TEXT:
        if name in form:
            patch[name] = field(form, name)
    for name in LISTS:
        if name in form:
            patch[name] = split_list(field(form, name))
    for name in OPTIONAL:
        if name in form:
            patch[name] = field(form, name) or None
    if any(name in form for name in IMPACT):
        kept = ("users_description", *IMPACT.values())
        impact = {k: v for k, v in current_impact.items() if k in kept}
        for name, key in IMPACT.items():
            if name in form:
                value = field(form, name)
                impact[key] = split_list(value) if key != "users" else value or None
        patch["impact"] = impact
    # Empty means "no explicit choice": the matrix keeps deciding when it decided before.
    if field(form, "severity"):
        patch["severity"] = field(form, "severity")
    if field(form, "severity_reason"):
        patch["severity_reason"] = field(form, "severity_reason")
    return patch


@router.post("/incidents/{incident_id}/edit")
def edit_incident(
    incident_id: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        incident = service.get_incident(session, incident_id)
        body = IncidentPatch.model_validate(patch_from(form, incident.impact or {}))
        service.patch_incident(
            session, console.policy, incident_id, body, actor=console.actor, now=console.now()
        )

    return act(console, incident_id, "edit", form, run)
