"""An incident's severity: deciding it (an explicit choice or the policy's impact matrix) and
what a move to another severity implies (update cadence, timeline, escalation policies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from haetae.comms import service as comms
from haetae.errors import HaetaeError
from haetae.escalation import service as escalation
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.policy import lookup
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline


@dataclass(frozen=True)
class Decision:
    """A severity, where it came from (explicit or matrix), and the reason kept with it."""

    severity: str
    source: str
    reason: str | None


def classify(
    policy: Policy,
    *,
    business_impact: str | None,
    user_impact: str | None,
    severity: str | None,
) -> tuple[str, str]:
    """The severity and where it came from: the explicit choice, else the impact matrix."""
    check_impacts(policy, business_impact, user_impact)
    if severity:
        found_id = lookup.resolve(
            policy.severities, severity, what="severity", code="UNKNOWN_SEVERITY", field="severity"
        )
        return found_id, "explicit"
    if business_impact and user_impact:
        found = policy.classify(business_impact, user_impact)
        if found:
            return found, "matrix"
    raise HaetaeError(
        "SEVERITY_REQUIRED",
        "Give a severity with a severity_reason, or both business_impact and user_impact.",
    )


def check_impacts(policy: Policy, business: str | None, user: str | None) -> None:
    """Each impact given is one of the policy's impact matrix levels."""
    matrix = policy.impact_matrix
    for field, value, levels in (
        ("business_impact", business, matrix.business_impact if matrix else []),
        ("user_impact", user, matrix.user_impact if matrix else []),
    ):
        if value is None:
            continue
        ids = [level.id for level in levels]
        if value not in ids:
            known = ", ".join(ids) or "(the policy has no impact matrix)"
            raise HaetaeError(
                "UNKNOWN_IMPACT",
                f"{field} '{value}' is not one of: {known}.",
                field=field,
            )


def update_interval(policy: Policy, severity: str) -> timedelta | None:
    sev = policy.severity(severity)
    return sev.update_interval.duration if sev and sev.update_interval else None


def decide(
    policy: Policy,
    incident: Incident,
    *,
    explicit: str | None,
    reason: str | None,
    use_matrix: bool,
) -> Decision:
    """The severity after an edit of the incident (its impacts already applied): an explicit
    one wins, with its reason; a matrix-derived one follows the impacts (and keeps no
    reason); otherwise it stays as it was."""
    if explicit:
        severity, source = classify(
            policy, business_impact=None, user_impact=None, severity=explicit
        )
        return Decision(severity, source, reason)
    if use_matrix or incident.severity_source == "matrix":
        if incident.business_impact and incident.user_impact:
            severity, source = classify(
                policy,
                business_impact=incident.business_impact,
                user_impact=incident.user_impact,
                severity=None,
            )
            return Decision(severity, source, None)
        if use_matrix:
            raise HaetaeError(
                "SEVERITY_REQUIRED", "The matrix needs both business_impact and user_impact."
            )
    # A matrix-derived severity whose impacts were cleared stays, as it was.
    kept_reason = None if incident.severity_source == "matrix" else incident.severity_reason
    return Decision(incident.severity, incident.severity_source, kept_reason)


def follow_move(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    old_severity: str,
    reason: str | None,
    actor: str,
    now: datetime,
) -> None:
    """What a severity move implies, the incident already carrying its new severity: a
    tighter update cadence while it is open, the timeline entry, and (for another level)
    the escalation policies of the new severity."""
    if incident.status in lifecycle.ACTIVE:
        _tighten_cadence(policy, incident, now=now)
    timeline.record(
        session,
        incident.id,
        kind="severity_changed",
        actor=actor,
        at=now,
        summary=f"Severity {old_severity} -> {incident.severity}"
        + (f": {reason}" if reason else ""),
        **{
            "from": old_severity,
            "to": incident.severity,
            "source": incident.severity_source,
            "reason": reason,
        },
    )
    if incident.severity != old_severity and incident.status in lifecycle.ACTIVE:
        escalation.reclassify(session, policy, incident, now=now)
        move = f"severity:{old_severity}->{incident.severity}@{now:%Y-%m-%dT%H:%M:%S}"
        comms.on_event(session, policy, incident, "severity_change", source=move, now=now)


def _tighten_cadence(policy: Policy, incident: Incident, *, now: datetime) -> None:
    """A severity asking for more frequent updates brings the next one forward; a looser one
    leaves the update already due where it is."""
    interval = update_interval(policy, incident.severity)
    if interval and (incident.next_update_due is None or now + interval < incident.next_update_due):
        incident.next_update_due = now + interval
