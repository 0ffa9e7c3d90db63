"""Role checklists on an incident, under /api/v1/incidents/{id}/checklists."""

from __future__ import annotations

from fastapi import APIRouter, Query

from haetae.checklists import service
from haetae.checklists.schemas import ChecklistOut, ItemIn, ItemOut, checklist_out, item_out
from haetae.deps import Context, responder, viewer
from haetae.incidents import service as incidents

router = APIRouter(prefix="/incidents", tags=["checklists"])


@router.get("/{incident_id}/checklists", response_model=list[ChecklistOut])
def list_checklists(
    incident_id: str,
    ctx: Context = viewer,
    role: str | None = Query(default=None, max_length=200, description="one role's only"),
) -> list[ChecklistOut]:
    """The checklists of the incident's severity, the caller's own role's first."""
    with ctx.read() as session:
        incident = incidents.get_incident(session, incident_id)
        found = service.incident_checklists(
            session, ctx.policy, incident, viewer=ctx.actor, role=role
        )
        return [checklist_out(c, ctx.principal.locale) for c in found]


@router.patch("/{incident_id}/checklists/{checklist_id}/items/{item_id}", response_model=ItemOut)
def set_item(
    incident_id: str, checklist_id: str, item_id: str, body: ItemIn, ctx: Context = responder
) -> ItemOut:
    """Mark an item done, skipped or pending again; the change goes on the timeline."""
    with ctx.write() as session:
        item = service.set_item(
            session,
            ctx.policy,
            incident_id,
            checklist_id,
            item_id,
            status=body.status,
            note=body.note,
            by=ctx.actor,
            now=ctx.now(),
        )
        return item_out(item, ctx.principal.locale)
