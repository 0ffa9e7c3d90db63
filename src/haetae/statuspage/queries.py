"""The status page's admin reads, shared by the API, the CLI and the console editor: settings,
groups, components, public incidents with every update (drafts too), maintenance."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.statuspage import components as component_service
from haetae.statuspage import service
from haetae.statuspage.models import (
    Component,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)
from haetae.statuspage.schemas import (
    ComponentOut,
    GroupOut,
    MaintenanceOut,
    PublicIncidentOut,
    SettingsOut,
    UpdateOut,
)


def settings_out(session: Session) -> SettingsOut:
    # Read only: a page never set up shows the defaults its first change will store.
    row = session.scalars(select(StatusPageSettings).order_by(StatusPageSettings.id)).first()
    if row is None:
        return SettingsOut(
            enabled=True,
            title=dict(service.DEFAULT_TITLE),
            host=None,
            support_url="",
            updated_at=datetime(1970, 1, 1, tzinfo=UTC),
        )
    return SettingsOut(
        enabled=row.enabled,
        title=row.title,
        host=row.host,
        support_url=row.support_url,
        updated_at=row.updated_at,
    )


def groups_out(session: Session) -> list[GroupOut]:
    return [
        GroupOut(slug=g.slug, name=g.name, position=g.position)
        for g in component_service.groups(session)
    ]


def component_out(component: Component, group_slugs: dict[int, str]) -> ComponentOut:
    return ComponentOut(
        slug=component.slug,
        name=component.name,
        description=component.description or {},
        group=group_slugs.get(component.group_id) if component.group_id else None,
        services=list(component.services or []),
        visible=component.visible,
        position=component.position,
        status=component.status,
        updated_at=component.updated_at,
    )


def components_out(session: Session) -> list[ComponentOut]:
    group_slugs = {g.id: g.slug for g in component_service.groups(session)}
    return [component_out(c, group_slugs) for c in component_service.components(session)]


def get_public_incident(session: Session, code: str, *, for_update: bool = False) -> PublicIncident:
    query = select(PublicIncident).where(PublicIncident.code == code)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise HaetaeError("NOT_FOUND", f"no public incident '{code}'", field="code")
    return found


def get_update(session: Session, update_id: int) -> PublicUpdate:
    found = session.get(PublicUpdate, update_id)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"no public update {update_id}", field="update_id")
    return found


def get_maintenance(session: Session, code: str) -> Maintenance:
    found = session.scalars(select(Maintenance).where(Maintenance.code == code)).first()
    if found is None:
        raise HaetaeError("NOT_FOUND", f"no maintenance '{code}'", field="code")
    return found


def update_out(u: PublicUpdate) -> UpdateOut:
    return UpdateOut(
        id=u.id,
        status=u.status,
        body=u.body,
        state=u.state,
        template=u.template,
        created_by=u.created_by,
        created_at=u.created_at,
        published_by=u.published_by,
        published_at=u.published_at,
    )


def public_incidents_out(
    session: Session,
    *,
    codes: list[str] | None = None,
    open_only: bool = False,
    incident_id: str | None = None,
    limit: int = 100,
) -> list[PublicIncidentOut]:
    """Open ones first (newest first), then resolved ones, each with all its updates."""
    query = select(PublicIncident).order_by(
        case((PublicIncident.status.in_(("resolved", "postmortem")), 1), else_=0),
        PublicIncident.created_at.desc(),
        PublicIncident.id.desc(),
    )
    if codes is not None:
        query = query.where(PublicIncident.code.in_(codes))
    if open_only:
        query = query.where(PublicIncident.status.not_in(("resolved", "postmortem")))
    if incident_id is not None:
        query = query.where(PublicIncident.incident_id == incident_id)
    found = list(session.scalars(query.limit(limit)))
    updates: dict[int, list[PublicUpdate]] = defaultdict(list)
    if found:
        for u in session.scalars(
            select(PublicUpdate)
            .where(PublicUpdate.public_incident_id.in_([p.id for p in found]))
            .order_by(PublicUpdate.created_at.desc(), PublicUpdate.id.desc())
        ):
            updates[u.public_incident_id].append(u)
    slugs = component_service.slugs_by_id(session)
    return [
        PublicIncidentOut(
            code=p.code,
            incident_id=p.incident_id,
            title=p.title,
            impact=p.impact,
            status=p.status,
            components={slugs.get(int(k), k): v for k, v in p.components.items()},
            started_at=p.started_at,
            resolved_at=p.resolved_at,
            published_at=p.published_at,
            next_update_due=p.next_update_due,
            created_by=p.created_by,
            updates=[update_out(u) for u in updates[p.id]],
        )
        for p in found
    ]


def public_incident_out(session: Session, code: str) -> PublicIncidentOut:
    found = public_incidents_out(session, codes=[code])
    if not found:
        raise HaetaeError("NOT_FOUND", f"no public incident '{code}'", field="code")
    return found[0]


def maintenance_out(row: Maintenance, slugs: dict[int, str]) -> MaintenanceOut:
    return MaintenanceOut(
        code=row.code,
        title=row.title,
        body=row.body or {},
        status=row.status,
        start=row.scheduled_for,
        end=row.scheduled_until,
        components=[slugs[i] for i in row.component_ids if i in slugs],
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def maintenances_out(session: Session, *, limit: int = 200) -> list[MaintenanceOut]:
    """The windows, the next to start first; completed ones last."""
    rows = session.scalars(
        select(Maintenance)
        .order_by(
            case((Maintenance.status == "completed", 1), else_=0),
            Maintenance.scheduled_for,
            Maintenance.id,
        )
        .limit(limit)
    )
    slugs = component_service.slugs_by_id(session)
    return [maintenance_out(r, slugs) for r in rows]
