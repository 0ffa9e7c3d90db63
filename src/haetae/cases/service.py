"""Similar past incidents, and marking an incident as a recurrence of an earlier one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from haetae.alerts.models import Alert
from haetae.cases import index, queries
from haetae.cases.index import SearchDocument
from haetae.cases.schemas import Reason, RecurrenceOut, SimilarIncident
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.incidents.service import get_incident
from haetae.timeline import service as timeline

# How much each kind of likeness counts. A shared alert fingerprint is the strongest sign of
# the same failure; the same service next; words in common least (they are often generic).
WEIGHTS = {"fingerprint": 5.0, "service": 3.0, "category": 2.0, "label": 1.0, "tag": 1.0}
TEXT_WEIGHT = 3.0  # times the share of the incident's title words another incident holds
CANDIDATES_PER_SIGN = 200  # the newest earlier incidents looked at for each sign
MAX_LABELS = 3  # shared labels and tags count up to this many each
# Alert labels that say which alert it is, not what failed: shared by everything, so no sign.
_IGNORED_LABELS = frozenset({"severity", "prometheus", "instance", "job", "receiver"})


def similar(session: Session, incident_id: str, limit: int = 5) -> list[SimilarIncident]:
    """Earlier incidents like this one, most alike first, each with why it matched and, when
    resolved, its root cause and what fixed it."""
    incident = get_incident(session, incident_id)
    dialect = session.get_bind().dialect.name
    earlier = (Incident.declared_at < incident.declared_at) | (
        (Incident.declared_at == incident.declared_at) & (Incident.id < incident.id)
    )
    reasons: dict[str, list[Reason]] = defaultdict(list)
    scores: dict[str, float] = defaultdict(float)

    def note(found: str, kind: str, value: str, weight: float) -> None:
        reasons[found].append(Reason(kind=kind, value=value))
        scores[found] += weight

    def newest(condition: ColumnElement[bool]) -> list[str]:
        query = (
            select(Incident.id)
            .where(condition, earlier, Incident.id != incident.id)
            .order_by(Incident.declared_at.desc())
            .limit(CANDIDATES_PER_SIGN)
        )
        return list(session.scalars(query))

    for service in incident.services or []:
        for found in newest(incidents.lists_hold("services", service)):
            note(found, "service", service, WEIGHTS["service"])
    if incident.category:
        for found in newest(Incident.category == incident.category):
            note(found, "category", incident.category, WEIGHTS["category"])
    for tag in list(incident.tags or [])[:MAX_LABELS]:
        for found in newest(incidents.lists_hold("tags", tag)):
            note(found, "tag", tag, WEIGHTS["tag"])
    _alert_signs(session, incident, newest, note)
    _text_signs(session, dialect, incident, earlier, scores, reasons)
    if not scores:
        return []
    ranked = session.scalars(select(Incident).where(Incident.id.in_(list(scores)))).all()
    ranked = sorted(ranked, key=lambda i: (-scores[i.id], -i.declared_at.timestamp(), i.id))
    ranked = ranked[:limit]
    results = queries.outcomes(session, ranked)
    return [
        SimilarIncident(
            id=i.id,
            title=i.title,
            severity=i.severity,
            status=i.status,
            declared_at=i.declared_at,
            score=round(scores[i.id], 2),
            reasons=reasons[i.id],
            root_cause=results.get(i.id, (None, None))[0],
            fix=results.get(i.id, (None, None))[1],
            recurrence_of=i.recurrence_of,
            is_marked=incident.recurrence_of == i.id,
        )
        for i in ranked
    ]


def _alert_signs(
    session: Session,
    incident: Incident,
    newest: Callable[[ColumnElement[bool]], list[str]],
    note: Callable[[str, str, str, float], None],
) -> None:
    """Earlier incidents that had an alert with one of this incident's fingerprints, or
    alerts sharing its alerts' labels."""
    alerts = session.execute(
        select(Alert.dedup_key, Alert.labels).where(Alert.incident_id == incident.id)
    ).all()
    keys = sorted({a.dedup_key for a in alerts})
    if keys:
        for found in newest(
            Incident.id.in_(
                select(Alert.incident_id).where(
                    Alert.dedup_key.in_(keys), Alert.incident_id.is_not(None)
                )
            )
        ):
            note(found, "fingerprint", ", ".join(keys[:3]), WEIGHTS["fingerprint"])
    pairs = sorted({(k, str(v)) for a in alerts for k, v in (a.labels or {}).items()})
    pairs = [(k, v) for k, v in pairs if k not in _IGNORED_LABELS][: MAX_LABELS * 3]
    if not pairs:
        return
    labelled: dict[str, set[tuple[str, str]]] = defaultdict(set)
    others = session.execute(
        select(Alert.incident_id, Alert.labels)
        .where(Alert.incident_id.is_not(None), Alert.incident_id != incident.id)
        .where(Alert.dedup_key.not_in(keys) if keys else Alert.id.is_not(None))
        .order_by(Alert.id.desc())
        .limit(CANDIDATES_PER_SIGN * 5)
    ).all()
    for other_id, labels in others:
        if other_id is None:
            continue
        shared = {(k, str(v)) for k, v in (labels or {}).items()} & set(pairs)
        labelled[other_id] |= shared
    allowed = set(newest(Incident.id.in_(list(labelled)))) if labelled else set()
    for other_id, shared in labelled.items():
        if other_id in allowed and shared:
            for k, v in sorted(shared)[:MAX_LABELS]:
                note(other_id, "label", f"{k}={v}", WEIGHTS["label"])


