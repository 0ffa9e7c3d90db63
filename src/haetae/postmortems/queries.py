"""Reading post-mortems: the one view (stored fields plus what is read live from the incident)
and the list, behind the API, the CLI, the exports and the console."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.service import code
from haetae.alerts.models import Alert
from haetae.errors import HaetaeError
from haetae.incidents.durations import durations
from haetae.incidents.models import Decision, Incident, RoleAssignment, StatusUpdate
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.postmortems import deadlines as deadline_rules
from haetae.postmortems.models import Postmortem, PostmortemReview
from haetae.postmortems.sections import SectionView, policy_sections
from haetae.timeline.models import TimelineEvent

IC_ROLE = "ic"
STATUSES = ("draft", "in_review", "published")
MAX_PAGE = 200


@dataclass(frozen=True)
class BasicInfo:
    """Seed 001 6.1. `recovered` is the incident's resolved_at (not mitigated_at: service was
    back for users only once it was resolved), and `total_outage_minutes` is recovered -
    occurred (started_at)."""

    incident_id: str
    title: str
    occurred: datetime
    detected_at: datetime
    recovered: datetime | None
    total_outage_minutes: float | None
    severity: str
    severity_name: str
    impact: dict[str, Any]  # the incident's own impact fields
    impact_text: str  # the post-mortem's impact, as people wrote it
    ic: str | None  # the current or last holder of the `ic` role
    author: str
    date: date  # started_at's day in the policy's zone
    status: str  # the incident's status


@dataclass(frozen=True)
class TimelineEntry:
    event_id: int
    at: datetime
    kind: str
    actor: str
    summary: str
    selected: bool  # one of the post-mortem's key events


@dataclass(frozen=True)
class KeyEvent:
    event_id: int | None  # None: a row people wrote, not from the timeline
    at: datetime
    text: str
    note: str


@dataclass(frozen=True)
class AlertRow:
    id: int
    name: str
    fingerprint: str
    first_seen: datetime
    last_seen: datetime
    status: str
    service: str | None


@dataclass(frozen=True)
class RoleRow:
    role: str
    role_name: str
    assignee: str
    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class DecisionRow:
    at: datetime
    kind: str
    decision: str
    alternatives: list[str]
    reason: str
    decided_by: str


@dataclass(frozen=True)
class UpdateRow:
    at: datetime
    situation: str
    impact: str
    progress: str
    eta: str | None
    author: str


@dataclass(frozen=True)
class DurationsView:
    """Minutes, one decimal; None for what has not happened."""

    time_to_detect: float | None
    time_to_acknowledge: float | None
    time_to_mitigate: float | None
    time_to_resolve: float | None
    minutes_past_target: int | None
    recovery_due: datetime | None


@dataclass(frozen=True)
class MeasureRow:
    code: str
    title: str
    description: str
    owner: str | None
    due_date: date | None
    priority: str
    term: str | None
    class_of_service: str
    column: str
    tracker_url: str | None


@dataclass(frozen=True)
class ReviewRow:
    reviewer: str
    requested_by: str
    requested_at: datetime
    verdict: str | None
    comment: str
    decided_at: datetime | None


@dataclass(frozen=True)
class DeadlineRow:
    id: str
    name: str
    due: datetime
    met_at: datetime | None
    state: str  # met | overdue | due_soon | pending


@dataclass(frozen=True)
class PostmortemView:
    incident_id: str
    status: str
    title: str
    author: str
    started_by: str
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    published_by: str | None
    meeting_at: datetime | None
    meeting_held_at: datetime | None
    basic: BasicInfo
    incident_summary: str
    resolution_summary: str | None
    summary: str
    impact: str
    key_events: list[KeyEvent]
    timeline: list[TimelineEntry]
    alerts: list[AlertRow]
    roles: list[RoleRow]
    decisions: list[DecisionRow]
    updates: list[UpdateRow]
    durations: DurationsView
    whys: list[str]
    root_cause: str
    contributing_factors: list[str]
    went_well: list[str]
    went_wrong: list[str]
    lucky: list[str]
    lessons: str
    custom: dict[str, str]
    measures: list[MeasureRow]
    reviews: list[ReviewRow]
    approvals: int
    approvals_required: int
    deadlines: list[DeadlineRow]
    sections: list[SectionView]


@dataclass(frozen=True)
class PostmortemSummary:
    incident_id: str
    title: str
    status: str
    author: str
    severity: str
    updated_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class PostmortemPage:
    items: list[PostmortemSummary]
    next_cursor: str | None


def find(session: Session, incident_id: str, *, for_update: bool = False) -> Postmortem | None:
    query = select(Postmortem).where(Postmortem.incident_id == incident_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def get_postmortem(session: Session, incident_id: str, *, for_update: bool = False) -> Postmortem:
    found = find(session, incident_id, for_update=for_update)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"{incident_id} has no post-mortem.")
    return found


def met_events(pm: Postmortem) -> dict[str, datetime | None]:
    """When each deadline's done_when event happened."""
    return {
        "submitted": pm.submitted_at,
        "meeting_held": pm.meeting_held_at,
        "published": pm.published_at,
    }


