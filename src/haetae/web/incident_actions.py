"""What responders do on an incident's page; each form calls one service function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.comms.template_context import EXTRA_FIELDS, FIELD_LABELS
from haetae.errors import HaetaeError
from haetae.incidents import activity, resolution, roles, transitions
from haetae.incidents.schemas import (
    ConditionCheckIn,
    DecisionIn,
    NoteIn,
    RoleAssign,
    StatusUpdateIn,
    TransitionIn,
)
from haetae.web.console import Console, field, responder_post
from haetae.web.forms import failure_from, local_time, split_lines
from haetae.web.incident_page import gather, load, page, panels

router = APIRouter(include_in_schema=False)
Posted = tuple[Console, FormData]


def act(
    console: Console,
    incident_id: str,
    panel: str,
    form: FormData,
    action: Callable[[Session], Any],
) -> Response:
    """Run one action in one transaction and answer: the panels for HTMX, else a redirect.

    A refusal rolls the transaction back and shows the message on the panel it came from,
    keeping what the person typed.
    """
    try:
        with console.write() as session:
            action(session)
            view = gather(session, console, incident_id)
    except (HaetaeError, ValidationError) as exc:
        view = load(console, incident_id)  # a 404 for a missing incident, before the failure
        failure = failure_from(console, panel, dict(form.items()), exc)
        if console.htmx:
            # HTMX swaps 409 and 422 (see base.html); other refusals also come back as 422.
            status = failure.status if failure.status in (409, 422) else 422
            return panels(console, view, panel, failure, status)
        return page(console, view, failure, failure.status)
    if console.htmx:
        return panels(console, view, panel)
    return RedirectResponse(f"/incidents/{incident_id}#panel-{panel}", status_code=303)


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    return act(
        console,
        incident_id,
        "header",
        form,
        lambda s: transitions.acknowledge(s, incident_id, by=console.actor, now=console.now()),
    )


@router.post("/incidents/{incident_id}/transitions")
def transition(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = TransitionIn.model_validate(
            {
                "to": field(form, "to"),
                "reason": field(form, "reason") or None,
                "override_conditions": field(form, "override_conditions") == "1",
                "summary": field(form, "summary") or None,
            }
        )
        transitions.transition(
            session,
            console.policy,
            incident_id,
            to=body.to,
            reason=body.reason,
            actor=console.actor,
            now=console.now(),
            override_conditions=body.override_conditions,
            summary=body.summary,
        )

    return act(console, incident_id, "status", form, run)


@router.post("/incidents/{incident_id}/roles/{role}")
def assign_role(incident_id: str, role: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = RoleAssign.model_validate({"assignee": field(form, "assignee")})
        roles.assign_role(
            session,
            console.policy,
            incident_id,
            role=role,
            assignee=body.assignee,
            actor=console.actor,
            now=console.now(),
        )

    return act(console, incident_id, "roles", form, run)


@router.post("/incidents/{incident_id}/roles/{role}/step-down")
def step_down(incident_id: str, role: str, posted: Posted = Depends(responder_post)) -> Response:
    """The holder steps down (or a responder relieves them); the role is open again."""
    console, form = posted
    return act(
        console,
        incident_id,
        "roles",
        form,
        lambda s: roles.unassign_role(
            s, incident_id, role=role, actor=console.actor, now=console.now()
        ),
    )


@router.post("/incidents/{incident_id}/updates")
def post_update(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = StatusUpdateIn.model_validate(
            {
                "situation": field(form, "situation"),
                "impact": field(form, "impact"),
                "progress": field(form, "progress"),
                "eta": field(form, "eta") or None,
                "next_update_at": local_time(
                    console, field(form, "next_update_at"), name="next_update_at"
                ),
                "next_steps": field(form, "next_steps"),
                "fields": {
                    name: field(form, f"field_{name}")
                    for name in EXTRA_FIELDS
                    if field(form, f"field_{name}")
                },
            }
        )
        try:
            activity.post_update(
                session, console.policy, incident_id, body, author=console.actor, now=console.now()
            )
        except HaetaeError as exc:
            if exc.code != "UPDATE_FIELDS_REQUIRED":
                raise
            # The API's message names the fields by their ids; the console by their labels.
            labels = [console.gettext(FIELD_LABELS[f]) for f in exc.details.get("fields", [])]
            raise HaetaeError(
                exc.code,
                console.gettext("This severity's status update also needs: %(fields)s")
                % {"fields": ", ".join(labels)},
                **exc.details,
            ) from None

    return act(console, incident_id, "update", form, run)


@router.post("/incidents/{incident_id}/notes")
def add_note(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = NoteIn.model_validate(
            {
                "kind": field(form, "kind") or "note",
                "body": field(form, "body"),
                "url": field(form, "url") or None,
            }
        )
        activity.add_note(session, incident_id, body, author=console.actor, now=console.now())

    return act(console, incident_id, "note", form, run)


@router.post("/incidents/{incident_id}/decisions")
def record_decision(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = DecisionIn.model_validate(
            {
                "kind": field(form, "kind"),
                "decision": field(form, "decision"),
                "alternatives": split_lines(field(form, "alternatives")),
                "reason": field(form, "reason"),
            }
        )
        activity.record_decision(session, incident_id, body, by=console.actor, now=console.now())

    return act(console, incident_id, "decision", form, run)


@router.post("/incidents/{incident_id}/conditions/{condition_id}")
def check_condition(
    incident_id: str, condition_id: str, posted: Posted = Depends(responder_post)
) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = ConditionCheckIn.model_validate({"note": field(form, "note")})
        resolution.check_condition(
            session,
            console.policy,
            incident_id,
            condition_id,
            by=console.actor,
            note=body.note,
            now=console.now(),
        )

    return act(console, incident_id, "conditions", form, run)
