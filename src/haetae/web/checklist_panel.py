"""The incident page's Checklists panel: the signed-in person's role checklists, and
everyone's progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.checklists import service
from haetae.checklists.schemas import ItemIn
from haetae.incidents.models import Incident
from haetae.web.console import Console, field, responder_post

router = APIRouter(include_in_schema=False)


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction: the checklists of a
    role the viewer holds first (open), then the others (folded)."""
    found = service.incident_checklists(session, console.policy, incident, viewer=console.actor)
    return {
        "role_checklists": found,
        "checklists_done": sum(c.done + c.skipped for c in found),
        "checklists_total": sum(c.total for c in found),
    }


@router.post("/incidents/{incident_id}/checklists/{checklist_id}/items/{item_id}")
def tick(
    incident_id: str,
    checklist_id: str,
    item_id: str,
    posted: tuple[Console, Any] = Depends(responder_post),
) -> Response:
    """Tick, skip or undo one item; the panels re-render as the roles panel's do."""
    # incident_actions imports the incident page, which imports this module.
    from haetae.web.incident_actions import act

    console, form = posted

    def run(session: Session) -> None:
        body = ItemIn.model_validate({"status": field(form, "status"), "note": field(form, "note")})
        service.set_item(
            session,
            console.policy,
            incident_id,
            checklist_id,
            item_id,
            status=body.status,
            note=body.note,
            by=console.actor,
            now=console.now(),
        )

    return act(console, incident_id, "checklists", form, run)
