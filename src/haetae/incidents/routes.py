"""Incident routes under /api/v1: thin HTTP over incidents.service."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from haetae.deps import Context, responder, viewer
from haetae.incidents import activity, export, resolution, roles, service, transitions
from haetae.incidents.models import Incident
from haetae.incidents.schemas import (
    ConditionCheckIn,
    ConditionOut,
    DecisionIn,
    DecisionOut,
    IncidentDeclare,
    IncidentDetail,
    IncidentPage,
    IncidentPatch,
    NoteIn,
    NoteOut,
    RoleAssign,
    RoleOut,
    StatusUpdateIn,
    StatusUpdateOut,
    TimelineEventOut,
    TransitionIn,
)
from haetae.incidents.views import present, present_detail
from haetae.inputs import Timestamp
from haetae.timeline import service as timeline

router = APIRouter(prefix="/incidents", tags=["incidents"])


def detail(session: Session, ctx: Context, incident: Incident) -> IncidentDetail:
    return present_detail(session, ctx.policy, incident, ctx.now(), locale=ctx.principal.locale)


@router.post("", status_code=201, response_model=IncidentDetail)
def declare(body: IncidentDeclare, response: Response, ctx: Context = responder) -> IncidentDetail:
    with ctx.write() as session:
        incident = service.declare_incident(
            session, ctx.policy, body, actor=ctx.actor, now=ctx.now()
        )
        result = detail(session, ctx, incident)
    response.headers["Location"] = f"/api/v1/incidents/{result.id}"
    return result


@router.get("", response_model=IncidentPage)
def list_incidents(
    ctx: Context = viewer,
    status: list[str] | None = Query(default=None, description="repeat or comma-separate"),
    severity: list[str] | None = Query(default=None),
    service_name: str | None = Query(default=None, alias="service", max_length=200),
    tag: str | None = Query(default=None, max_length=200),
    since: Timestamp | None = Query(default=None, description="declared at or after (ISO 8601)"),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
    cursor: str | None = Query(
        default=None, max_length=200, description="a page's next_cursor: the page after it"
    ),
) -> IncidentPage:
    """Incidents, newest first. `total` counts up to 10,000 (`total_capped` past it);
    `next_cursor` reads the next page from where this one ended, however deep."""
    where = service.IncidentFilter(
        status=_split(status),
        severity=_split(severity),
        service=service_name,
        tag=tag,
        since=since,
    )
    with ctx.read() as session:
        found = service.incident_page(session, where, limit=limit, offset=offset, cursor=cursor)
        now = ctx.now()
        return IncidentPage(
            items=[present(ctx.policy, i, now) for i in found.rows],
            total=found.total,
            total_capped=found.total_capped,
            next_cursor=found.next_cursor,
            limit=limit,
            offset=offset,
        )


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(incident_id: str, ctx: Context = viewer) -> IncidentDetail:
    with ctx.read() as session:
        return detail(session, ctx, service.get_incident(session, incident_id))


@router.patch("/{incident_id}", response_model=IncidentDetail)
def patch_incident(
    incident_id: str, body: IncidentPatch, ctx: Context = responder
) -> IncidentDetail:
    with ctx.write() as session:
        incident = service.patch_incident(
            session, ctx.policy, incident_id, body, actor=ctx.actor, now=ctx.now()
        )
        return detail(session, ctx, incident)


@router.get("/{incident_id}/timeline", response_model=list[TimelineEventOut])
def get_timeline(incident_id: str, ctx: Context = viewer) -> list[TimelineEventOut]:
    with ctx.read() as session:
        service.get_incident(session, incident_id)
        return [TimelineEventOut.model_validate(e) for e in timeline.events(session, incident_id)]


@router.get(
    "/{incident_id}/timeline/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}, "text/csv": {}}}},
)
def export_timeline(
    incident_id: str,
    ctx: Context = viewer,
    fmt: export.Format = Query(default="markdown", alias="format"),
    lang: Literal["en", "ko"] | None = Query(default=None, description="default: your locale"),
) -> Response:
    """The timeline as a Markdown document (seed 000's scribe table) or a CSV file."""
    with ctx.read() as session:
        download = export.export_incident(
            session,
            ctx.policy,
            incident_id,
            fmt=fmt,
            locale=lang or ctx.principal.locale,
            now=ctx.now(),
        )
    return Response(download.text, media_type=download.media_type, headers=download.headers)


@router.post("/{incident_id}/transitions", response_model=IncidentDetail)
def transition(incident_id: str, body: TransitionIn, ctx: Context = responder) -> IncidentDetail:
    with ctx.write() as session:
        incident = transitions.transition(
            session,
            ctx.policy,
            incident_id,
            to=body.to,
            reason=body.reason,
            actor=ctx.actor,
            now=ctx.now(),
            override_conditions=body.override_conditions,
            summary=body.summary,
        )
        return detail(session, ctx, incident)


@router.post("/{incident_id}/acknowledge", response_model=IncidentDetail)
def acknowledge(incident_id: str, ctx: Context = responder) -> IncidentDetail:
    with ctx.write() as session:
        incident = transitions.acknowledge(session, incident_id, by=ctx.actor, now=ctx.now())
        return detail(session, ctx, incident)


@router.get("/{incident_id}/roles", response_model=list[RoleOut])
def list_roles(incident_id: str, ctx: Context = viewer) -> list[RoleOut]:
    """Every assignment, past and present: the hand-over history."""
    with ctx.read() as session:
        service.get_incident(session, incident_id)
        return [RoleOut.model_validate(r) for r in roles.role_history(session, incident_id)]


@router.put("/{incident_id}/roles/{role}", response_model=RoleOut)
def assign_role(incident_id: str, role: str, body: RoleAssign, ctx: Context = responder) -> RoleOut:
    """Assign the role, or hand it over if someone holds it."""
    with ctx.write() as session:
        assignment = roles.assign_role(
            session,
            ctx.policy,
            incident_id,
            role=role,
            assignee=body.assignee,
            actor=ctx.actor,
            now=ctx.now(),
        )
        return RoleOut.model_validate(assignment)


@router.delete("/{incident_id}/roles/{role}", status_code=204)
def unassign_role(incident_id: str, role: str, ctx: Context = responder) -> Response:
    with ctx.write() as session:
        roles.unassign_role(
            session, incident_id, role=role, actor=ctx.actor, now=ctx.now(), policy=ctx.policy
        )
    return Response(status_code=204)


@router.get("/{incident_id}/updates", response_model=list[StatusUpdateOut])
def list_updates(incident_id: str, ctx: Context = viewer) -> list[StatusUpdateOut]:
    with ctx.read() as session:
        service.get_incident(session, incident_id)
        return [
            StatusUpdateOut.model_validate(u) for u in activity.list_updates(session, incident_id)
        ]


@router.post("/{incident_id}/updates", status_code=201, response_model=StatusUpdateOut)
def post_update(
    incident_id: str, body: StatusUpdateIn, ctx: Context = responder
) -> StatusUpdateOut:
    with ctx.write() as session:
        update = activity.post_update(
            session, ctx.policy, incident_id, body, author=ctx.actor, now=ctx.now()
        )
        return StatusUpdateOut.model_validate(update)


@router.get("/{incident_id}/notes", response_model=list[NoteOut])
def list_notes(incident_id: str, ctx: Context = viewer) -> list[NoteOut]:
    with ctx.read() as session:
        service.get_incident(session, incident_id)
        return [NoteOut.model_validate(n) for n in activity.list_notes(session, incident_id)]


@router.post("/{incident_id}/notes", status_code=201, response_model=NoteOut)
def add_note(incident_id: str, body: NoteIn, ctx: Context = responder) -> NoteOut:
    with ctx.write() as session:
        return NoteOut.model_validate(
            activity.add_note(session, incident_id, body, author=ctx.actor, now=ctx.now())
        )


@router.get("/{incident_id}/decisions", response_model=list[DecisionOut])
def list_decisions(incident_id: str, ctx: Context = viewer) -> list[DecisionOut]:
    with ctx.read() as session:
        service.get_incident(session, incident_id)
        return [
            DecisionOut.model_validate(d) for d in activity.list_decisions(session, incident_id)
        ]


@router.post("/{incident_id}/decisions", status_code=201, response_model=DecisionOut)
def record_decision(incident_id: str, body: DecisionIn, ctx: Context = responder) -> DecisionOut:
    with ctx.write() as session:
        return DecisionOut.model_validate(
            activity.record_decision(session, incident_id, body, by=ctx.actor, now=ctx.now())
        )


@router.get("/{incident_id}/conditions", response_model=list[ConditionOut])
def list_conditions(incident_id: str, ctx: Context = viewer) -> list[ConditionOut]:
    with ctx.read() as session:
        incident = service.get_incident(session, incident_id)
        return resolution.conditions(session, ctx.policy, incident, locale=ctx.principal.locale)


@router.post("/{incident_id}/conditions/{condition_id}", response_model=list[ConditionOut])
def check_condition(
    incident_id: str, condition_id: str, body: ConditionCheckIn, ctx: Context = responder
) -> list[ConditionOut]:
    """Confirm one of the policy's manual resolution conditions."""
    with ctx.write() as session:
        resolution.check_condition(
            session,
            ctx.policy,
            incident_id,
            condition_id,
            by=ctx.actor,
            note=body.note,
            now=ctx.now(),
        )
        incident = service.get_incident(session, incident_id)
        return resolution.conditions(session, ctx.policy, incident, locale=ctx.principal.locale)
