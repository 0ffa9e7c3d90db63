"""Per-incident metric facts: each incident's durations as integer seconds and its group keys,
kept current in the transaction of every change to the incident, so reports aggregate in SQL.

The facts hold nothing that depends on the policy: targets, the MTTR start, the recurrence
window, business hours and the week/month keys in the policy's zone are applied when a report
is built (metrics/queries.py), so a policy change needs no rebuild.

Refresh: a session event collects the incidents touched by each flush (the incident itself,
its status updates, role assignments, post-mortem, services, alerts and pages); just before
the transaction commits, their facts are recomputed and written in the same transaction. Writes
that bypass the ORM (bulk Core statements on these tables) must call `refresh` themselves;
`refresh_all` rebuilds every row (migration 0013 backfills with it, as does the benchmark).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from haetae.clock import as_utc
from haetae.db import Base
from haetae.incidents.models import Incident, IncidentService, RoleAssignment, StatusUpdate
from haetae.postmortems.models import Postmortem

_PENDING = "haetae_metric_facts_pending"
_BATCH = 500


class MetricFact(Base):
    """One incident's measured facts. Times are Unix seconds (UTC); a duration not measured
    yet (never acknowledged, not resolved) is NULL."""

    __tablename__ = "metric_facts"
    __table_args__ = (
        Index("ix_metric_facts_declared", "declared_s", "drill", "canceled"),
        Index("ix_metric_facts_root_cause", "root_cause", "declared_s"),
        Index("ix_metric_facts_revision", "revision"),
    )

    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    declared_s: Mapped[int] = mapped_column(BigInteger)
    detected_s: Mapped[int] = mapped_column(BigInteger)
    resolved_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    severity: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(8))  # alert | manual
    drill: Mapped[bool] = mapped_column(Boolean)
    canceled: Mapped[bool] = mapped_column(Boolean)
    mttd: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mtta: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mttm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mttr: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mttr_from_detect: Mapped[int | None] = mapped_column(Integer, nullable=True)
    communicate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Status updates measured against the deadline the previous one set, and those on time.
    updates_n: Mapped[int] = mapped_column(Integer)
    updates_met: Mapped[int] = mapped_column(Integer)
    marked: Mapped[bool] = mapped_column(Boolean)  # recurrence_of is set
    # sha1 of the post-mortem's root cause, normalised (case, spaces); "" when none is written.
    root_cause: Mapped[str] = mapped_column(String(40))
    # Role holders' time: seconds of ended assignments (or ended by the resolution), and the
    # count and summed start of those still open, which a report ends at its window's end.
    role_s: Mapped[int] = mapped_column(BigInteger)
    role_open_n: Mapped[int] = mapped_column(Integer)
    role_open_start_sum: Mapped[int] = mapped_column(BigInteger)
    # A stamp that changes with every write: max(revision) and count(*) version the reports'
    # cache.
    revision: Mapped[int] = mapped_column(BigInteger)


def epoch(value: datetime | None) -> int | None:
    return None if value is None else int(as_utc(value).timestamp())


def _between(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def normalise_root_cause(text: str | None) -> str:
    """The key two root causes match on: the same non-empty text, ignoring case and spacing."""
    words = re.sub(r"\s+", " ", (text or "").strip().lower())
    return hashlib.sha1(words.encode()).hexdigest() if words else ""


def _update_compliance(
    updates: Sequence[tuple[int, int | None]], resolved: int | None
) -> tuple[int, int]:
    """(measured, on time) for an incident's updates [(created_s, next_update_s)], in order.

    Each update after the first is measured when the one before it set a next update time,
    and is on time when posted by then. A deadline set by the last update that passed before
    the incident was resolved is one more update, missed."""
    n = met = 0
    for (_, due), (created, _) in itertools.pairwise(updates):
        if due is not None:
            n += 1
            met += created <= due
    if updates:
        last_due = updates[-1][1]
        if last_due is not None and resolved is not None and resolved > last_due:
            n += 1
    return n, met


def _compute(
    incident: Any,
    updates: Sequence[tuple[int, int | None]],
    roles: Sequence[tuple[int, int | None]],
    root_cause: str | None,
    revision: int,
) -> dict[str, Any]:
    started = epoch(incident.started_at)
    detected = epoch(incident.detected_at)
    declared = epoch(incident.declared_at)
    resolved = epoch(incident.resolved_at)
    canceled = incident.canceled_at is not None or incident.status == "canceled"
    if canceled:
        resolved = None
    updates_n, updates_met = _update_compliance(updates, resolved)
    role_s = open_n = open_sum = 0
    for assigned, ended in roles:
        end = ended if ended is not None else resolved
        if end is None:
            open_n += 1
            open_sum += assigned
        else:
            role_s += max(end - assigned, 0)
    return {
        "incident_id": incident.id,
        "declared_s": declared,
        "detected_s": detected,
        "resolved_s": resolved,
        "severity": incident.severity,
        "category": incident.category,
        "source": "alert" if str(incident.declared_by).startswith("integration:") else "manual",
        "drill": bool(incident.drill),
        "canceled": canceled,
        "mttd": _between(started, detected),
        "mtta": _between(detected, epoch(incident.acknowledged_at)),
        "mttm": _between(started, epoch(incident.mitigated_at)),
        "mttr": _between(started, resolved),
        "mttr_from_detect": _between(detected, resolved),
        "communicate": _between(detected, updates[0][0] if updates else None),
        "updates_n": updates_n,
        "updates_met": updates_met,
        "marked": incident.recurrence_of is not None,
        "root_cause": normalise_root_cause(root_cause),
        "role_s": role_s,
        "role_open_n": open_n,
        "role_open_start_sum": open_sum,
        "revision": revision,
    }


_INCIDENT_COLUMNS = (
    Incident.id,
    Incident.status,
    Incident.severity,
    Incident.category,
    Incident.declared_by,
    Incident.declared_at,
    Incident.started_at,
    Incident.detected_at,
    Incident.acknowledged_at,
    Incident.mitigated_at,
    Incident.resolved_at,
    Incident.canceled_at,
    Incident.recurrence_of,
    Incident.drill,
)


def _refresh_batch(session: Session | Connection, ids: list[str]) -> None:
    incidents = session.execute(select(*_INCIDENT_COLUMNS).where(Incident.id.in_(ids))).all()
    updates: dict[str, list[tuple[int, int | None]]] = {}
    for row in session.execute(
        select(StatusUpdate.incident_id, StatusUpdate.created_at, StatusUpdate.next_update_at)
        .where(StatusUpdate.incident_id.in_(ids))
        .order_by(StatusUpdate.incident_id, StatusUpdate.created_at, StatusUpdate.id)
    ):
        updates.setdefault(row[0], []).append((epoch(row[1]) or 0, epoch(row[2])))
    roles: dict[str, list[tuple[int, int | None]]] = {}
    for row in session.execute(
        select(
            RoleAssignment.incident_id, RoleAssignment.assigned_at, RoleAssignment.ended_at
        ).where(RoleAssignment.incident_id.in_(ids))
    ):
        roles.setdefault(row[0], []).append((epoch(row[1]) or 0, epoch(row[2])))
    causes = dict(
        session.execute(
            select(Postmortem.incident_id, Postmortem.root_cause).where(
                Postmortem.incident_id.in_(ids)
            )
        ).all()
    )
    revision = time.time_ns()
    rows = [
        _compute(i, updates.get(i.id, []), roles.get(i.id, []), causes.get(i.id), revision)
        for i in incidents
    ]
    gone = set(ids) - {row["incident_id"] for row in rows}
    if gone:  # deleted incidents
        session.execute(delete(MetricFact).where(MetricFact.incident_id.in_(sorted(gone))))
    if rows:
        # An upsert, not delete-then-insert: two transactions refreshing one incident at once
        # (an alert arriving while a responder edits it) would otherwise both insert its row,
        # and the second would fail on the primary key.
        bind = session.get_bind() if isinstance(session, Session) else session
        dialect = bind.dialect.name
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MetricFact)
        columns = [c for c in rows[0] if c != "incident_id"]
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=[MetricFact.incident_id],
                set_={c: getattr(upsert.excluded, c) for c in columns},
            ),
            rows,
        )


def refresh(session: Session | Connection, incident_ids: Iterable[str]) -> None:
    """Recompute these incidents' facts (a deleted incident's row goes)."""
    ids = sorted(set(incident_ids))
    for start in range(0, len(ids), _BATCH):
        _refresh_batch(session, ids[start : start + _BATCH])


def refresh_all(session: Session | Connection) -> int:
    """Rebuild every incident's facts; returns how many incidents there are."""
    session.execute(delete(MetricFact))
    ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
    for start in range(0, len(ids), _BATCH):
        _refresh_batch(session, ids[start : start + _BATCH])
    return len(ids)


