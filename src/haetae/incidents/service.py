"""The incident rules: declare, read and edit. Plain functions taking a session; the caller
owns the transaction. Severity, roles, activity, resolution conditions and transitions have
modules of their own beside this one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae import keyset
from haetae.comms import service as comms
from haetae.errors import HaetaeError
from haetae.escalation import service as escalation
from haetae.incidents import lifecycle, severity
from haetae.incidents.models import Incident, IncidentCounter, IncidentService, IncidentTag
from haetae.incidents.schemas import IncidentDeclare, IncidentPatch
from haetae.policy import lookup
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

MAX_PAGE = 200


# Identifiers


def next_incident_id(session: Session, policy: Policy, *, now: datetime) -> str:
    """INC-YYYYMMDD-NNN with the day in the policy's zone; one atomic upsert per ID."""
    day = now.astimezone(policy.zone).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(IncidentCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(
            index_elements=[IncidentCounter.day], set_={"last": IncidentCounter.last + 1}
        )
        .returning(IncidentCounter.last)
    )
    number = session.execute(upsert).scalar_one()
    return f"INC-{day}-{number:03d}"


# Priority and cadence


def priority_score(policy: Policy, incident: Incident) -> float:
    """Seed 000: (severity x business impact x user impact) / technical complexity.

    An impact that was not given counts as the lowest weight, 1.
    """
    severity = policy.severity(incident.severity)
    score = severity.weight if severity else 1.0
    matrix = policy.impact_matrix
    if matrix:
        for value, levels in (
            (incident.business_impact, matrix.business_impact),
            (incident.user_impact, matrix.user_impact),
        ):
            score *= next((lv.weight for lv in levels if lv.id == value), 1.0)
    return round(score / max(incident.complexity, 1), 2)


def _category(policy: Policy, category: str | None) -> str | None:
    """The policy's id for the category given (by id or display name); any text when the
    policy lists no categories."""
    if category is None or not policy.categories:
        return category
    return lookup.resolve(
        policy.categories, category, what="category", code="VALIDATION_ERROR", field="category"
    )


def cadence_due(policy: Policy, incident: Incident, now: datetime) -> datetime | None:
    interval = severity.update_interval(policy, incident.severity)
    return now + interval if interval else None


# Declare and read


def declare_incident(
    session: Session,
    policy: Policy,
    data: IncidentDeclare,
    *,
    actor: str,
    now: datetime,
    drill: bool = False,
) -> Incident:
    """Declare an incident (a drill's, with `drill`: marked from the start, so that what its
    declaration sends, pages and stakeholder messages alike, knows it is one)."""
    level, source = severity.classify(
        policy,
        business_impact=data.business_impact,
        user_impact=data.user_impact,
        severity=data.severity,
    )
    category = _category(policy, data.category)
    started = data.started_at or now
    incident = Incident(
        title=data.title,
        summary=data.summary,
        status="triage",
        severity=level,
        severity_source=source,
        severity_reason=data.severity_reason if source == "explicit" else None,
        category=category,
        services=clean_list(data.services),
        tags=clean_list(data.tags),
        environment=data.environment,
        impact=data.impact.model_dump(exclude_none=True),
        business_impact=data.business_impact,
        user_impact=data.user_impact,
        complexity=data.complexity or policy.priority.default_complexity,
        declared_by=actor,
        declared_at=now,
        started_at=started,
        detected_at=data.detected_at or now,
        drill=drill,
        updated_at=now,
    )
    incident.priority_score = priority_score(policy, incident)
    incident.next_update_due = cadence_due(policy, incident, now)
    # Last, so that the day's counter row stays locked for as short a time as possible:
    # concurrent declares queue on it until this transaction commits.
    incident.id = next_incident_id(session, policy, now=now)
    session.add(incident)
    session.flush()
    index_lists(session, incident)
    timeline.record(
        session,
        incident.id,
        kind="declared",
        actor=actor,
        at=now,
        summary=f"Declared {level} ({source}): {incident.title}",
        severity=level,
        severity_source=source,
        severity_reason=incident.severity_reason,
        business_impact=incident.business_impact,
        user_impact=incident.user_impact,
    )
    escalation.start(session, policy, incident, now=now)
    comms.on_event(session, policy, incident, "declaration", source="declared", now=now)
    return incident


