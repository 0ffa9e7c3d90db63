"""The change feed's rules: recording a posted change once, linking changes to incidents as a
suspected or confirmed cause, and the incident's affected version."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haetae.changes.models import Change, IncidentChange
from haetae.changes.queries import get_change
from haetae.changes.schemas import FUTURE_SLACK_SECONDS, ChangeIn
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentPatch
from haetae.people.models import Service
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline


def is_known_service(session: Session, slug: str) -> bool:
    return session.scalar(select(Service.id).where(Service.slug == slug)) is not None


def _existing(session: Session, integration_id: int | None, external_id: str) -> Change | None:
    query = select(Change).where(Change.external_id == external_id)
    query = query.where(
        Change.integration_id.is_(None)
        if integration_id is None
        else Change.integration_id == integration_id
    )
    return session.scalars(query).first()


def record_change(
    session: Session,
    data: ChangeIn,
    *,
    integration_id: int | None,
    author: str,
    now: datetime,
) -> tuple[Change, bool]:
    """The change, and whether it was new. The sender's id makes a retry answer the change it
    already recorded: per integration, or among people's posts (integration None)."""
    if data.id is not None:
        found = _existing(session, integration_id, data.id)
        if found is not None:
            return found, False
    at = data.at or now
    if at > now + timedelta(seconds=FUTURE_SLACK_SECONDS):
        raise HaetaeError(
            "VALIDATION_ERROR",
            "at: must not be more than 5 minutes in the future",
            fields=[{"field": "at", "message": "must not be more than 5 minutes in the future"}],
        )
    change = Change(
        integration_id=integration_id,
        external_id=data.id,
        service=data.service,
        kind=data.kind,
        summary=data.summary,
        version=data.version,
        author=data.author or author,
        happened_at=at,
        link=data.link,
        rollback=data.rollback,
        environment=data.environment,
        created_at=now,
    )
    if data.id is None or integration_id is None:
        session.add(change)
        session.flush()
        return change, True
    # Two retries racing: the unique (integration, id) lets one insert; the other answers the
    # winner's change instead of a 500.
    try:
        with session.begin_nested():
            session.add(change)
    except IntegrityError:
        found = _existing(session, integration_id, data.id)
        if found is None:
            raise
        return found, False
    return change, True


def _link_data(change: Change) -> dict[str, object]:
    """What the timeline keeps of the change, so the entry reads alone even if it is deleted."""
    return {
        "change_id": change.id,
        "service": change.service,
        "change_kind": change.kind,
        "version": change.version,
        "change_summary": change.summary,
        "link": change.link,
    }


def link(
    session: Session,
    incident_id: str,
    change_id: int,
    *,
    verdict: str,
    note: str,
    by: str,
    now: datetime,
) -> IncidentChange:
    """Name the change as a suspected or confirmed cause; linking again updates the verdict and
    note (suspected -> confirmed as the diagnosis firms up)."""
    incident = incidents.get_incident(session, incident_id, for_update=True)
    incidents.require_open(incident)
    change = get_change(session, change_id)
    row = session.get(IncidentChange, (incident.id, change.id))
    if row is not None and row.verdict == verdict and row.note == note:
        return row
    if row is None:
        row = IncidentChange(incident_id=incident.id, change_id=change.id)
        session.add(row)
    previous = row.verdict if row.linked_at is not None else None
    row.verdict, row.note, row.linked_by, row.linked_at = verdict, note, by, now
    incident.updated_at = now
    timeline.record(
        session,
        incident.id,
        kind="change_linked",
        actor=by,
        at=now,
        summary=f"Change {change.id} ({change.service} {change.version}) linked as {verdict}",
        verdict=verdict,
        previous=previous,
        note=note,
        **_link_data(change),
    )
    return row


def unlink(session: Session, incident_id: str, change_id: int, *, by: str, now: datetime) -> None:
    incident = incidents.get_incident(session, incident_id, for_update=True)
    incidents.require_open(incident)
    row = session.get(IncidentChange, (incident.id, change_id))
    if row is None:
        raise HaetaeError("NOT_FOUND", f"Change {change_id} is not linked to {incident.id}.")
    change = get_change(session, change_id)
    session.delete(row)
    incident.updated_at = now
    timeline.record(
        session,
        incident.id,
        kind="change_unlinked",
        actor=by,
        at=now,
        summary=f"Change {change.id} ({change.service} {change.version}) unlinked",
        verdict=row.verdict,
        **_link_data(change),
    )


def set_affected_version(
    session: Session,
    policy: Policy,
    incident_id: str,
    version: str | None,
    *,
    actor: str,
    now: datetime,
) -> Incident:
    """The incident's affected version (None or blank clears it), through the incident's patch
    so the timeline records it as any other field change."""
    return incidents.patch_incident(
        session,
        policy,
        incident_id,
        IncidentPatch(affected_version=(version or "").strip() or None),
        actor=actor,
        now=now,
    )
