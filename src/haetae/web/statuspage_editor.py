"""The console's status page editor: /status-page/admin (components and their states, public
incidents and updates, maintenance). Each form calls the status page service; a refusal is
shown on the page beside its form, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.errors import HaetaeError
from haetae.inputs import is_number
from haetae.statuspage import service
from haetae.statuspage.models import (
    COMPONENT_STATES,
    IMPACTS,
    INCIDENT_STATES,
    MAINTENANCE_STATES,
    Component,
    Maintenance,
    PublicIncident,
    PublicUpdate,
)
from haetae.web.console import Console, Refused, field, responder_post, signed_in
from haetae.web.forms import Failure, local_time
from haetae.web.render import render
from haetae.web.statuspage_views import (
    LANGUAGES,
    PUBLIC_TEMPLATES,
    editor_page,
    reader_words,
    refusal,
)

router = APIRouter(include_in_schema=False)
Posted = tuple[Console, FormData]
ADMIN = "/status-page/admin"
Row = TypeVar("Row", Component, PublicIncident, PublicUpdate, Maintenance)


@router.get(ADMIN)
def admin_page(
    console: Console = Depends(signed_in),
    incident: str = Query(default="", max_length=32),
    done: str = Query(default="", max_length=32),
) -> Response:
    return editor_page(console, incident_id=incident, done=done)


def _values(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _row(session: Session, model: type[Row], ref: str) -> Row:
    found = session.get(model, int(ref), with_for_update=True) if is_number(ref) else None
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No {model.__name__} {ref}.")
    return found


def _choice(form: FormData, name: str, allowed: tuple[str, ...]) -> str:
    value = field(form, name)
    if value not in allowed:
        raise HaetaeError("VALIDATION_ERROR", f"{name}: '{value}' is not one of {allowed}.")
    return value


def _both(form: FormData, name: str) -> dict[str, str]:
    """A text given in English and Korean (`name_en`, `name_ko`), blanks left out."""
    return {
        lang: field(form, f"{name}_{lang}") for lang in LANGUAGES if field(form, f"{name}_{lang}")
    }


def _act(
    console: Console,
    form: FormData,
    panel: str,
    run: Callable[[Session], Any],
    *,
    done: str,
    anchor: str,
) -> Response:
    """Run one form's change in one transaction: back to the page on success, the page with
    the refusal beside the form otherwise."""
    try:
        with console.write() as session:
            run(session)
    except HaetaeError as exc:
        if exc.status == 404 and exc.code != "DRILL_NOT_PUBLIC":
            raise Refused(404, exc.message) from None
        failure = Failure(panel, [refusal(console, exc)], _values(form), exc.status)
        return editor_page(
            console,
            incident_id=field(form, "incident_id") if panel == "open" else "",
            failure=failure,
            status=failure.status,
        )
    return RedirectResponse(f"{ADMIN}?done={done}#{anchor}", status_code=303)


@router.post(ADMIN + "/components/{component_id}/status")
def component_status(component_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        component = _row(session, Component, component_id)
        state = _choice(form, "status", COMPONENT_STATES)
        service.set_component_status(session, component, state, by=console.actor, now=console.now())

    return _act(
        console, form, f"component-{component_id}", run, done="component", anchor="components"
    )


@router.post(ADMIN + "/incidents")
def open_incident(posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        components = {}
        for name, value in form.items():
            wanted = str(value).strip()
            if name.startswith("state_") and is_number(name[6:]) and wanted:
                if wanted not in COMPONENT_STATES:
                    raise HaetaeError("VALIDATION_ERROR", f"{name}: '{wanted}' is not a state.")
                components[int(name[6:])] = wanted
        service.open_public_incident(
            session,
            console.policy,
            incident_id=field(form, "incident_id") or None,
            title=_both(form, "title"),
            impact=_choice(form, "impact", IMPACTS),
            components=components,
            by=console.actor,
            now=console.now(),
        )

    return _act(console, form, "open", run, done="opened", anchor="public-incidents")


@router.post(ADMIN + "/incidents/{public_id}/draft")
def draft(public_id: str, posted: Posted = Depends(responder_post)) -> Response:
    """A new draft in both languages from a template (or the core's default template)."""
    console, form = posted

    def run(session: Session) -> None:
        public = _row(session, PublicIncident, public_id)
        template = field(form, "template")
        if template and template not in PUBLIC_TEMPLATES:
            raise HaetaeError("VALIDATION_ERROR", f"template: '{template}' is not public.")
        service.draft_update(
            session,
            console.policy,
            public,
            status=_choice(form, "status", INCIDENT_STATES),
            body=None,
            template=template or None,
            by=console.actor,
            now=console.now(),
        )

    return _act(
        console, form, f"incident-{public_id}", run, done="drafted", anchor=f"pi-{public_id}"
    )


@router.post(ADMIN + "/updates/{update_id}/publish")
def publish(update_id: str, posted: Posted = Depends(responder_post)) -> Response:
    """Publish a draft with the text as edited on the page."""
    console, form = posted
    anchor = f"update-{update_id}"

    def run(session: Session) -> None:
        update = _row(session, PublicUpdate, update_id)
        body = _both(form, "body")
        service.publish_update(
            session,
            console.policy,
            update,
            by=console.actor,
            now=console.now(),
            body={**update.body, **body} if body else None,
        )

    return _act(console, form, anchor, run, done="published", anchor=anchor)


@router.post(ADMIN + "/updates/{update_id}/preview")
def preview(update_id: str, posted: Posted = Depends(responder_post)) -> Response:
    """What readers would see of the draft as edited now (HTMX, as the person types); nothing
    is saved."""
    console, form = posted
    with console.read() as session:
        update = session.get(PublicUpdate, int(update_id)) if is_number(update_id) else None
        if update is None:
            raise Refused(404, f"No update {update_id}.")
        public = session.get(PublicIncident, update.public_incident_id)
        assert public is not None
        return render(
            console,
            "statuspage/_preview.html",
            u=update,
            public=public,
            body={**update.body, **_both(form, "body")},
            reader_words=reader_words(),
            sp_languages=LANGUAGES,
        )


@router.post(ADMIN + "/maintenance")
def schedule(posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        start = local_time(console, field(form, "start"), name="start")
        end = local_time(console, field(form, "end"), name="end")
        if start is None or end is None:
            raise HaetaeError("VALIDATION_ERROR", "start and end are required.")
        ids = [int(str(v)) for v in form.getlist("component_ids") if is_number(str(v))]
        service.schedule_maintenance(
            session,
            title=_both(form, "title"),
            body=_both(form, "body"),
            start=start,
            end=end,
            component_ids=ids,
            by=console.actor,
            now=console.now(),
        )

    return _act(console, form, "maintenance", run, done="scheduled", anchor="maintenance")


@router.post(ADMIN + "/maintenance/{maintenance_id}/status")
def maintenance_status(maintenance_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        window = _row(session, Maintenance, maintenance_id)
        state = _choice(form, "status", MAINTENANCE_STATES)
        service.set_maintenance_status(session, window, state, by=console.actor, now=console.now())

    anchor = f"mw-{maintenance_id}"
    return _act(console, form, anchor, run, done="maintenance", anchor=anchor)