def clean_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def get_incident(session: Session, incident_id: str, *, for_update: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    if for_update:
        query = query.with_for_update()
    incident = session.scalars(query).one_or_none()
    if incident is None:
        raise HaetaeError("NOT_FOUND", f"Incident {incident_id} does not exist.")
    return incident


@dataclass(frozen=True)
class IncidentFilter:
    """The incident list's filters; a field left None matches every incident."""

    status: Sequence[str] | None = None
    severity: Sequence[str] | None = None
    service: str | None = None
    tag: str | None = None
    since: datetime | None = None


def incident_page(
    session: Session,
    where: IncidentFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
    count_cap: int | None = keyset.COUNT_CAP,
) -> keyset.Slice[Incident]:
    """A page of incidents newest first (declared_at, id), read from the index that fits
    the filters, with the count of matches up to count_cap."""
    after = keyset.decode_cursor(cursor, str) if cursor else None
    return keyset.page(
        session,
        _lanes(where),
        sort_key=lambda i: (i.declared_at, i.id),
        limit=min(max(limit, 1), MAX_PAGE),
        offset=max(offset, 0),
        after=after,
        count_cap=count_cap,
        rows_of=lambda row: row[0],
    )


def list_incidents(
    session: Session,
    *,
    status: list[str] | None = None,
    severity: list[str] | None = None,
    service: str | None = None,
    tag: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Incident], int]:
    """A page and the exact count of matches (the console and the CLI show page numbers)."""
    where = IncidentFilter(status, severity, service, tag, since)
    found = incident_page(session, where, limit=limit, offset=offset, count_cap=None)
    return found.rows, found.total


def _lanes(where: IncidentFilter) -> list[keyset.Lane]:
    """The filters as index-ordered queries. The most selective filter leads: a status
    that is still active (few incidents are), then a service or a tag (their side
    tables), then status and severity; the other filters are checked on the rows read."""
    statuses = list(dict.fromkeys(where.status or []))
    severities = list(dict.fromkeys(where.severity or []))
    service_key = where.service.strip().lower() if where.service is not None else None
    tag_key = where.tag.strip().lower() if where.tag is not None else None
    side: list[tuple[type[IncidentService] | type[IncidentTag], Any, str]] = []
    if service_key is not None:
        side.append((IncidentService, IncidentService.service, service_key))
    if tag_key is not None:
        side.append((IncidentTag, IncidentTag.tag, tag_key))
    few = statuses and set(statuses) <= set(lifecycle.ACTIVE)
    if side and not few:
        table, column, value = side[0]
        query = (
            select(Incident)
            .select_from(table)
            .join(Incident, Incident.id == table.incident_id)
            .where(column == value)
        )
        if where.since is not None:
            query = query.where(table.declared_at >= where.since)
        if statuses:
            query = query.where(keyset.unindexed(Incident.status).in_(statuses))
        if severities:
            query = query.where(keyset.unindexed(Incident.severity).in_(severities))
        for other, other_column, other_value in side[1:]:
            query = query.where(_has(other, other_column, other_value))
        return [keyset.Lane(query, table.declared_at, table.incident_id)]
    base = select(Incident)
    if where.since is not None:
        base = base.where(Incident.declared_at >= where.since)
    for table, column, value in side:
        base = base.where(_has(table, column, value))
    # One lane per value: an IN list would make the database sort every match.
    if statuses and severities:
        combos = [(st, sv) for st in statuses for sv in severities]
        if len(combos) <= MAX_LANES:
            return [
                _lane(base.where(Incident.status == st, Incident.severity == sv))
                for st, sv in combos
            ]
    if statuses:
        lanes = [_lane(base.where(Incident.status == st)) for st in statuses]
        return _narrowed(lanes, keyset.unindexed(Incident.severity), severities)
    if severities:
        return [_lane(base.where(Incident.severity == sv)) for sv in severities]
    return [_lane(base)]


MAX_LANES = 40  # 7 statuses x a policy's severities; past it, severity is checked per row


def _lane(query: Any) -> keyset.Lane:
    return keyset.Lane(query, Incident.declared_at, Incident.id)


