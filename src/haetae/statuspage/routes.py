"""The status page's admin API under /api/v1/status-page: settings, groups and components
(admins), component states, public incidents and their updates, maintenance (responders)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Response

from haetae.deps import Context, admin, responder, viewer
from haetae.errors import HaetaeError
from haetae.inputs import RowId
from haetae.policy.terms import ID_PATTERN
from haetae.statuspage import components as component_service
from haetae.statuspage import queries, service
from haetae.statuspage.schemas import (
    ComponentIn,
    ComponentOut,
    ComponentStatusIn,
    DraftIn,
    GroupIn,
    GroupOut,
    MaintenanceChange,
    MaintenanceIn,
    MaintenanceOut,
    PublicIncidentChange,
    PublicIncidentIn,
    PublicIncidentOut,
    PublishIn,
    ResolveIn,
    SettingsIn,
    SettingsOut,
    UpdateOut,
)

router = APIRouter(prefix="/status-page", tags=["status page"])

SlugPath = Path(min_length=1, max_length=64, pattern=ID_PATTERN)
CodePath = Path(min_length=1, max_length=32)


@router.get("/settings", response_model=SettingsOut)
def get_settings(ctx: Context = viewer) -> SettingsOut:
    with ctx.read() as session:
        return queries.settings_out(session)


@router.put("/settings", response_model=SettingsOut)
def put_settings(body: SettingsIn, ctx: Context = admin) -> SettingsOut:
    """The page's title, whether it is served, its own host name, the support link."""
    with ctx.write() as session:
        now = ctx.now()
        row = service.settings(session, now=now)
        row.enabled = body.enabled
        row.title = service.localized_text(dict(body.title) or service.DEFAULT_TITLE, "title")
        row.host = (body.host or "").strip().lower() or None
        row.support_url = body.support_url
        service.touch(session, now=now)
        session.flush()
        return queries.settings_out(session)


@router.get("/groups", response_model=list[GroupOut])
def list_groups(ctx: Context = viewer) -> list[GroupOut]:
    with ctx.read() as session:
        return queries.groups_out(session)


@router.put("/groups/{slug}", response_model=GroupOut)
def put_group(body: GroupIn, slug: str = SlugPath, ctx: Context = admin) -> GroupOut:
    with ctx.write() as session:
        group = component_service.put_group(
            session, slug=slug, name=dict(body.name), position=body.position, now=ctx.now()
        )
        return GroupOut(slug=group.slug, name=group.name, position=group.position)


@router.delete("/groups/{slug}", status_code=204)
def delete_group(slug: str = SlugPath, ctx: Context = admin) -> Response:
    """Its components stay, outside any group."""
    with ctx.write() as session:
        group = component_service.find_group(session, slug)
        if group is None:
            raise HaetaeError("NOT_FOUND", f"no group '{slug}'")
        component_service.delete_group(session, group, now=ctx.now())
    return Response(status_code=204)


@router.get("/components", response_model=list[ComponentOut])
def list_components(ctx: Context = viewer) -> list[ComponentOut]:
    with ctx.read() as session:
        return queries.components_out(session)


@router.put("/components/{slug}", response_model=ComponentOut)
def put_component(body: ComponentIn, slug: str = SlugPath, ctx: Context = admin) -> ComponentOut:
    """Create or change a component; a new one starts operational."""
    with ctx.write() as session:
        component = component_service.put_component(
            session,
            slug=slug,
            name=dict(body.name),
            description=dict(body.description),
            group=body.group,
            services=body.services,
            visible=body.visible,
            position=body.position,
            by=ctx.actor,
            now=ctx.now(),
        )
        groups = {g.id: g.slug for g in component_service.groups(session)}
        return queries.component_out(component, groups)


@router.delete("/components/{slug}", status_code=204)
def delete_component(slug: str = SlugPath, ctx: Context = admin) -> Response:
    with ctx.write() as session:
        component = component_service.get_component(session, slug)
        component_service.delete_component(session, component, now=ctx.now())
    return Response(status_code=204)


@router.post("/components/{slug}/status", response_model=ComponentOut)
def set_component_status(
    body: ComponentStatusIn, slug: str = SlugPath, ctx: Context = responder
) -> ComponentOut:
    """Set a component's state by hand (its uptime history gets a new row)."""
    with ctx.write() as session:
        component = component_service.get_component(session, slug)
        service.set_component_status(session, component, body.status, by=ctx.actor, now=ctx.now())
        groups = {g.id: g.slug for g in component_service.groups(session)}
        return queries.component_out(component, groups)


@router.get("/incidents", response_model=list[PublicIncidentOut])
def list_public_incidents(
    open_only: bool = Query(default=False, alias="open"),
    incident_id: str | None = Query(default=None, max_length=32),
    ctx: Context = viewer,
) -> list[PublicIncidentOut]:
    """Open public incidents first, each with its updates (drafts too)."""
    with ctx.read() as session:
        return queries.public_incidents_out(session, open_only=open_only, incident_id=incident_id)


@router.post("/incidents", status_code=201, response_model=PublicIncidentOut)
def open_public_incident(body: PublicIncidentIn, ctx: Context = responder) -> PublicIncidentOut:
    """Open a public incident, from a Haetae incident (its services' components, in the state
    its severity says) or standing alone. A drill's is refused (422 DRILL_NOT_PUBLIC).
    Nothing is public until its first update is published."""
    with ctx.write() as session:
        ids = component_service.component_ids(session, list(body.components))
        public = service.open_public_incident(
            session,
            ctx.policy,
            incident_id=body.incident_id,
            title=dict(body.title),
            impact=body.impact,
            components=dict(zip(ids, body.components.values(), strict=True)),
            by=ctx.actor,
            now=ctx.now(),
        )
        return queries.public_incident_out(session, public.code)


