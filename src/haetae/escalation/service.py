"""Starting and stopping an incident's escalations, in the transaction of the change.

Declaring an incident starts the escalation policies its severity (or its service) names;
an acknowledgement stops the ones that page until acknowledged; resolving, closing or
canceling stops them all. Pending pages they queued are canceled in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from haetae import wakeup
from haetae.auth.models import User
from haetae.escalation import policies
from haetae.escalation.models import Escalation
from haetae.incidents.models import Incident, RoleAssignment
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline


def start(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    now: datetime,
    keep_running: bool = False,
) -> list[str]:
    """Start (or, for a reopened incident, restart) its escalation policies. With
    `keep_running` (a severity change), policies already running go on where they are,
    and ones that page until acknowledged do not start on an acknowledged incident."""
    specs, unknown = policies.policies_for(
        session, policy, severity=incident.severity, services=list(incident.services or [])
    )
    existing = {
        e.policy_slug: e
        for e in session.scalars(select(Escalation).where(Escalation.incident_id == incident.id))
    }
    started: list[str] = []
    for spec in specs:
        running = existing.get(spec.id)
        if keep_running and (
            (running is not None and running.status == "active")
            or (spec.stop_on == "acknowledged" and incident.acknowledged_at is not None)
        ):
            continue
        values = {
            "policy": spec.model_dump(mode="json"),
            "stop_on": spec.stop_on,
            "step_index": 0,
            "loop_count": 0,
            "status": "active",
            "due_at": now + spec.start_delta,
            "started_at": now,
            "updated_at": now,
            "stopped_reason": None,
        }
        row = existing.get(spec.id)
        if row is None:
            session.add(Escalation(incident_id=incident.id, policy_slug=spec.id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        started.append(spec.id)
    if started or unknown:
        summary = "Escalation: " + (", ".join(started) or "no policy")
        if unknown:
            summary += f" (unknown escalation policies skipped: {', '.join(unknown)})"
        timeline.record(
            session,
            incident.id,
            kind="escalation_started",
            actor="haetae",
            at=now,
            summary=summary,
            policies=started,
            unknown=unknown,
        )
    if started:
        session.flush()
        wakeup.request(session)
    return started


def reclassify(session: Session, policy: Policy, incident: Incident, *, now: datetime) -> None:
    """After a severity change: stop the policies the new severity does not name, start
    the ones it names that are not running."""
    specs, _ = policies.policies_for(
        session, policy, severity=incident.severity, services=list(incident.services or [])
    )
    wanted = [spec.id for spec in specs]
    dropped = session.execute(
        update(Escalation)
        .where(
            Escalation.incident_id == incident.id,
            Escalation.status == "active",
            Escalation.policy_slug.not_in(wanted),
        )
        .values(status="stopped", stopped_reason="severity changed", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], dropped).rowcount:
        timeline.record(
            session,
            incident.id,
            kind="escalation_stopped",
            actor="haetae",
            at=now,
            summary=f"Escalation policies not used by {incident.severity} stopped",
            reason="severity changed",
        )
    start(session, policy, incident, now=now, keep_running=True)


def stop(session: Session, incident_id: str, *, reason: str, actor: str, now: datetime) -> int:
    """Stop what `reason` ends: "acknowledged" stops the policies that page until an ack;
    "resolved" (also closed and canceled) stops them all and sends the resolution notice."""
    reasons = ("acknowledged",) if reason == "acknowledged" else ("acknowledged", "resolved")
    # The escalation rows first: on PostgreSQL this waits for a step running right now,
    # and the notification update below then sees the pages that step queued.
    result = session.execute(
        update(Escalation)
        .where(
            Escalation.incident_id == incident_id,
            Escalation.status == "active",
            Escalation.stop_on.in_(reasons),
        )
        .values(status="stopped", stopped_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    stopped = cast(CursorResult[Any], result).rowcount
    canceled = outbox.cancel_for_incident(session, incident_id, reasons=reasons)
    if stopped or canceled:
        timeline.record(
            session,
            incident_id,
            kind="escalation_stopped",
            actor=actor,
            at=now,
            summary=f"Escalation stopped ({reason}): {stopped} policies, "
            f"{canceled} pending notifications canceled",
            reason=reason,
            policies=stopped,
            canceled=canceled,
        )
    if reason == "resolved":
        for user_id in disbanded(session, incident_id):
            outbox.notify_user(
                session,
                user_id,
                kind="resolved",
                idem_key=f"resolved:{incident_id}:{now.timestamp():.0f}:u{user_id}",
                incident_id=incident_id,
                now=now,
                first_method_only=True,
            )
        wakeup.request(session)
    return stopped


def disbanded(session: Session, incident_id: str) -> list[int]:
    """Who is told the incident is resolved (seed 000's "팀 해산"): everyone a page or an
    escalation about it reached, and everyone holding one of its roles, once each."""
    holders = session.scalars(
        select(User.id)
        .join(RoleAssignment, RoleAssignment.assignee == User.username)
        .where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.ended_at.is_(None),
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    return list(dict.fromkeys([*outbox.paged_users(session, incident_id), *holders]))