def _narrowed(lanes: list[keyset.Lane], column: Any, values: list[str]) -> list[keyset.Lane]:
    if not values:
        return lanes
    return [keyset.Lane(lane.query.where(column.in_(values)), lane.at, lane.key) for lane in lanes]


def _has(table: type[IncidentService] | type[IncidentTag], column: Any, value: str) -> Any:
    return (
        select(table.incident_id).where(table.incident_id == Incident.id, column == value).exists()
    )


def lists_hold(kind: Literal["services", "tags"], value: str) -> Any:
    """A condition on Incident: its services (or tags) hold `value`, in any case, read from
    the indexed side table the incident list filters on."""
    if kind == "services":
        return _has(IncidentService, IncidentService.service, value.strip().lower())
    return _has(IncidentTag, IncidentTag.tag, value.strip().lower())


def list_keys(values: list[str]) -> list[str]:
    """What the side tables hold for a services or tags list: lowercased, once each."""
    return [key[:200] for key in dict.fromkeys(v.strip().lower() for v in values) if key]


def index_lists(session: Session, incident: Incident) -> None:
    """Write the incident's services and tags into the side tables the list filters read;
    called by every path that sets them, in its transaction."""
    session.flush()
    for table, values in ((IncidentService, incident.services), (IncidentTag, incident.tags)):
        session.execute(delete(table).where(table.incident_id == incident.id))
        column = "service" if table is IncidentService else "tag"
        rows = [
            {"incident_id": incident.id, column: key, "declared_at": incident.declared_at}
            for key in list_keys(list(values or []))
        ]
        if rows:
            session.execute(insert(table), rows)


def is_update_overdue(incident: Incident, now: datetime) -> bool:
    return (
        incident.status in lifecycle.ACTIVE
        and incident.next_update_due is not None
        and incident.next_update_due < now
    )


def targets(policy: Policy, incident: Incident) -> tuple[datetime | None, datetime | None]:
    """When the response and the recovery are due under the policy."""
    sev = policy.severity(incident.severity)
    if sev is None:
        return None, None
    return (
        policy.target_due(sev.response_target, incident.detected_at),
        policy.target_due(sev.recovery_target, incident.started_at),
    )


# Changes


def patch_incident(
    session: Session,
    policy: Policy,
    incident_id: str,
    data: IncidentPatch,
    *,
    actor: str,
    now: datetime,
) -> Incident:
    incident = get_incident(session, incident_id, for_update=True)
    require_open(incident)
    changes = data.model_dump(exclude_unset=True)
    reason = changes.pop("severity_reason", None)
    new_severity = changes.pop("severity", None)
    use_matrix = changes.pop("severity_from_matrix", False)
    severity.check_impacts(policy, changes.get("business_impact"), changes.get("user_impact"))
    if "category" in changes:
        changes["category"] = _category(policy, changes["category"])
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("services", "tags") and value is not None:
            value = clean_list(value)
        if field == "impact" and value is not None:
            value = {k: v for k, v in value.items() if v is not None}
        if getattr(incident, field) != value:
            changed[field] = {"from": getattr(incident, field), "to": value}
            setattr(incident, field, value)
    before = (incident.severity, incident.severity_source, incident.severity_reason)
    decided = severity.decide(
        policy, incident, explicit=new_severity, reason=reason, use_matrix=use_matrix
    )
    incident.severity, incident.severity_source = decided.severity, decided.source
    incident.severity_reason = decided.reason
    severity_moved = (decided.severity, decided.source, decided.reason) != before
    if not changed and not severity_moved:
        return incident
    incident.priority_score = priority_score(policy, incident)
    incident.updated_at = now
    if "services" in changed or "tags" in changed:
        index_lists(session, incident)
    if changed:
        timeline.record(
            session,
            incident.id,
            kind="fields_changed",
            actor=actor,
            at=now,
            summary="Changed " + ", ".join(sorted(changed)),
            changes=changed,
        )
    if severity_moved:
        severity.follow_move(
            session, policy, incident, old_severity=before[0], reason=reason, actor=actor, now=now
        )
    return incident


def require_open(incident: Incident) -> None:
    if incident.status in ("closed", "canceled"):
        raise HaetaeError(
            "INVALID_TRANSITION",
            f"{incident.id} is {incident.status}; it no longer changes.",
            current=incident.status,
        )
