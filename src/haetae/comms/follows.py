"""Following an incident or a service: a follower gets its update and resolution messages
(comms.service reads the follows when it fans a message out)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.comms.models import Follow
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.people.models import Service


def user_named(session: Session, username: str) -> User:
    """The caller's account: following needs one (the bootstrap key has none)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise HaetaeError("UNKNOWN_USER", f"'{username}' has no user account to follow with.")
    return user


def _target(
    session: Session, incident_id: str | None, service: str | None
) -> tuple[str | None, str | None]:
    if (incident_id is None) == (service is None):
        raise HaetaeError("VALIDATION_ERROR", "Follow either an incident or a service.")
    if incident_id is not None:
        if session.get(Incident, incident_id) is None:
            raise HaetaeError("NOT_FOUND", f"No incident {incident_id}.")
        return incident_id, None
    assert service is not None
    if session.scalar(select(Service.id).where(Service.slug == service)) is None:
        raise HaetaeError("NOT_FOUND", f"No service '{service}'.")
    return None, service


def follow(
    session: Session,
    user: User,
    *,
    now: datetime,
    incident_id: str | None = None,
    service: str | None = None,
) -> Follow:
    """Follow (again: nothing changes)."""
    incident_id, service = _target(session, incident_id, service)
    existing = session.scalar(
        select(Follow).where(
            Follow.user_id == user.id,
            Follow.incident_id.is_(None)
            if incident_id is None
            else Follow.incident_id == incident_id,
            Follow.service.is_(None) if service is None else Follow.service == service,
        )
    )
    if existing is not None:
        return existing
    row = Follow(user_id=user.id, incident_id=incident_id, service=service, created_at=now)
    session.add(row)
    session.flush()
    return row


def unfollow(
    session: Session, user: User, *, incident_id: str | None = None, service: str | None = None
) -> bool:
    """Stop following; False if the user was not following it."""
    incident_id, service = _target(session, incident_id, service)
    statement = delete(Follow).where(
        Follow.user_id == user.id,
        Follow.incident_id.is_(None) if incident_id is None else Follow.incident_id == incident_id,
        Follow.service.is_(None) if service is None else Follow.service == service,
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def follows_of(session: Session, user_id: int) -> list[Follow]:
    query = select(Follow).where(Follow.user_id == user_id).order_by(Follow.created_at, Follow.id)
    return list(session.scalars(query))


def is_following(session: Session, user_id: int, incident: Incident) -> bool:
    query = select(Follow.id).where(
        Follow.user_id == user_id,
        (Follow.incident_id == incident.id) | Follow.service.in_(incident.services or []),
    )
    return session.scalar(query.limit(1)) is not None
