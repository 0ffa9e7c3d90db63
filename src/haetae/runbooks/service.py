"""Runbooks on an incident: attach (a snapshot of the file as it was), detach, tick steps, queue
a step's check and record whether the runbook worked; every change goes on the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.diagnostics import service as diagnostics
from haetae.diagnostics.models import DiagnosticRun
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.runbooks.library import Loaded
from haetae.runbooks.models import (
    RUNBOOK_ACCURACY,
    RUNBOOK_STEP_STATUSES,
    IncidentRunbook,
    RunbookStep,
)
from haetae.timeline import service as timeline

CLOSED = ("closed", "canceled")


def _open(incident: Incident) -> None:
    if incident.status in CLOSED:
        raise HaetaeError(
            "INCIDENT_NOT_OPEN",
            f"Incident {incident.id} is {incident.status}.",
            status=incident.status,
        )


def _title(snapshot: dict[str, Any]) -> str:
    # The timeline's summary is English (exports and old clients read it); the page words its
    # entries from the data in the reader's language.
    return localized(snapshot.get("title") or snapshot.get("id", ""), "en")


def attached(session: Session, incident_id: str, runbook_id: str) -> IncidentRunbook:
    found = session.scalars(
        select(IncidentRunbook).where(
            IncidentRunbook.incident_id == incident_id, IncidentRunbook.runbook_id == runbook_id
        )
    ).first()
    if found is None:
        raise HaetaeError(
            "RUNBOOK_NOT_FOUND", f"Runbook {runbook_id} is not attached to incident {incident_id}."
        )
    return found


def attach(
    session: Session,
    policy: Policy,
    incident: Incident,
    loaded: Loaded,
    *,
    how: str,
    reasons: list[str],
    by: str,
    now: datetime,
) -> IncidentRunbook:
    """Attach a library runbook as it is now (`how`: auto when matched, manual by a person).
    Editing the file later never rewrites what the incident shows."""
    _open(incident)
    runbook = loaded.runbook
    exists = session.scalars(
        select(IncidentRunbook.id).where(
            IncidentRunbook.incident_id == incident.id, IncidentRunbook.runbook_id == runbook.id
        )
    ).first()
    if exists is not None:
        raise HaetaeError(
            "RUNBOOK_ALREADY_ATTACHED",
            f"Runbook {runbook.id} is already attached to incident {incident.id}.",
        )
    snapshot = runbook.model_dump(mode="json")
    row = IncidentRunbook(
        incident_id=incident.id,
        runbook_id=runbook.id,
        snapshot=snapshot,
        digest=loaded.digest,
        how=how,
        matched_by=list(reasons),
        attached_by=by,
        attached_at=now,
        accuracy_note="",
    )
    session.add(row)
    session.flush()
    how_said = f"matched by {', '.join(reasons)}" if reasons else how
    timeline.record(
        session,
        incident.id,
        kind="runbook_attached",
        actor=by,
        at=now,
        summary=f"Runbook attached: {_title(snapshot)} ({how_said})",
        runbook_id=runbook.id,
        title=snapshot.get("title"),
        how=how,
        reasons=list(reasons),
        steps=len(runbook.steps) + len(runbook.verify),
    )
    return row


def detach(
    session: Session, incident: Incident, runbook_id: str, *, by: str, now: datetime
) -> None:
    _open(incident)
    row = attached(session, incident.id, runbook_id)
    title = row.snapshot.get("title")
    session.delete(row)
    timeline.record(
        session,
        incident.id,
        kind="runbook_detached",
        actor=by,
        at=now,
        summary=f"Runbook detached: {_title(row.snapshot)}",
        runbook_id=runbook_id,
        title=title,
    )


def step_of(row: IncidentRunbook, step_id: str) -> dict[str, Any]:
    """The step as attached (steps and verification steps share ids)."""
    for step in [*row.snapshot.get("steps", []), *row.snapshot.get("verify", [])]:
        if step.get("id") == step_id:
            return dict(step)
    raise HaetaeError(
        "RUNBOOK_STEP_NOT_FOUND", f"Runbook {row.runbook_id} has no step {step_id}.", step=step_id
    )


def _located(
    session: Session, incident_id: str, runbook_id: str
) -> tuple[Incident, IncidentRunbook]:
    return incidents.get_incident(session, incident_id), attached(session, incident_id, runbook_id)


def set_step(
    session: Session,
    incident_id: str,
    runbook_id: str,
    step_id: str,
    *,
    status: str,
    note: str = "",
    by: str,
    now: datetime,
) -> RunbookStep | None:
    """Mark a step done, skipped or pending again (who, when, a note). None when it is
    pending and never was ticked."""
    incident, row = _located(session, incident_id, runbook_id)
    _open(incident)
    if status not in RUNBOOK_STEP_STATUSES:
        raise HaetaeError("VALIDATION_ERROR", f"A step is {', '.join(RUNBOOK_STEP_STATUSES)}.")
    step = step_of(row, step_id)
    progress = session.scalars(
        select(RunbookStep).where(
            RunbookStep.incident_runbook_id == row.id, RunbookStep.step_id == step_id
        )
    ).first()
    before = progress.status if progress is not None else "pending"
    if progress is None:
        progress = RunbookStep(incident_runbook_id=row.id, step_id=step_id)
        session.add(progress)
    progress.status, progress.by, progress.at, progress.note = status, by, now, note
    session.flush()
    said = f" — {note}" if note else ""
    timeline.record(
        session,
        incident.id,
        kind="runbook_step",
        actor=by,
        at=now,
        summary=(
            f"Runbook {_title(row.snapshot)}: step '{localized(step.get('title', step_id), 'en')}' "
            f"{status}{said}"
        ),
        runbook_id=row.runbook_id,
        runbook_title=row.snapshot.get("title"),
        step_id=step_id,
        step_title=step.get("title"),
        status=status,
        previous=before,
        note=note,
    )
    return progress


def set_accuracy(
    session: Session,
    incident_id: str,
    runbook_id: str,
    *,
    accuracy: str,
    note: str = "",
    by: str,
    now: datetime,
) -> IncidentRunbook:
    """Did the runbook's steps work (seed 001 8.3)? Recorded after the fact too, for the
    post-mortem and the drill scorecard, so a closed incident accepts it."""
    if accuracy not in RUNBOOK_ACCURACY:
        raise HaetaeError("VALIDATION_ERROR", f"Accuracy is {', '.join(RUNBOOK_ACCURACY)}.")
    incident, row = _located(session, incident_id, runbook_id)
    row.accuracy, row.accuracy_note, row.accuracy_by, row.accuracy_at = accuracy, note, by, now
    said = f" — {note}" if note else ""
    timeline.record(
        session,
        incident.id,
        kind="runbook_accuracy",
        actor=by,
        at=now,
        summary=f"Runbook {_title(row.snapshot)}: {accuracy}{said}",
        runbook_id=row.runbook_id,
        runbook_title=row.snapshot.get("title"),
        accuracy=accuracy,
        note=note,
    )
    return row


def run_step_check(
    session: Session,
    incident_id: str,
    runbook_id: str,
    step_id: str,
    *,
    by: str,
    now: datetime,
) -> DiagnosticRun:
    """Queue the step's check (a configured check's id, or a spec of its own); the
    diagnostics' worker job runs it and puts the result on the timeline."""
    incident, row = _located(session, incident_id, runbook_id)
    _open(incident)
    step = step_of(row, step_id)
    check = step.get("check")
    if not check:
        raise HaetaeError(
            "RUNBOOK_STEP_HAS_NO_CHECK", f"Step {step_id} of {row.runbook_id} has no check."
        )
    common: dict[str, Any] = {
        "incident_id": incident.id,
        "reason": "runbook_step",
        "incident_runbook_id": row.id,
        "step_id": step_id,
        "by": by,
        "now": now,
    }
    if isinstance(check, str):
        configured = diagnostics.find_check(session, check)
        if configured is None:
            raise HaetaeError(
                "CHECK_NOT_FOUND", f"No configured check has the id '{check}'.", check=check
            )
        return diagnostics.request_run(session, check=configured, **common)
    spec = diagnostics.parse_spec(check)
    name = f"{localized(step.get('title', step_id), 'en')}"[:200]
    return diagnostics.request_run(session, spec=spec, name=name, **common)