def _text_signs(
    session: Session,
    dialect: str,
    incident: Incident,
    earlier: ColumnElement[bool],
    scores: dict[str, float],
    reasons: dict[str, list[Reason]],
) -> None:
    """Earlier incidents whose documents hold the words of this one's title (through the
    search index): the more of them, the more alike."""
    words = [w for w in index.terms(incident.title) if len(w) >= 2]
    if not words:
        return
    held: dict[str, list[str]] = defaultdict(list)
    for word in words:
        query = (
            select(SearchDocument.incident_id)
            .join(Incident, Incident.id == SearchDocument.incident_id)
            .where(queries.matched_documents(dialect, [word]), earlier)
            .where(Incident.id != incident.id)
            .group_by(SearchDocument.incident_id, Incident.declared_at)
            .order_by(Incident.declared_at.desc())
            .limit(CANDIDATES_PER_SIGN)
        )
        for found in session.scalars(query):
            held[found].append(word)
    for found, shared in held.items():
        scores[found] += TEXT_WEIGHT * len(shared) / len(words)
        reasons[found].append(Reason(kind="text", value=" ".join(shared)))


def mark_recurrence(
    session: Session, incident_id: str, *, of: str, actor: str, now: datetime
) -> RecurrenceOut:
    """Record that the incident is a recurrence of an earlier one (the recurrence rate counts
    these). Refused: itself, an incident that does not exist, or one declared later."""
    incident = get_incident(session, incident_id, for_update=True)
    if of == incident.id:
        raise HaetaeError(
            "INVALID_RECURRENCE", "An incident cannot be a recurrence of itself.", reason="self"
        )
    earlier = session.get(Incident, of)
    if earlier is None:
        raise HaetaeError(
            "INVALID_RECURRENCE", f"Incident {of} does not exist.", reason="unknown", of=of
        )
    if earlier.declared_at > incident.declared_at:
        raise HaetaeError(
            "INVALID_RECURRENCE",
            f"{of} was declared after {incident.id}; a recurrence follows what it repeats.",
            reason="later",
            of=of,
        )
    if incident.recurrence_of != of:
        previous = incident.recurrence_of
        incident.recurrence_of = of
        incident.updated_at = now
        timeline.record(
            session,
            incident.id,
            kind="recurrence_marked",
            actor=actor,
            at=now,
            summary=f"Marked as a recurrence of {of}",
            of=of,
            previous=previous,
        )
    return RecurrenceOut(incident_id=incident.id, recurrence_of=incident.recurrence_of)


def unmark_recurrence(
    session: Session, incident_id: str, *, actor: str, now: datetime
) -> RecurrenceOut:
    incident = get_incident(session, incident_id, for_update=True)
    if incident.recurrence_of is not None:
        previous = incident.recurrence_of
        incident.recurrence_of = None
        incident.updated_at = now
        timeline.record(
            session,
            incident.id,
            kind="recurrence_unmarked",
            actor=actor,
            at=now,
            summary=f"No longer marked as a recurrence of {previous}",
            of=previous,
        )
    return RecurrenceOut(incident_id=incident.id, recurrence_of=None)
