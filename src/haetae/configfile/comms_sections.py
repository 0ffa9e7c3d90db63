"""Config as code for issue 14's sections: the status page (`status_page:` settings, groups
and components) and the stakeholder channels (`channels:`, a URL kept as the channel's
contact method)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.comms.models import CommsChannel
from haetae.configfile.schema import ChannelSpec, PageItem
from haetae.notify import delivery
from haetae.people.models import ContactMethod
from haetae.statuspage import components as status_components
from haetae.statuspage import service as status_service


def page_item_form(item: PageItem) -> dict[str, Any]:
    spec = item.spec
    if item.kind == "settings":
        return {
            "enabled": spec.enabled,
            "title": dict(spec.title),
            "host": spec.host,
            "support_url": spec.support_url,
        }
    position = item.loc[-1]
    if item.kind == "group":
        return {"id": spec.id, "name": dict(spec.name), "position": position}
    return {
        "id": spec.id,
        "name": dict(spec.name),
        "description": dict(spec.description),
        "group": spec.group,
        "services": list(dict.fromkeys(spec.services)),
        "visible": spec.visible,
        "position": position,
    }


def write_page_item(session: Session, item: PageItem, *, actor: str, now: datetime) -> None:
    spec = item.spec
    position = int(item.loc[-1]) if item.kind != "settings" else 0
    if item.kind == "settings":
        row = status_service.settings(session, now=now)
        _set_values(
            row,
            enabled=spec.enabled,
            title=dict(spec.title),
            host=spec.host,
            support_url=spec.support_url,
        )
        status_service.touch(session, now=now)
    elif item.kind == "group":
        status_components.put_group(
            session, slug=spec.id, name=dict(spec.name), position=position, now=now
        )
    else:
        status_components.put_component(
            session,
            slug=spec.id,
            name=dict(spec.name),
            description=dict(spec.description),
            group=spec.group,
            services=list(spec.services),
            visible=spec.visible,
            position=position,
            by=actor,
            now=now,
        )
    session.flush()


def channel_methods(session: Session, channel: CommsChannel) -> list[ContactMethod]:
    return list(
        session.scalars(
            select(ContactMethod)
            .where(ContactMethod.comms_channel_id == channel.id)
            .order_by(ContactMethod.position, ContactMethod.id)
        )
    )


def write_channel(session: Session, spec: ChannelSpec, *, now: datetime) -> None:
    """The channel, and its URL as its contact method (user None, as an external
    contact's), so its messages share the outbox, throttle and retries."""
    channel = session.scalars(select(CommsChannel).where(CommsChannel.slug == spec.id)).first()
    if channel is None:
        channel = CommsChannel(slug=spec.id, created_at=now, updated_at=now)
        session.add(channel)
    values = {
        "name": spec.name,
        "purpose": spec.purpose,
        "language": spec.language,
        "members": list(spec.members),
        "enabled": spec.enabled,
    }
    if any(getattr(channel, k, None) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(channel, key, value)
        channel.updated_at = now
    session.flush()
    methods = channel_methods(session, channel)
    if spec.url is None:
        for gone in methods:
            session.delete(gone)
    elif methods:
        method, *others = methods
        method.url, method.kind, method.enabled = spec.url, delivery.check_url(spec.url), True
        for gone in others:
            session.delete(gone)
    else:
        session.add(
            ContactMethod(
                user_id=None,
                comms_channel_id=channel.id,
                name=spec.id[:100],
                kind=delivery.check_url(spec.url),
                url=spec.url,
                position=0,
                enabled=True,
                created_at=now,
            )
        )
    session.flush()


def remove_page_item(session: Session, name: str, *, now: datetime) -> None:
    kind, _, slug = name.partition(":")
    if kind == "group":
        group = status_components.find_group(session, slug)
        if group is not None:
            status_components.delete_group(session, group, now=now)
    elif kind == "component":
        component = status_components.find_component(session, slug)
        if component is not None:
            status_components.delete_component(session, component, now=now)


def remove_channel(session: Session, slug: str) -> None:
    channel = session.scalars(select(CommsChannel).where(CommsChannel.slug == slug)).first()
    if channel is not None:
        for method in channel_methods(session, channel):
            session.delete(method)
        session.delete(channel)


def _set_values(row: object, **values: object) -> None:
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