@router.get("/incidents/{code}", response_model=PublicIncidentOut)
def get_public_incident(code: str = CodePath, ctx: Context = viewer) -> PublicIncidentOut:
    with ctx.read() as session:
        return queries.public_incident_out(session, code)


@router.patch("/incidents/{code}", response_model=PublicIncidentOut)
def change_public_incident(
    body: PublicIncidentChange, code: str = CodePath, ctx: Context = responder
) -> PublicIncidentOut:
    with ctx.write() as session:
        public = queries.get_public_incident(session, code, for_update=True)
        components: dict[int, str] | None = None
        if body.components is not None:
            ids = component_service.component_ids(session, list(body.components))
            components = dict(zip(ids, body.components.values(), strict=True))
        service.change_public_incident(
            session,
            public,
            title=dict(body.title) if body.title is not None else None,
            impact=body.impact,
            components=components,
            by=ctx.actor,
            now=ctx.now(),
        )
        return queries.public_incident_out(session, code)


@router.post("/incidents/{code}/updates", status_code=201, response_model=UpdateOut)
def draft_update(body: DraftIn, code: str = CodePath, ctx: Context = responder) -> UpdateOut:
    """A draft update: the body as given, or written in both languages from a template
    (first update: customer_first_notice; resolving: recovery_notice; else
    public_announcement)."""
    with ctx.write() as session:
        public = queries.get_public_incident(session, code, for_update=True)
        update = service.draft_update(
            session,
            ctx.policy,
            public,
            status=body.status,
            body=dict(body.body) if body.body is not None else None,
            template=body.template,
            by=ctx.actor,
            now=ctx.now(),
        )
        return queries.update_out(update)


@router.post("/updates/{update_id}/publish", response_model=UpdateOut)
def publish_update(body: PublishIn, update_id: RowId, ctx: Context = responder) -> UpdateOut:
    """Publish a draft (with `body`, as edited): the page shows it, the components take
    their states, the next update is due on the policy's cadence, subscribers are told."""
    with ctx.write() as session:
        update = queries.get_update(session, update_id)
        service.publish_update(
            session,
            ctx.policy,
            update,
            by=ctx.actor,
            now=ctx.now(),
            body=dict(body.body) if body.body is not None else None,
        )
        return queries.update_out(update)


@router.post("/incidents/{code}/resolve", response_model=PublicIncidentOut)
def resolve_public_incident(
    body: ResolveIn, code: str = CodePath, ctx: Context = responder
) -> PublicIncidentOut:
    """Draft and publish the resolving update at once (body as given, or the recovery
    notice); the components settle back to operational."""
    with ctx.write() as session:
        public = queries.get_public_incident(session, code, for_update=True)
        now = ctx.now()
        update = service.draft_update(
            session,
            ctx.policy,
            public,
            status="resolved",
            body=dict(body.body) if body.body is not None else None,
            template=body.template,
            by=ctx.actor,
            now=now,
        )
        service.publish_update(session, ctx.policy, update, by=ctx.actor, now=now)
        return queries.public_incident_out(session, code)


@router.get("/maintenance", response_model=list[MaintenanceOut])
def list_maintenance(ctx: Context = viewer) -> list[MaintenanceOut]:
    with ctx.read() as session:
        return queries.maintenances_out(session)


@router.post("/maintenance", status_code=201, response_model=MaintenanceOut)
def schedule_maintenance(body: MaintenanceIn, ctx: Context = responder) -> MaintenanceOut:
    """A window: the worker puts its components under maintenance at `start` and back at
    `end`."""
    with ctx.write() as session:
        row = service.schedule_maintenance(
            session,
            title=dict(body.title),
            body=dict(body.body),
            start=body.start,
            end=body.end,
            component_ids=component_service.component_ids(session, body.components),
            by=ctx.actor,
            now=ctx.now(),
        )
        return queries.maintenance_out(row, component_service.slugs_by_id(session))


@router.patch("/maintenance/{code}", response_model=MaintenanceOut)
def change_maintenance(
    body: MaintenanceChange, code: str = CodePath, ctx: Context = responder
) -> MaintenanceOut:
    with ctx.write() as session:
        row = queries.get_maintenance(session, code)
        now = ctx.now()
        service.change_maintenance(
            session,
            row,
            title=dict(body.title) if body.title is not None else None,
            body=dict(body.body) if body.body is not None else None,
            start=body.start,
            end=body.end,
            component_ids=(
                component_service.component_ids(session, body.components)
                if body.components is not None
                else None
            ),
            by=ctx.actor,
            now=now,
        )
        if body.status is not None:
            service.set_maintenance_status(session, row, body.status, by=ctx.actor, now=now)
        return queries.maintenance_out(row, component_service.slugs_by_id(session))


@router.delete("/maintenance/{code}", status_code=204)
def cancel_maintenance(code: str = CodePath, ctx: Context = responder) -> Response:
    """Cancel a window: gone from the page, its components settle back."""
    with ctx.write() as session:
        row = queries.get_maintenance(session, code)
        service.cancel_maintenance(session, row, by=ctx.actor, now=ctx.now())
    return Response(status_code=204)
