"""The console's change feed page (/changes: recent changes by service, kind and time), and the
forms of the incident page's Changes panel (link, unlink, the affected version)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.changes import queries, service
from haetae.changes.schemas import LinkIn
from haetae.errors import HaetaeError
from haetae.inputs import is_number
from haetae.web.change_panel import KIND_LABELS
from haetae.web.console import Console, field, responder_post, signed_in
from haetae.web.incident_actions import Posted, act
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
# The page's time filter: changes of the last N hours.
HOURS = (1, 6, 24, 72, 168)


@router.get("/changes")
def changes_page(
    console: Console = Depends(signed_in),
    service_: str = Query(default="", alias="service", max_length=200),
    kind: str = Query(default="", max_length=32),
    hours: str = Query(default="", max_length=8),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    since_hours = int(hours) if is_number(hours) and int(hours) in HOURS else None
    kind = kind if kind in KIND_LABELS else ""
    now = console.now()
    with console.read() as session:
        rows, total = queries.list_changes(
            session,
            service=service_ or None,
            kind=kind or None,
            since=now - timedelta(hours=since_hours) if since_hours else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    return render(
        console,
        "changes.html",
        active="changes",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        filters={"service": service_, "kind": kind, "hours": str(since_hours or "")},
        hour_choices=HOURS,
        kinds={k: console.gettext(v) for k, v in KIND_LABELS.items()},
    )


def _change_id(value: str) -> int:
    if not is_number(value) or not 1 <= int(value) <= 2**31 - 1:
        raise HaetaeError("NOT_FOUND", f"No change {value}.")
    return int(value)


@router.post("/incidents/{incident_id}/changes/link")
def link(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted

    def run(session: Session) -> None:
        body = LinkIn.model_validate(
            {
                "change_id": _change_id(field(form, "change_id")),
                "verdict": field(form, "verdict") or "suspected",
                "note": field(form, "note"),
            }
        )
        service.link(
            session,
            incident_id,
            body.change_id,
            verdict=body.verdict,
            note=body.note,
            by=console.actor,
            now=console.now(),
        )

    return act(console, incident_id, "changes", form, run)


@router.post("/incidents/{incident_id}/changes/{change_id}/unlink")
def unlink(incident_id: str, change_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    return act(
        console,
        incident_id,
        "changes",
        form,
        lambda s: service.unlink(
            s, incident_id, _change_id(change_id), by=console.actor, now=console.now()
        ),
    )


@router.post("/incidents/{incident_id}/changes/version")
def affected_version(incident_id: str, posted: Posted = Depends(responder_post)) -> Response:
    console, form = posted
    return act(
        console,
        incident_id,
        "changes",
        form,
        lambda s: service.set_affected_version(
            s,
            console.policy,
            incident_id,
            field(form, "affected_version"),
            actor=console.actor,
            now=console.now(),
        ),
    )
