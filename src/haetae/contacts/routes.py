"""External contacts and manual escalation under /api/v1: /external-contacts,
/incidents/{id}/escalate."""

from __future__ import annotations

from fastapi import APIRouter, Path

from haetae.contacts import queries, service
from haetae.contacts.schemas import EscalateIn, EscalationOut, ExternalContactOut
from haetae.deps import Context, responder, viewer
from haetae.incidents import service as incidents

router = APIRouter(tags=["contacts"])

Slug = Path(min_length=1, max_length=64)


@router.get("/external-contacts", response_model=list[ExternalContactOut])
def list_external_contacts(ctx: Context = viewer) -> list[ExternalContactOut]:
    """Vendors, cloud and database support, CDN/WAF and partners (seed 001 7.3), by slug;
    contact method URLs masked."""
    with ctx.read() as session:
        return queries.contacts_out(session)


@router.get("/external-contacts/{slug}", response_model=ExternalContactOut)
def get_external_contact(slug: str = Slug, ctx: Context = viewer) -> ExternalContactOut:
    with ctx.read() as session:
        return queries.contact_detail(session, slug)


@router.post("/incidents/{incident_id}/escalate", status_code=202, response_model=EscalationOut)
def escalate(
    body: EscalateIn, incident_id: str = Path(max_length=32), ctx: Context = responder
) -> EscalationOut:
    """Page now: a person, a team, a schedule's on-call or an external contact, with a plain
    page or seed 000's external support or business escalation. 202: the messages are queued
    in the outbox (`queued`; 0 and `duplicate` when the same escalation was just made)."""
    with ctx.write() as session:
        # Locked: a double click's second request waits and then sees the first's.
        incident = incidents.get_incident(session, incident_id, for_update=True)
        done = service.page_now(
            session,
            ctx.policy,
            incident,
            target=service.EscalationTarget(body.target.kind, body.target.name),
            message_type=body.type,
            note=body.note,
            by=ctx.actor,
            now=ctx.now(),
        )
        return EscalationOut(
            incident_id=done.incident_id,
            target_kind=done.target.kind,
            target=done.target.name,
            type=done.message_type,
            note=done.note,
            recipients=done.recipients,
            queued=done.queued,
            duplicate=done.duplicate,
        )