def last_holder(roles: list[RoleAssignment], role: str) -> str | None:
    """The current holder of `role`, else the last one (roles come ordered by assigned_at)."""
    held = [r for r in roles if r.role == role]
    current = [r for r in held if r.ended_at is None]
    if current:
        return current[-1].assignee
    return held[-1].assignee if held else None


def view(
    session: Session, policy: Policy, incident_id: str, *, now: datetime, locale: str = "en"
) -> PostmortemView:
    """The post-mortem as shown: what people wrote, and the incident's facts read live so that
    they stay true (a role handed over or a time corrected after the draft shows as it is)."""
    pm = get_postmortem(session, incident_id)
    incident = session.get(Incident, incident_id)
    assert incident is not None  # the foreign key cascades
    return build_view(session, policy, pm, incident, now=now, locale=locale)


def build_view(
    session: Session,
    policy: Policy,
    pm: Postmortem,
    incident: Incident,
    *,
    now: datetime,
    locale: str = "en",
) -> PostmortemView:
    iid = incident.id
    roles = list(
        session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.incident_id == iid)
            .order_by(RoleAssignment.assigned_at, RoleAssignment.id)
        )
    )
    measured = durations(policy, incident)
    minutes = measured.minutes()
    sev = policy.severity(incident.severity)
    selected = {e["event_id"] for e in pm.key_events if e.get("event_id") is not None}
    # Columns, not ORM objects: 2,000 timeline rows load several times faster this way.
    rows = session.execute(
        select(
            TimelineEvent.id,
            TimelineEvent.at,
            TimelineEvent.kind,
            TimelineEvent.actor,
            TimelineEvent.summary,
        )
        .where(TimelineEvent.incident_id == iid)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    timeline = [
        TimelineEntry(
            event_id=r.id,
            at=r.at,
            kind=r.kind,
            actor=r.actor,
            summary=r.summary,
            selected=r.id in selected,
        )
        for r in rows
    ]
    reviews = list(
        session.scalars(
            select(PostmortemReview)
            .where(PostmortemReview.postmortem_id == pm.id)
            .order_by(PostmortemReview.requested_at, PostmortemReview.id)
        )
    )
    basic = BasicInfo(
        incident_id=iid,
        title=incident.title,
        occurred=incident.started_at,
        detected_at=incident.detected_at,
        recovered=incident.resolved_at,
        total_outage_minutes=minutes["time_to_resolve"],
        severity=incident.severity,
        severity_name=localized(sev.name, locale) if sev else incident.severity,
        impact=dict(incident.impact or {}),
        impact_text=pm.impact,
        ic=last_holder(roles, IC_ROLE),
        author=pm.author,
        date=incident.started_at.astimezone(policy.zone).date(),
        status=incident.status,
    )
    return PostmortemView(
        incident_id=iid,
        status=pm.status,
        title=pm.title,
        author=pm.author,
        started_by=pm.started_by,
        started_at=pm.started_at,
        updated_at=pm.updated_at,
        submitted_at=pm.submitted_at,
        published_at=pm.published_at,
        published_by=pm.published_by,
        meeting_at=pm.meeting_at,
        meeting_held_at=pm.meeting_held_at,
        basic=basic,
        incident_summary=incident.summary,
        resolution_summary=incident.resolution_summary,
        summary=pm.summary,
        impact=pm.impact,
        key_events=[
            KeyEvent(
                event_id=e.get("event_id"),
                at=datetime.fromisoformat(e["at"]),
                text=e.get("text", ""),
                note=e.get("note", ""),
            )
            for e in pm.key_events
        ],
        timeline=timeline,
        alerts=_alerts(session, iid),
        roles=[
            RoleRow(
                role=r.role,
                role_name=_role_name(policy, r.role, locale),
                assignee=r.assignee,
                since=r.assigned_at,
                until=r.ended_at,
            )
            for r in roles
        ],
        decisions=[
            DecisionRow(
                at=d.created_at,
                kind=d.kind,
                decision=d.decision,
                alternatives=list(d.alternatives or []),
                reason=d.reason,
                decided_by=d.decided_by,
            )
            for d in session.scalars(
                select(Decision)
                .where(Decision.incident_id == iid)
                .order_by(Decision.created_at, Decision.id)
            )
        ],
        updates=[
            UpdateRow(
                at=u.created_at,
                situation=u.situation,
                impact=u.impact,
                progress=u.progress,
                eta=u.eta,
                author=u.author,
            )
            for u in session.scalars(
                select(StatusUpdate)
                .where(StatusUpdate.incident_id == iid)
                .order_by(StatusUpdate.created_at, StatusUpdate.id)
            )
        ],
        durations=DurationsView(
            time_to_detect=minutes["time_to_detect"],
            time_to_acknowledge=minutes["time_to_acknowledge"],
            time_to_mitigate=minutes["time_to_mitigate"],
            time_to_resolve=minutes["time_to_resolve"],
            minutes_past_target=measured.minutes_past_target,
            recovery_due=measured.recovery_due,
        ),
        whys=list(pm.whys or []),
        root_cause=pm.root_cause,
        contributing_factors=list(pm.contributing_factors or []),
        went_well=list(pm.went_well or []),
        went_wrong=list(pm.went_wrong or []),
        lucky=list(pm.lucky or []),
        lessons=pm.lessons,
        custom=dict(pm.custom or {}),
        measures=_measures(session, pm.id),
        reviews=[
            ReviewRow(
                reviewer=r.reviewer,
                requested_by=r.requested_by,
                requested_at=r.requested_at,
                verdict=r.verdict,
                comment=r.comment,
                decided_at=r.decided_at,
            )
            for r in reviews
        ],
        approvals=sum(1 for r in reviews if r.verdict == "approved"),
        approvals_required=policy.postmortem.approvals_required,
        deadlines=[
            DeadlineRow(
                id=s.id,
                name=localized(s.deadline.name, locale),
                due=s.due,
                met_at=s.met_at,
                state=s.state(now),
            )
            for s in deadline_rules.states(policy, pm.deadlines or {}, met_events(pm))
        ],
        sections=policy_sections(policy, locale),
    )


def _role_name(policy: Policy, role: str, locale: str) -> str:
    found = policy.role(role)
    return localized(found.name, locale) if found else role


def _alerts(session: Session, incident_id: str) -> list[AlertRow]:
    alerts = session.scalars(
        select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.received_at, Alert.id)
        .limit(MAX_PAGE)  # a storm of thousands is summed up by its first ones
    )
    return [
        AlertRow(
            id=a.id,
            name=a.summary,
            fingerprint=a.dedup_key,
            first_seen=a.starts_at or a.received_at,
            last_seen=a.last_received_at,
            status=a.status,
            service=a.service,
        )
        for a in alerts
    ]


