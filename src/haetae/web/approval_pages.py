"""The console's approvals page: /approvals (messages waiting, approve, edit or reject), and
the page an approval request's one-use link opens: GET shows the message, POST decides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.auth.models import User
from haetae.comms import approvals
from haetae.comms.models import CommsMessage
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.notify import links
from haetae.notify.models import ActionLink, Notification
from haetae.web.console import (
    Console,
    field,
    posted_form,
    responder_post,
    signed_in,
    visitor,
)
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
Posted = tuple[Console, FormData]
MESSAGES = {
    "NOT_AN_APPROVER": N_("Only the message's approvers may approve or reject it."),
    "MESSAGE_NOT_PENDING": N_("The message is no longer waiting for approval."),
}


def _view(message: CommsMessage) -> dict[str, Any]:
    draft = (message.data or {}).get("draft")
    return {
        "id": message.id,
        "incident_id": message.incident_id,
        "kind": message.kind,
        "status": message.status,
        "subject": message.subject,
        "body": message.body,
        "channels": list(message.channels or []),
        "created_by": message.created_by,
        "created_at": message.created_at,
        "approvers": list(message.approvers or []),
        "decided_by": message.decided_by,
        "decided_at": message.decided_at,
        "decision_note": message.decision_note or "",
        "draft": draft if isinstance(draft, dict) else None,
    }


def _worded(console: Console, exc: HaetaeError) -> str:
    return console.gettext(MESSAGES[exc.code]) if exc.code in MESSAGES else exc.message


def _list_page(console: Console, *, error: str = "", status: int = 200) -> HTMLResponse:
    with console.read() as session:
        waiting = approvals.pending(session)
        mine = {m.id for m in waiting if approvals.is_approver(session, m, console.actor)}
        data: dict[str, Any] = {
            "pending": [_view(m) | {"mine": m.id in mine} for m in waiting],
            "history": [_view(m) for m in approvals.history(session)],
        }
    return render(
        console, "approvals.html", status_code=status, active="approvals", error=error, **data
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request) -> HTMLResponse:
    return _list_page(signed_in(request))


def _decide(console: Console, message_id: int, form: FormData, decision: str) -> Response:
    try:
        with console.write() as session:
            message = approvals.get_message(session, message_id, for_update=True)
            _apply(session, console, message, form, decision, by=console.actor)
    except HaetaeError as exc:
        return _list_page(console, error=_worded(console, exc), status=exc.status)
    return RedirectResponse("/approvals", status_code=303)


def _apply(
    session: Session,
    console: Console,
    message: CommsMessage,
    form: FormData,
    decision: str,
    *,
    by: str,
) -> None:
    now = console.now()
    if decision == "approve":
        approvals.approve(
            session,
            console.policy,
            message,
            by=by,
            now=now,
            subject=field(form, "subject") or None,
            body=field(form, "body") or None,
            note=field(form, "note"),
        )
    else:
        note = field(form, "note")
        if not note:
            raise HaetaeError("VALIDATION_ERROR", console.gettext(N_("Say why it is rejected.")))
        approvals.reject(session, message, by=by, now=now, note=note)


@router.post("/approvals/{message_id}/approve")
def approve_form(message_id: int, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    return _decide(console, message_id, form, "approve")


@router.post("/approvals/{message_id}/reject")
def reject_form(message_id: int, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    return _decide(console, message_id, form, "reject")


# The request's link. The token is the credential (as /act/{token}'s): GET never decides,
# because mail scanners and chat previews fetch links.


def _linked(session: Session, token: str, secret: str) -> tuple[ActionLink, CommsMessage] | None:
    link = links.find(session, token, secret=secret)
    if link is None or link.action != "approve":
        return None
    rows = session.scalars(
        select(Notification).where(
            Notification.incident_id == link.incident_id,
            Notification.kind == "approval_request",
        )
    )
    for row in rows:
        if (row.data or {}).get("link_jti") == link.jti:
            message = session.get(CommsMessage, row.data.get("comms_message_id"))
            if message is not None:
                return link, message
    return None


def _link_page(
    console: Console, state: str, status: int, message: CommsMessage | None, **data: Any
) -> HTMLResponse:
    response = render(
        console,
        "approval_link.html",
        status_code=status,
        state=state,
        message=_view(message) if message is not None else None,
        **data,
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _owner(session: Session, link: ActionLink) -> User | None:
    return session.get(User, link.user_id) if link.user_id is not None else None


@router.get("/approvals/link/{token}", response_class=HTMLResponse)
def link_page(request: Request, token: str) -> HTMLResponse:
    console = visitor(request)
    with console.read() as session:
        found = _linked(session, token, console.settings.jwt_secret or "")
        if found is None:
            return _link_page(console, "invalid", 404, None)
        link, message = found
        owner = _owner(session, link)
        view_state = (
            "used"
            if link.used_at is not None
            else "expired"
            if links.expired(link, now=console.now())
            else "decided"
            if message.status != approvals.PENDING
            else "confirm"
        )
        status = {"used": 409, "expired": 410, "decided": 409, "confirm": 200}[view_state]
        return _link_page(
            console,
            view_state,
            status,
            message,
            token=token,
            approver=owner.username if owner else "",
            expires_at=link.expires_at,
        )


@router.post("/approvals/link/{token}", response_class=HTMLResponse)
def link_decide(
    request: Request, token: str, form: FormData = Depends(posted_form)
) -> HTMLResponse:
    """The link's owner decides; no session or CSRF token: the token is the credential."""
    console = visitor(request)
    decision = "reject" if field(form, "decision") == "reject" else "approve"
    message_view: CommsMessage | None = None
    try:
        with console.write() as session:
            found = _linked(session, token, console.settings.jwt_secret or "")
            if found is None:
                return _link_page(console, "invalid", 404, None)
            link, message = found
            message_view = message
            owner = _owner(session, link)
            now = console.now()
            if owner is None or not owner.active:
                return _link_page(console, "invalid", 403, message)
            if not links.use(session, link, now=now):
                used = link.used_at is not None
                return _link_page(console, "used" if used else "expired", 409, message)
            session.refresh(message, with_for_update=True)
            _apply(session, console, message, form, decision, by=owner.username)
            return _link_page(console, "done", 200, message, decision=decision)
    except HaetaeError as exc:
        # Rolled back: the link still works.
        return _link_page(
            console, "refused", exc.status, message_view, token=token, reason=_worded(console, exc)
        )
