"""The drill rules: create (DR-NNN), start, end, kill switch. Plain functions taking a session
and `now`; the caller owns the transaction. Injection (the synthetic alerts sent through the
real ingest path) is in drills/injection.py, the scorecard in drills/scorecard.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.alerts import integrations
from haetae.alerts.models import Integration
from haetae.drills.models import Drill, DrillCounter
from haetae.drills.schemas import DrillIn, DrillOut
from haetae.errors import HaetaeError
from haetae.incidents import lifecycle, transitions
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.inputs import is_number
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration
from haetae.timeline import service as timeline

PREFIX = "DR-"
MAX_PAGE = 200
# Every cancel_on a notification can carry: the kill switch cancels them all, the resolution
# notice included (nothing about a killed drill is sent after the kill).
ALL_CANCEL_ON = ("acknowledged", "resolved", "never")


# Identifiers


def code(drill: Drill) -> str:
    return f"{PREFIX}{drill.number:03d}"


def parse_ref(ref: str | int) -> int | None:
    """DR-007, dr-7, 7 -> 7; anything else -> None."""
    text = str(ref).strip().upper().removeprefix(PREFIX)
    return int(text) if is_number(text) and len(text) < 10 else None


def next_number(session: Session) -> int:
    """One atomic upsert per drill, so concurrent creates never share a number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(DrillCounter)
        .values(id=1, last=1)
        .on_conflict_do_update(
            index_elements=[DrillCounter.id], set_={"last": DrillCounter.last + 1}
        )
        .returning(DrillCounter.last)
    )
    return int(session.execute(upsert).scalar_one())


def get_drill(session: Session, ref: str | int, *, for_update: bool = False) -> Drill:
    """The drill named DR-001 (or by its number); 404 DRILL_NOT_FOUND."""
    number = parse_ref(ref)
    drill = None
    if number is not None:
        query = select(Drill).where(Drill.number == number)
        if for_update:
            query = query.with_for_update()
        drill = session.scalars(query).first()
    if drill is None:
        raise HaetaeError("DRILL_NOT_FOUND", f"No drill {ref}.")
    return drill


def list_drills(
    session: Session, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Drill], int]:
    """Newest first, with the count of matches."""
    query = select(Drill)
    if status is not None:
        query = query.where(Drill.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Drill.number.desc())
        .limit(min(max(limit, 1), MAX_PAGE))
        .offset(max(offset, 0))
    )
    return list(rows), int(total)


def drill_out(drill: Drill) -> DrillOut:
    return DrillOut(
        id=drill.id,
        code=code(drill),
        number=drill.number,
        kind=drill.kind,
        title=drill.title,
        scenario=drill.scenario,
        severity=drill.severity,
        services=list(drill.services or []),
        status=drill.status,
        scheduled_at=drill.scheduled_at,
        started_at=drill.started_at,
        ended_at=drill.ended_at,
        ended_by=drill.ended_by,
        end_reason=drill.end_reason,
        max_duration_seconds=drill.max_duration_seconds,
        incident_id=drill.incident_id,
        integration_id=drill.integration_id,
        inject=list(drill.inject or []),
        injected_at=drill.injected_at,
        chaos=dict(drill.chaos or {}),
        targets=dict(drill.targets or {}),
        participants=list(drill.participants or []),
        created_by=drill.created_by,
        created_at=drill.created_at,
        updated_at=drill.updated_at,
    )


# Create


def default_severity(policy: Policy) -> str:
    """The policy's drills.default_severity, else its least severe level: a drill that does
    not say otherwise must not be worked as the worst kind of outage."""
    return policy.drills.default_severity or policy.severities[-1].id


