"""Drafting a post-mortem from what Haetae already knows about its incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.incidents.models import Incident, RoleAssignment
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.postmortems import deadlines
from haetae.postmortems.models import Postmortem
from haetae.postmortems.queries import IC_ROLE, last_holder
from haetae.runbooks import queries as runbooks
from haetae.timeline.models import TimelineEvent

# The timeline kinds a post-mortem's story is told with; the rest of the timeline (notes,
# notifications, reminders ...) is shown beside them, not selected.
KEY_KINDS = (
    "declared",
    "acknowledged",
    "severity_changed",
    "status_changed",
    "role_assigned",
    "role_handed_over",
    "status_update",
    "decision",
    "alerts_attached",
    "escalation_step",
    "runbook_attached",
    "runbook_accuracy",
)


def key_events(session: Session, incident_id: str) -> list[dict[str, Any]]:
    """The preselected events, in time order, as the post-mortem stores them: declared,
    acknowledged, severity and status changes (resolved among them), the IC's assignment and
    hand-overs, status updates, decisions, the first alert, and escalation steps that paged
    someone. Only these kinds are read, so a long timeline costs one narrow query."""
    rows = session.execute(
        select(
            TimelineEvent.id,
            TimelineEvent.at,
            TimelineEvent.kind,
            TimelineEvent.summary,
            TimelineEvent.data,
        )
        .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind.in_(KEY_KINDS))
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    picked: list[dict[str, Any]] = []
    first_alert = True
    for row in rows:
        data = row.data or {}
        if row.kind in ("role_assigned", "role_handed_over") and data.get("role") != IC_ROLE:
            continue
        if row.kind == "escalation_step" and not data.get("notified"):
            continue
        if row.kind == "alerts_attached":
            if not first_alert:
                continue
            first_alert = False
        picked.append(
            {"event_id": row.id, "at": row.at.isoformat(), "text": row.summary, "note": ""}
        )
    return picked


def impact_text(policy: Policy, incident: Incident) -> str:
    """The incident's impact fields as lines a reader can edit (in the policy's words)."""
    lines: list[str] = []
    impact = incident.impact or {}
    if impact.get("users") is not None:
        described = impact.get("users_description")
        lines.append(
            f"Users affected: {impact['users']}" + (f" ({described})" if described else "")
        )
    elif impact.get("users_description"):
        lines.append(f"Users affected: {impact['users_description']}")
    if impact.get("regions"):
        lines.append(f"Regions: {', '.join(impact['regions'])}")
    if impact.get("features"):
        lines.append(f"Features: {', '.join(impact['features'])}")
    matrix = policy.impact_matrix
    for label, value, levels in (
        ("Business impact", incident.business_impact, matrix.business_impact if matrix else []),
        ("User impact", incident.user_impact, matrix.user_impact if matrix else []),
    ):
        if value:
            level = next((lv for lv in levels if lv.id == value), None)
            lines.append(f"{label}: {localized(level.name, 'en') if level else value}")
    return "\n".join(lines)


def runbook_lessons(session: Session, incident_id: str) -> tuple[list[str], list[str]]:
    """What went well and what went wrong, as far as the runbooks' recorded accuracy says
    (seed 001 8.3): a runbook that worked, and one that partly worked or failed."""
    well: list[str] = []
    wrong: list[str] = []
    for attached in runbooks.incident_runbooks(session, incident_id):
        if attached.accuracy is None:
            continue
        title = localized(attached.title, "en")
        line = f"Runbook {title}: {runbooks.summary_line(attached)}"
        if attached.accuracy_note:
            line += f" ({attached.accuracy_note})"
        (well if attached.accuracy == "worked" else wrong).append(line)
    return well, wrong


def clock_start(incident: Incident, now: datetime) -> datetime:
    """Deadlines count from the resolution, or from now when the incident is not resolved yet
    (service.start_if_required moves them to the resolution when it comes)."""
    return incident.resolved_at or now


def draft(
    session: Session, policy: Policy, incident: Incident, *, by: str, now: datetime
) -> Postmortem:
    """A new post-mortem in draft, added to the session (not flushed). The author is whoever
    starts it; when the system starts it on resolve, the IC (current or last), else the
    incident's declarer."""
    author = by
    if by == "system":
        roles = list(
            session.scalars(
                select(RoleAssignment)
                .where(RoleAssignment.incident_id == incident.id)
                .order_by(RoleAssignment.assigned_at, RoleAssignment.id)
            )
        )
        author = last_holder(roles, IC_ROLE) or incident.declared_by
    summary = incident.summary or ""
    if incident.resolution_summary:
        summary = (summary + "\n\n" if summary else "") + incident.resolution_summary
    start = clock_start(incident, now)
    went_well, went_wrong = runbook_lessons(session, incident.id)
    pm = Postmortem(
        incident_id=incident.id,
        status="draft",
        title=incident.title,
        author=author,
        started_by=by,
        started_at=now,
        updated_at=now,
        clock_start=start,
        summary=summary,
        impact=impact_text(policy, incident),
        key_events=key_events(session, incident.id),
        whys=[],
        root_cause="",
        contributing_factors=[],
        went_well=went_well,
        went_wrong=went_wrong,
        lucky=[],
        lessons="",
        custom={},
        deadlines=deadlines.schedule(policy, start),
        reminded={},
    )
    session.add(pm)
    return pm
