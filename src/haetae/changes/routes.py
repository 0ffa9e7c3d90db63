"""The change feed under /api/v1: POST /changes (an integration token, or a responder), listing,
and linking changes to incidents."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from haetae.alerts.integrations import presented_token
from haetae.auth.service import Principal
from haetae.changes import queries, service
from haetae.changes.schemas import (
    MAX_PAGE,
    ChangeIn,
    ChangeOut,
    ChangePage,
    ChangePosted,
    IncidentChangeOut,
    IncidentChanges,
    Kind,
    LinkIn,
)
from haetae.config import Settings
from haetae.db import Database
from haetae.deps import Context, note_key_use, resolve_principal, responder, viewer
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.inputs import RowId, Timestamp
from haetae.policy.schema import Policy

router = APIRouter(tags=["changes"])


@dataclass(frozen=True)
class Poster:
    """Who posts a change: a `changes` integration (CI/CD) or a person with the responder role."""

    ctx: Context
    actor: str
    integration_id: int | None


async def change_poster(request: Request, tasks: BackgroundTasks) -> Poster:
    """An integration token as the ingest paths take it (a wrong one counts against the
    address, as there), else an API key or login token with the responder role."""
    state = request.app.state
    token = presented_token(request.headers.get("authorization"), request.query_params.get("token"))
    client = request.client.host if request.client else "unknown"
    wait = state.limiter.auth_blocked(client)
    if wait is not None and not (token and state.tokens.was_valid(token)):
        raise HaetaeError(
            "RATE_LIMITED",
            f"Too many wrong tokens from this address; retry in {int(wait)} s.",
            retry_after=int(wait),
        )
    if token is None:
        raise HaetaeError(
            "UNAUTHORIZED",
            "Give a changes integration's token, or an API key, as 'Authorization: Bearer ...'.",
        )
    sender = await state.tokens.lookup(token)
    if sender is not None:
        if sender.type != "changes":
            raise HaetaeError(
                "WRONG_INTEGRATION_TYPE",
                f"{sender.name} is a {sender.type} integration: it sends alerts, not changes.",
            )
        wait = state.limiter.hit(sender.name, client)
        if wait is not None:
            raise HaetaeError(
                "RATE_LIMITED", f"Too many requests; retry in {int(wait)} s.", retry_after=int(wait)
            )
        as_sender = Principal(f"integration:{sender.name}", "responder", "integration")
        return Poster(Context(as_sender, *_state(request)), as_sender.name, sender.id)
    principal: Principal | None = await run_in_threadpool(resolve_principal, request, token)
    if principal is None:
        state.limiter.auth_failed(client)
        raise HaetaeError("UNAUTHORIZED", "The token is not a live integration's or a key.")
    note_key_use(request, principal, tasks)
    if not principal.allows("responder"):
        raise HaetaeError("FORBIDDEN", f"This needs the responder role; you are {principal.role}.")
    return Poster(Context(principal, *_state(request)), principal.name, None)


def _state(request: Request) -> tuple[Policy, Database, Settings]:
    state = request.app.state
    return state.policy, state.db, state.settings


@router.post(
    "/changes",
    status_code=201,
    response_model=ChangePosted,
    responses={200: {"model": ChangePosted, "description": "the id was posted before"}},
)
def post_change(
    body: ChangeIn, response: Response, poster: Poster = Depends(change_poster)
) -> ChangePosted:
    """A deploy, configuration or infrastructure change (docs/changes.md). The same `id` again
    answers 200 with the change recorded the first time."""
    ctx = poster.ctx
    with ctx.write() as session:
        change, new = service.record_change(
            session, body, integration_id=poster.integration_id, author=poster.actor, now=ctx.now()
        )
        out = ChangePosted(
            **ChangeOut.model_validate(change).model_dump(),
            service_known=service.is_known_service(session, change.service),
            duplicate=not new,
        )
    response.status_code = 201 if new else 200
    response.headers["Location"] = f"/api/v1/changes/{out.id}"
    return out


@router.get("/changes", response_model=ChangePage)
def list_changes(
    ctx: Context = viewer,
    service_: str | None = Query(default=None, alias="service", max_length=200),
    kind: Kind | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> ChangePage:
    """Newest first."""
    with ctx.read() as session:
        rows, total = queries.list_changes(
            session,
            service=service_,
            kind=kind,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return ChangePage(
            changes=[ChangeOut.model_validate(c) for c in rows],
            total=total,
            limit=limit,
            offset=offset,
        )


@router.get("/changes/{change_id}", response_model=ChangeOut)
def get_change(change_id: RowId, ctx: Context = viewer) -> ChangeOut:
    with ctx.read() as session:
        return ChangeOut.model_validate(queries.get_change(session, change_id))


def incident_changes(ctx: Context, incident_id: str) -> IncidentChanges:
    with ctx.read() as session:
        incident = incidents.get_incident(session, incident_id)
        view = queries.for_incident(session, ctx.policy, incident, now=ctx.now())
        return IncidentChanges(
            incident_id=incident.id,
            affected_version=incident.affected_version,
            window_from=view.window_from,
            window_to=view.window_to,
            changes=[
                IncidentChangeOut(
                    **ChangeOut.model_validate(row.change).model_dump(),
                    verdict=row.link.verdict if row.link else None,
                    linked_by=row.link.linked_by if row.link else None,
                    linked_at=row.link.linked_at if row.link else None,
                    note=row.link.note if row.link else "",
                    in_window=row.in_window,
                )
                for row in view.rows
            ],
        )


@router.get("/incidents/{incident_id}/changes", response_model=IncidentChanges)
def list_incident_changes(incident_id: str, ctx: Context = viewer) -> IncidentChanges:
    """Changes to the incident's services in the policy's window (response.changes.window)
    before its start until its resolution, and the ones linked to it, newest first."""
    return incident_changes(ctx, incident_id)


@router.post("/incidents/{incident_id}/changes", response_model=IncidentChanges)
def link_change(incident_id: str, body: LinkIn, ctx: Context = responder) -> IncidentChanges:
    """Link a change as a suspected (or confirmed) cause; again to change the verdict."""
    with ctx.write() as session:
        service.link(
            session,
            incident_id,
            body.change_id,
            verdict=body.verdict,
            note=body.note,
            by=ctx.actor,
            now=ctx.now(),
        )
    return incident_changes(ctx, incident_id)


@router.delete("/incidents/{incident_id}/changes/{change_id}", response_model=IncidentChanges)
def unlink_change(incident_id: str, change_id: RowId, ctx: Context = responder) -> IncidentChanges:
    with ctx.write() as session:
        service.unlink(session, incident_id, change_id, by=ctx.actor, now=ctx.now())
    return incident_changes(ctx, incident_id)