def _measures(session: Session, postmortem_id: int) -> list[MeasureRow]:
    items = session.scalars(
        select(ActionItem)
        .where(ActionItem.postmortem_id == postmortem_id)
        .order_by(ActionItem.number)
    )
    return [
        MeasureRow(
            code=code(i),
            title=i.title,
            description=i.description,
            owner=i.owner,
            due_date=i.due_date,
            priority=i.priority,
            term=i.term,
            class_of_service=i.class_of_service,
            column=i.column,
            tracker_url=i.tracker_url,
        )
        for i in items
    ]


# The list


def _encode(updated_at: datetime, pm_id: int) -> str:
    raw = f"{updated_at.isoformat()}|{pm_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, pm_id = raw.partition("|")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, int(pm_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HaetaeError("INVALID_QUERY", "The cursor is not one this list gave.") from exc


def list_postmortems(
    session: Session, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> PostmortemPage:
    """Newest change first, keyset-paged: `next_cursor` continues after the last item."""
    if status is not None and status not in STATUSES:
        raise HaetaeError("INVALID_QUERY", f"status must be one of {', '.join(STATUSES)}")
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Postmortem, Incident.severity).join(
        Incident, Incident.id == Postmortem.incident_id
    )
    if status is not None:
        query = query.where(Postmortem.status == status)
    if cursor:
        at, pm_id = _decode(cursor)
        query = query.where(
            or_(
                Postmortem.updated_at < at,
                and_(Postmortem.updated_at == at, Postmortem.id < pm_id),
            )
        )
    query = query.order_by(Postmortem.updated_at.desc(), Postmortem.id.desc()).limit(limit + 1)
    rows = list(session.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        PostmortemSummary(
            incident_id=pm.incident_id,
            title=pm.title,
            status=pm.status,
            author=pm.author,
            severity=severity,
            updated_at=pm.updated_at,
            published_at=pm.published_at,
        )
        for pm, severity in rows
    ]
    last = rows[-1][0] if more and rows else None
    return PostmortemPage(
        items=items, next_cursor=_encode(last.updated_at, last.id) if last else None
    )