def refresh_pending(session: Session) -> None:
    """Bring the facts of incidents changed in this transaction up to date now (a report
    read inside a writing transaction sees its own changes)."""
    session.flush()
    pending: set[str] = session.info.pop(_PENDING, set())
    if pending:
        refresh(session, pending)


def _touched(obj: object) -> str | None:
    if isinstance(obj, Incident):
        return obj.id
    # Services are read by the reports from their own table; a change to them still restamps
    # the incident's facts, so that cached reports are built again. Pages and alerts are not:
    # the transactions that send pages and ingest alerts stay as short as they were, never
    # writing facts (on PostgreSQL a facts row lock would queue concurrent ingests to one
    # incident), and a cached report's page counts and alert-fingerprint recurrences may lag
    # by up to the cache's minute.
    if isinstance(obj, StatusUpdate | RoleAssignment | Postmortem | IncidentService):
        return obj.incident_id
    return None


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    touched = {
        key
        for obj in (*session.new, *session.dirty, *session.deleted)
        if (key := _touched(obj)) is not None
    }
    if touched:
        session.info.setdefault(_PENDING, set()).update(touched)


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    # before_commit runs before the commit's own flush: flush here so every change is seen.
    if session.info.get(_PENDING) or session.new or session.dirty or session.deleted:
        refresh_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
