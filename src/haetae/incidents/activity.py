"""What responders add to an incident: status updates, notes, evidence and decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.comms import service as comms
from haetae.errors import HaetaeError
from haetae.incidents import lifecycle, service
from haetae.incidents.models import Decision, Note, StatusUpdate
from haetae.incidents.schemas import DecisionIn, NoteIn, StatusUpdateIn
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline


def post_update(
    session: Session,
    policy: Policy,
    incident_id: str,
    data: StatusUpdateIn,
    *,
    author: str,
    now: datetime,
) -> StatusUpdate:
    incident = service.get_incident(session, incident_id, for_update=True)
    service.require_open(incident)
    if data.next_update_at is not None and data.next_update_at <= now:
        raise HaetaeError(
            "VALIDATION_ERROR", "next_update_at must be in the future.", field="next_update_at"
        )
    next_steps, fields = _report_fields(policy, incident.severity, data)
    cadence = service.cadence_due(policy, incident, now)
    next_at = data.next_update_at or cadence
    if cadence and next_at and next_at > cadence:
        # The policy's cadence is a promise to stakeholders: an update cannot push it out.
        next_at = cadence
    update = StatusUpdate(
        incident_id=incident_id,
        situation=data.situation,
        impact=data.impact,
        progress=data.progress,
        eta=data.eta,
        next_steps=next_steps,
        fields=fields,
        next_update_at=next_at,
        author=author,
        created_at=now,
    )
    session.add(update)
    if incident.status in lifecycle.ACTIVE:
        incident.next_update_due = next_at
    incident.updated_at = now
    session.flush()
    timeline.record(
        session,
        incident_id,
        kind="status_update",
        actor=author,
        at=now,
        summary=data.situation[:200],
        update_id=update.id,
        situation=data.situation,
        impact=data.impact,
        progress=data.progress,
        eta=data.eta,
        next_steps=next_steps,
        fields=fields,
        next_update_at=next_at.isoformat() if next_at else None,
    )
    comms.on_event(session, policy, incident, "update", source=f"update:{update.id}", now=now)
    return update


def _report_fields(
    policy: Policy, severity: str, data: StatusUpdateIn
) -> tuple[str, dict[str, str]]:
    """Next steps and the extra fields, blanks dropped; the severity's required ones
    (communications.required_fields: seeds 002 and 004) must be there."""
    fields: dict[str, str] = {k: v.strip() for k, v in data.fields.items() if v.strip()}
    next_steps = data.next_steps.strip() or fields.pop("next_steps", "")
    fields.pop("next_steps", None)
    given = {*fields, *(["next_steps"] if next_steps else [])}
    missing = [f for f in policy.communications.required_fields.get(severity, []) if f not in given]
    if missing:
        raise HaetaeError(
            "UPDATE_FIELDS_REQUIRED",
            f"A {severity} status update needs: {', '.join(missing)}.",
            fields=missing,
        )
    return next_steps, fields


def add_note(
    session: Session, incident_id: str, data: NoteIn, *, author: str, now: datetime
) -> Note:
    incident = service.get_incident(session, incident_id)
    note = Note(
        incident_id=incident.id,
        kind=data.kind,
        body=data.body,
        url=str(data.url) if data.url else None,
        author=author,
        created_at=now,
    )
    session.add(note)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind=data.kind,
        actor=author,
        at=now,
        summary=(data.body or note.url or "")[:200],
        note_id=note.id,
        body=data.body,
        url=note.url,
    )
    return note


def record_decision(
    session: Session, incident_id: str, data: DecisionIn, *, by: str, now: datetime
) -> Decision:
    incident = service.get_incident(session, incident_id)
    decision = Decision(
        incident_id=incident.id,
        kind=data.kind,
        decision=data.decision,
        alternatives=service.clean_list(data.alternatives),
        reason=data.reason,
        decided_by=by,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind="decision",
        actor=by,
        at=now,
        summary=f"[{data.kind}] {data.decision[:200]}",
        decision_id=decision.id,
        decision_kind=data.kind,
        decision=data.decision,
        alternatives=decision.alternatives,
        reason=data.reason,
    )
    return decision


def list_updates(session: Session, incident_id: str) -> list[StatusUpdate]:
    return list(
        session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.incident_id == incident_id)
            .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())
        )
    )


def list_notes(session: Session, incident_id: str) -> list[Note]:
    return list(
        session.scalars(
            select(Note).where(Note.incident_id == incident_id).order_by(Note.created_at, Note.id)
        )
    )


def list_decisions(session: Session, incident_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.incident_id == incident_id)
            .order_by(Decision.created_at, Decision.id)
        )
    )
