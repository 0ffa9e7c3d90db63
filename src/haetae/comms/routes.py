"""The communications API under /api/v1: channels, messages to stakeholders, follows."""

from __future__ import annotations

from fastapi import APIRouter, Path

from haetae.comms import queries, service
from haetae.comms.schemas import ChannelOut, MessageIn, MessageOut
from haetae.deps import Context, responder, viewer
from haetae.incidents import service as incidents

router = APIRouter(tags=["communications"])

IncidentId = Path(max_length=32)


@router.get("/channels", response_model=list[ChannelOut])
def list_channels(ctx: Context = viewer) -> list[ChannelOut]:
    """The stakeholder channels (config as code, `channels:`), their Apprise URLs masked."""
    with ctx.read() as session:
        return queries.channels_out(session)


@router.get("/incidents/{incident_id}/messages", response_model=list[MessageOut])
def list_messages(incident_id: str = IncidentId, ctx: Context = viewer) -> list[MessageOut]:
    """The incident's messages to stakeholders, oldest first, each with its status and how
    far its delivery got."""
    with ctx.read() as session:
        incidents.get_incident(session, incident_id)
        return queries.messages_out(session, queries.incident_messages(session, incident_id))


@router.post("/incidents/{incident_id}/messages", status_code=201, response_model=MessageOut)
def send_message(
    body: MessageIn, incident_id: str = IncidentId, ctx: Context = responder
) -> MessageOut:
    """A message to stakeholders, from its template unless subject and body are given, to
    the channels named (else the policy's routes). 201 with status `sent` (queued in the
    outbox) or `pending_approval` when the policy's approvals name the kind."""
    with ctx.write() as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        message = service.create_message(
            session,
            ctx.policy,
            incident,
            body.kind,
            channels=body.channels,
            by=ctx.actor,
            now=ctx.now(),
            subject=body.subject,
            body=body.body,
            locale=body.locale,
        )
        return queries.messages_out(session, [message])[0]


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(message_id: int = Path(ge=1, le=2**31 - 1), ctx: Context = viewer) -> MessageOut:
    with ctx.read() as session:
        return queries.messages_out(session, [queries.get_message(session, message_id)])[0]
