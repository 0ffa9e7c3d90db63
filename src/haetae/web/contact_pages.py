"""The console's external contacts page: /external-contacts (support plans, SLA tiers, how to
reach them), and the incident page's Page now form's post (/incidents/{id}/page-now)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.contacts import queries
from haetae.contacts import service as contacts
from haetae.contacts.schemas import EscalateIn
from haetae.incidents import service as incidents
from haetae.web.console import Console, field, responder_post, signed_in
from haetae.web.incident_actions import Posted, act
from haetae.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/external-contacts")
def external_contacts(console: Console = Depends(signed_in)) -> Response:
    with console.read() as session:
        listed = queries.contacts_out(session)
    return render(console, "external_contacts.html", active="external_contacts", contacts=listed)


@router.post("/incidents/{incident_id}/page-now")
def page_now(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        kind, _, name = field(form, "target").partition(":")
        body = EscalateIn.model_validate(
            {
                "target": {kind: name} if kind else {},
                "type": field(form, "type") or "page",
                "note": field(form, "note"),
            }
        )
        incident = incidents.get_incident(session, incident_id, for_update=True)
        contacts.page_now(
            session,
            console.policy,
            incident,
            target=contacts.EscalationTarget(body.target.kind, body.target.name),
            message_type=body.type,
            note=body.note,
            by=console.actor,
            now=console.now(),
        )

    return act(console, incident_id, "page_now", form, run)
