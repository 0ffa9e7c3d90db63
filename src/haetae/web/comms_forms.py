"""What responders do in the incident page's Communications panel: send a message composed
from a template (or hand it to its approvers), follow and unfollow the incident."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.comms import approvals, follows, service
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.web.console import Console, field, member_post, responder_post
from haetae.web.incident_actions import act

router = APIRouter(include_in_schema=False)
Posted = tuple[Console, FormData]
PANEL = "comms"


@router.post("/incidents/{incident_id}/comms/send")
def send(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        subject, body = field(form, "subject"), field(form, "body")
        if not subject or not body:
            raise HaetaeError("VALIDATION_ERROR", console.gettext("Give a subject and a message."))
        channels = [str(c) for c in form.getlist("channel") if str(c).strip()]
        message = service.create_message(
            session,
            console.policy,
            incident,
            field(form, "kind"),
            channels=channels or None,
            by=console.actor,
            now=console.now(),
            subject=subject,
            body=body,
            locale=field(form, "locale") or None,
        )
        if message.status == approvals.PENDING:
            approvals.request(session, message, now=console.now())

    return act(console, incident_id, PANEL, form, run)


def _follow(console: Console, incident_id: str, form: FormData, on: bool) -> Response:
    def run(session: Session) -> None:
        user = follows.user_named(session, console.actor)
        if on:
            follows.follow(session, user, incident_id=incident_id, now=console.now())
        else:
            follows.unfollow(session, user, incident_id=incident_id)

    return act(console, incident_id, PANEL, form, run)


@router.post("/incidents/{incident_id}/follow")
def follow(incident_id: str, posted: Posted = Depends(member_post)) -> Response:
    console, form = posted
    return _follow(console, incident_id, form, True)


@router.post("/incidents/{incident_id}/unfollow")
def unfollow(incident_id: str, posted: Posted = Depends(member_post)) -> Response:
    console, form = posted
    return _follow(console, incident_id, form, False)
