"""The status page's component groups and components (admin's, and config as code's): create,
change, remove, looked up by slug; each change moves the page's version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.statuspage import service
from haetae.statuspage.models import (
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
)


def groups(session: Session) -> list[ComponentGroup]:
    return list(
        session.scalars(select(ComponentGroup).order_by(ComponentGroup.position, ComponentGroup.id))
    )


def components(session: Session) -> list[Component]:
    return list(session.scalars(select(Component).order_by(Component.position, Component.id)))


def find_group(session: Session, slug: str) -> ComponentGroup | None:
    return session.scalars(select(ComponentGroup).where(ComponentGroup.slug == slug)).first()


def find_component(session: Session, slug: str) -> Component | None:
    return session.scalars(select(Component).where(Component.slug == slug)).first()


def get_component(session: Session, slug: str) -> Component:
    found = find_component(session, slug)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"no component '{slug}'", field="component")
    return found


def component_ids(session: Session, slugs: list[str]) -> list[int]:
    """Ids of components named by slug (a 422 naming the unknown ones)."""
    found = dict(
        session.execute(select(Component.slug, Component.id).where(Component.slug.in_(slugs))).all()
    )
    missing = [s for s in slugs if s not in found]
    if missing:
        raise HaetaeError(
            "VALIDATION_ERROR", f"no such component: {', '.join(missing)}", field="components"
        )
    return [found[s] for s in slugs]


def slugs_by_id(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Component.id, Component.slug)).tuples().all())


def put_group(
    session: Session, *, slug: str, name: dict[str, str], position: int, now: datetime
) -> ComponentGroup:
    group = find_group(session, slug)
    if group is None:
        group = ComponentGroup(slug=slug, created_at=now, updated_at=now)
        session.add(group)
    values = {"name": service.localized_text(name, "name"), "position": position}
    if any(getattr(group, k, None) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(group, key, value)
        group.updated_at = now
        service.touch(session, now=now)
    session.flush()
    return group


def delete_group(session: Session, group: ComponentGroup, *, now: datetime) -> None:
    """Its components stay, outside any group."""
    session.execute(
        update(Component)
        .where(Component.group_id == group.id)
        .values(group_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(group)
    service.touch(session, now=now)
    session.flush()


def put_component(
    session: Session,
    *,
    slug: str,
    name: dict[str, str],
    description: dict[str, str] | None = None,
    group: str | None = None,
    services: list[str] | None = None,
    visible: bool = True,
    position: int = 0,
    by: str,
    now: datetime,
) -> Component:
    """Create or change a component; a new one starts operational (its first state row)."""
    group_id = None
    if group:
        found = find_group(session, group)
        if found is None:
            raise HaetaeError("VALIDATION_ERROR", f"no group '{group}'", field="group")
        group_id = found.id
    component = find_component(session, slug)
    created = component is None
    if component is None:
        component = Component(slug=slug, status="operational", created_at=now, updated_at=now)
        session.add(component)
    values = {
        "name": service.localized_text(name, "name"),
        "description": {k: v for k, v in (description or {}).items() if v},
        "group_id": group_id,
        "services": list(dict.fromkeys(services or [])),
        "visible": visible,
        "position": position,
    }
    if created or any(getattr(component, k, None) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(component, key, value)
        component.updated_at = now
        service.touch(session, now=now)
    session.flush()
    if created:
        session.add(
            ComponentState(component_id=component.id, status="operational", since=now, until=None)
        )
        session.flush()
    return component


def delete_component(session: Session, component: Component, *, now: datetime) -> None:
    """Gone from the page, its history, the incidents and windows that named it."""
    key = str(component.id)
    for public in session.scalars(select(PublicIncident)):
        if key in public.components:
            public.components = {k: v for k, v in public.components.items() if k != key}
    for window in session.scalars(select(Maintenance)):
        if component.id in window.component_ids:
            window.component_ids = [i for i in window.component_ids if i != component.id]
    session.delete(component)
    service.touch(session, now=now)
    session.flush()
