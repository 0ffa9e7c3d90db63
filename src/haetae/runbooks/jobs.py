"""The runbooks' worker job: the intake of new incidents (attach matched runbooks, ask for the
first analysis)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from haetae.alerts.models import Alert, AlertGroup
from haetae.diagnostics import analysis
from haetae.incidents.models import Incident
from haetae.jobs import Job, JobContext
from haetae.policy.schema import Policy
from haetae.runbooks import library, matching, service
from haetae.runbooks.models import IncidentIntake

log = logging.getLogger(__name__)
BATCH = 20
ACTOR = "haetae:intake"
# The labels of this many of an incident's alerts are matched: a storm's thousandth alert
# adds nothing the first ones did not say.
ALERT_LIMIT = 200
# Only incidents declared this recently are looked for: the search for the ones not taken in
# reads the declared index from here on, instead of every incident ever (every 2 s). One not
# taken in by then (workers down a whole day) is left to people to attach by hand.
INTAKE_WINDOW = timedelta(days=1)


def alert_labels(session: Session, incident_id: str) -> list[dict[str, str]]:
    """The label sets of the incident's alerts: those its alert groups hold, and any attached
    to it directly."""
    rows = session.scalars(
        select(Alert.labels)
        .outerjoin(AlertGroup, Alert.group_id == AlertGroup.id)
        .where(or_(AlertGroup.incident_id == incident_id, Alert.incident_id == incident_id))
        .order_by(Alert.received_at, Alert.id)
        .limit(ALERT_LIMIT)
    )
    unique: dict[str, dict[str, str]] = {}
    for labels in rows:
        if isinstance(labels, dict):
            unique.setdefault(repr(sorted(labels.items())), labels)
    return list(unique.values())


def take_in(
    session: Session, policy: Policy, lib: library.Library, incident: Incident, *, now: datetime
) -> int:
    """Everything the intake does for one incident; how many runbooks it attached."""
    attached = 0
    if incident.status not in service.CLOSED:
        if policy.response.runbooks.auto_attach:
            found = matching.match(
                lib,
                services=list(incident.services or []),
                category=incident.category,
                tags=list(incident.tags or []),
                alert_labels=alert_labels(session, incident.id),
            )
            for matched in found:
                service.attach(
                    session,
                    policy,
                    incident,
                    matched.loaded,
                    how="auto",
                    reasons=matched.reasons,
                    by=ACTOR,
                    now=now,
                )
                attached += 1
        if incident.severity in policy.response.first_analysis.severities:
            analysis.request_first_analysis(
                session,
                policy,
                incident,
                by=ACTOR,
                now=now,
            )
    session.add(IncidentIntake(incident_id=incident.id, done_at=now))
    return attached


def _untaken(now: datetime) -> ColumnElement[bool]:
    return (Incident.declared_at >= now - INTAKE_WINDOW) & ~exists().where(
        IncidentIntake.incident_id == Incident.id
    )


def intake(ctx: JobContext) -> int:
    """Each incident not taken in yet, oldest first, in a transaction of its own: locked
    (another worker on PostgreSQL skips it), checked again under the lock, then taken in."""
    # A cheap read first: an idle worker takes no write lock every 2 s (SQLite has one).
    with ctx.session(write=False) as session:
        waiting = session.scalar(select(Incident.id).where(_untaken(ctx.now)).limit(1))
    if waiting is None:
        return 0
    lib = library.load(library.directories(ctx.runbooks_dir, ctx.policy_file or None, ctx.policy))
    taken = 0
    for _ in range(BATCH):
        incident_id = None
        try:
            with ctx.session() as session:
                incident = session.scalars(
                    select(Incident)
                    .where(_untaken(ctx.now))
                    .order_by(Incident.declared_at, Incident.id)
                    .limit(1)
                    .with_for_update(skip_locked=ctx.skip_locked)
                ).first()
                if incident is None:
                    return taken
                incident_id = incident.id
                # Another worker may have committed its intake between our read and our lock.
                if session.get(IncidentIntake, incident.id) is not None:
                    continue
                take_in(session, ctx.policy, lib, incident, now=ctx.now)
                taken += 1
        except Exception:
            if incident_id is None:
                raise
            # One incident that cannot be taken in must not hold up every later one (they
            # are taken oldest first): it is marked taken, and people attach by hand.
            log.exception("runbook intake of %s failed; it is skipped", incident_id)
            _give_up(ctx, incident_id)
    return taken


def _give_up(ctx: JobContext, incident_id: str) -> None:
    with ctx.session() as session:
        if session.get(IncidentIntake, incident_id) is None:
            session.add(IncidentIntake(incident_id=incident_id, done_at=ctx.now))


JOBS: list[Job] = [Job("runbook_intake", intake, batch=BATCH, every=timedelta(seconds=2))]