def create_drill(
    session: Session, policy: Policy, data: DrillIn, *, by: str, now: datetime
) -> Drill:
    severity = data.severity or default_severity(policy)
    if policy.severity(severity) is None:
        known = ", ".join(s.id for s in policy.severities)
        raise HaetaeError(
            "UNKNOWN_SEVERITY",
            f"'{severity}' is not a severity (one of: {known}).",
            field="severity",
        )
    max_duration = parse_duration(data.max_duration or policy.drills.max_duration)
    if max_duration <= timedelta(0) or max_duration > timedelta(days=1):
        raise HaetaeError(
            "VALIDATION_ERROR", "max_duration must be above 0 and at most 1d", field="max_duration"
        )
    if data.scheduled_at is not None and data.scheduled_at < now - timedelta(minutes=1):
        raise HaetaeError("VALIDATION_ERROR", "scheduled_at is in the past", field="scheduled_at")
    defaults = policy.drills.targets
    given = data.targets
    targets = {
        row: int(
            parse_duration(getattr(given, row, None) or getattr(defaults, row)).total_seconds()
        )
        for row in ("detect", "escalate", "recover")
    }
    drill = Drill(
        number=next_number(session),
        kind=data.kind,
        title=data.title,
        scenario=data.scenario,
        severity=severity,
        services=_clean(data.services),
        status="scheduled",
        scheduled_at=data.scheduled_at,
        max_duration_seconds=int(max_duration.total_seconds()),
        inject=[
            {
                "labels": a.labels,
                "annotations": a.annotations,
                "after_seconds": a.after_seconds,
                "sent_at": None,
            }
            for a in sorted(data.inject, key=lambda a: a.after_seconds)
        ],
        chaos=data.chaos.model_dump() if data.chaos is not None else {},
        targets=targets,
        participants=_clean(data.participants),
        scorecard={},
        assessment="",
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(drill)
    session.flush()
    return drill


def _seconds(duration: str) -> int:
    return int(parse_duration(duration).total_seconds())


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


# Start


def start_drill(session: Session, policy: Policy, drill: Drill, *, by: str, now: datetime) -> Drill:
    """Running from now. A drill with synthetic alerts gets its own Alertmanager integration
    (made, or enabled again) and its incident comes from those alerts, sent by the worker's
    next pass (drills/jobs.py); a drill without them declares its incident at once."""
    if drill.status != "scheduled":
        raise HaetaeError(
            "DRILL_STATE", f"{code(drill)} is {drill.status}; only a scheduled drill starts."
        )
    drill.status = "running"
    drill.started_at = now
    drill.updated_at = now
    if drill.inject:
        _ensure_integration(session, drill, by=by, now=now)
    else:
        incident = declare_drill_incident(session, policy, drill, by=by, now=now)
        timeline.record(
            session,
            incident.id,
            kind="drill_started",
            actor=by,
            at=now,
            summary=f"Drill {code(drill)} started: {drill.title}",
            drill=code(drill),
            kind_of_drill=drill.kind,
        )
    return drill


def integration_name(drill: Drill) -> str:
    return f"drill-{code(drill).lower()}"


def _ensure_integration(session: Session, drill: Drill, *, by: str, now: datetime) -> Integration:
    existing = session.get(Integration, drill.integration_id) if drill.integration_id else None
    if existing is None:
        existing = session.scalars(
            select(Integration).where(Integration.name == integration_name(drill))
        ).first()
    if existing is None:
        # The token made here is thrown away: each injection rotates it and keeps the new one
        # only in memory for its post (drills/injection.py).
        existing, _token = integrations.create_integration(
            session, name=integration_name(drill), type="alertmanager", actor=by, now=now
        )
    integrations.set_enabled(existing, True, now=now)
    drill.integration_id = existing.id
    return existing


def declare_drill_incident(
    session: Session, policy: Policy, drill: Drill, *, by: str, now: datetime
) -> Incident:
    """The drill's incident, declared directly (tabletop, or a simulation run by hand)."""
    data = IncidentDeclare(
        title=drill.title,
        summary=drill.scenario,
        services=list(drill.services or []),
        tags=["drill", code(drill).lower()],
        severity=drill.severity,
        severity_reason=f"drill {code(drill)}",
        started_at=now,
        detected_at=now,
    )
    incident = declare_incident(session, policy, data, actor=by, now=now, drill=True)
    drill.incident_id = incident.id
    return incident


# End, kill switch


def end_drill(
    session: Session,
    policy: Policy,
    drill: Drill,
    *,
    by: str,
    now: datetime,
    reason: str = "completed",
    note: str = "",
) -> Drill:
    """End the drill and what it started: its incident resolved (canceled if nobody ever
    acknowledged it), escalation stopped, its integration disabled, pending injections
    dropped. The kill switch and max_duration also cancel every unsent notification of the
    incident, the resolution notice included. A scheduled drill that never started is
    canceled instead."""
    if drill.status not in ("scheduled", "running"):
        raise HaetaeError("DRILL_STATE", f"{code(drill)} is {drill.status}; it has already ended.")
    hard = reason in ("kill_switch", "max_duration")
    if drill.status == "scheduled":
        drill.status, drill.end_reason = "canceled", "canceled"
    else:
        drill.status, drill.end_reason = "ended", reason
    drill.ended_at = now
    drill.ended_by = by
    drill.updated_at = now
    drill.inject = [
        item if item.get("sent_at") else {**item, "dropped": True} for item in drill.inject or []
    ]
    if drill.integration_id is not None:
        integration = session.get(Integration, drill.integration_id)
        if integration is not None:
            integrations.set_enabled(integration, False, now=now)
    incident = (
        session.get(Incident, drill.incident_id, with_for_update=True)
        if drill.incident_id
        else None
    )
    if incident is None:
        return drill
    recovered = incident.mitigated_at or incident.resolved_at
    drill.scorecard = {
        **(drill.scorecard or {}),
        "recovered_at": recovered.isoformat() if recovered else None,
    }
    words = {
        "completed": "ended",
        "kill_switch": "ended by its kill switch",
        "max_duration": "ended: it ran past its maximum duration",
    }.get(reason, "ended")
    if incident.status in lifecycle.ACTIVE:
        to = "resolved" if incident.acknowledged_at is not None else "canceled"
        transitions.transition(
            session,
            policy,
            incident.id,
            to=to,
            reason=f"drill {code(drill)} {words}",
            summary=f"drill {code(drill)} {words}" if to == "resolved" else None,
            actor=by,
            now=now,
            acknowledges=False,
            forced_by=f"drill {code(drill)} ({reason})",
        )
    canceled = (
        outbox.cancel_for_incident(session, incident.id, reasons=ALL_CANCEL_ON) if hard else 0
    )
    timeline.record(
        session,
        incident.id,
        kind="drill_ended",
        actor=by,
        at=now,
        summary=f"Drill {code(drill)} {words}" + (f": {note}" if note else ""),
        drill=code(drill),
        reason=reason,
        canceled_notifications=canceled,
    )
    return drill


def overrunning(session: Session, *, now: datetime, limit: int) -> list[Drill]:
    """Running drills past their max_duration (the caller ends them)."""
    running = session.scalars(
        select(Drill).where(Drill.status == "running").order_by(Drill.started_at).limit(limit)
    )
    return [
        d
        for d in running
        if d.started_at is not None
        and now >= d.started_at + timedelta(seconds=d.max_duration_seconds)
    ]


def drill_of_incident(session: Session, incident_id: str) -> Drill | None:
    return session.scalars(select(Drill).where(Drill.incident_id == incident_id)).first()


def describe(drill: Drill) -> dict[str, Any]:
    """A short view for timelines and the console."""
    return {"code": code(drill), "title": drill.title, "kind": drill.kind, "status": drill.status}
