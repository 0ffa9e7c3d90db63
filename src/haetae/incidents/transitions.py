"""Moving an incident through its lifecycle, and acknowledging it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from haetae.comms import service as comms
from haetae.errors import HaetaeError
from haetae.escalation import service as escalation
from haetae.incidents import lifecycle, resolution, service
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.postmortems import service as postmortems
from haetae.timeline import service as timeline


def acknowledge(session: Session, incident_id: str, *, by: str, now: datetime) -> Incident:
    incident = service.get_incident(session, incident_id, for_update=True)
    if incident.acknowledged_at is None and incident.status in lifecycle.ACTIVE:
        incident.acknowledged_at = now
        incident.updated_at = now
        timeline.record(
            session,
            incident.id,
            kind="acknowledged",
            actor=by,
            at=now,
            summary=f"Acknowledged by {by}",
        )
        escalation.stop(session, incident.id, reason="acknowledged", actor=by, now=now)
    return incident


def transition(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    to: str,
    reason: str | None,
    actor: str,
    now: datetime,
    override_conditions: bool = False,
    acknowledges: bool = True,
    summary: str | None = None,
    forced_by: str | None = None,
) -> Incident:
    """Move the incident. Leaving triage acknowledges it, unless `acknowledges` is False
    (an automatic move, such as an integration's alerts resolving, is nobody's ack).
    `summary` says how it was resolved; the faces require it (TransitionIn), an automatic
    move may have none."""
    incident = service.get_incident(session, incident_id, for_update=True)
    current = incident.status
    _check_allowed(incident, to)
    if to == "resolved" and forced_by is not None:
        # Haetae itself ends it (a drill's kill switch, `forced_by` says which): no
        # condition gates a safety switch; what was unmet is kept on the timeline.
        missing = [c.id for c in resolution.unmet(session, policy, incident)]
        if missing:
            timeline.record(
                session,
                incident.id,
                kind="resolution_override",
                actor=actor,
                at=now,
                summary=f"Resolved with unmet conditions by {forced_by}",
                unmet=missing,
                reason=forced_by,
            )
    elif to == "resolved":
        resolution.gate(
            session,
            policy,
            incident,
            override=override_conditions,
            actor=actor,
            reason=reason,
            now=now,
        )
    acknowledged_before = incident.acknowledged_at is not None
    _apply_status(policy, incident, to, now, acknowledges=acknowledges)
    _keep_resolution_summary(incident, current, to, summary)
    timeline.record(
        session,
        incident.id,
        kind="status_changed",
        actor=actor,
        at=now,
        summary=f"{current} -> {to}" + (f": {reason}" if reason else ""),
        **{"from": current, "to": to, "reason": reason},
        **({"resolution_summary": summary} if to == "resolved" and summary else {}),
    )
    _paging_follows(
        session,
        policy,
        incident,
        current=current,
        to=to,
        acknowledged_before=acknowledged_before,
        actor=actor,
        now=now,
    )
    if to == "resolved":
        postmortems.start_if_required(session, policy, incident, now=now)
        resolved = f"resolved@{now:%Y-%m-%dT%H:%M:%S}"
        comms.on_event(session, policy, incident, "resolution", source=resolved, now=now)
    return incident


def _check_allowed(incident: Incident, to: str) -> None:
    """The lifecycle allows the move from where the incident is."""
    current = incident.status
    if not lifecycle.can_move(current, to):
        allowed = sorted(lifecycle.ALLOWED.get(current, ()))
        raise HaetaeError(
            "INVALID_TRANSITION",
            f"{incident.id} is {current}; it can move to: {', '.join(allowed) or 'nothing'}.",
            current=current,
            to=to,
            allowed=allowed,
        )


def _keep_resolution_summary(
    incident: Incident, current: str, to: str, summary: str | None
) -> None:
    """How it was resolved is kept while it stays resolved (and once it is closed)."""
    if to == "resolved":
        incident.resolution_summary = summary
    elif current == "resolved" and to != "closed":  # reopened: it is not resolved any more
        incident.resolution_summary = None


def _paging_follows(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    current: str,
    to: str,
    acknowledged_before: bool,
    actor: str,
    now: datetime,
) -> None:
    """What the move means for escalation: ending it stops paging, reopening pages again
    from the top, and the move that acknowledged it stops paging as an ack does."""
    if to in ("resolved", "closed", "canceled"):
        if current not in ("resolved", "closed", "canceled"):
            escalation.stop(session, incident.id, reason="resolved", actor=actor, now=now)
    elif current == "resolved":  # reopened: page again from the top
        escalation.start(session, policy, incident, now=now)
    elif incident.acknowledged_at is not None and not acknowledged_before:
        escalation.stop(session, incident.id, reason="acknowledged", actor=actor, now=now)


def _apply_status(
    policy: Policy, incident: Incident, to: str, now: datetime, *, acknowledges: bool = True
) -> None:
    if (
        acknowledges
        and incident.status == "triage"
        and incident.acknowledged_at is None
        and to != "canceled"
    ):
        incident.acknowledged_at = now
    if to in ("monitoring", "resolved") and incident.mitigated_at is None:
        incident.mitigated_at = now
    if to == "resolved":
        incident.resolved_at = now
        incident.next_update_due = None
    elif to == "closed":
        incident.closed_at = now
        incident.next_update_due = None
    elif to == "canceled":
        incident.canceled_at = now
        incident.next_update_due = None
    elif incident.status == "resolved":  # reopened
        incident.resolved_at = None
        incident.next_update_due = service.cadence_due(policy, incident, now)
    incident.status = to
    incident.updated_at = now
