"""The diagnostics' scheduled jobs: the certificate expiry watch, and completing first analyses.

- `analysis_complete`: an analysis whose runs have all answered, or whose deadline has passed,
  gets its report (diagnostics.analysis.complete);
- `certificate_watch`: every watched tls check is run (reason `cert_watch`, no incident) when
  it has not been for the policy's `response.certificate_watch.every`, so at once for a new
  check or a first start;
- `certificate_warnings`: the latest finished watch run of each check that says the
  certificate lapses within `followup_days` opens a Fixed Date follow-up due before it lapses,
  within `incident_days` declares an incident (seed 001 5.5's 30 and 7 days): once per
  certificate (its not_after) and threshold, as the certificate_warnings table remembers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haetae.actions import service as actions
from haetae.auth.models import User
from haetae.diagnostics import analysis
from haetae.diagnostics.models import (
    CertificateWarning,
    DiagnosticRun,
    IncidentAnalysis,
    ServiceCheck,
)
from haetae.diagnostics.service import request_run
from haetae.errors import HaetaeError
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.jobs import Job, JobContext
from haetae.people.models import Service, TeamMember
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration

log = logging.getLogger(__name__)

ACTOR = "haetae:certificate-watch"
BATCH = 50
# A watch run older than this says nothing about today's certificate.
_FRESH = timedelta(days=1)
_UNANSWERED = (*analysis.PENDING, "refused", "error", "timeout")


def complete_analyses(ctx: JobContext) -> int:
    """Complete the running analyses that are ready, a batch at a time."""
    # A cheap read first: an idle worker takes no write lock every second (SQLite has one).
    with ctx.session(write=False) as session:
        running = session.scalar(
            select(IncidentAnalysis.id).where(IncidentAnalysis.status == "running").limit(1)
        )
    if running is None:
        return 0
    with ctx.session() as session:
        pending = exists().where(
            DiagnosticRun.analysis_id == IncidentAnalysis.id,
            DiagnosticRun.status.in_(analysis.PENDING),
        )
        query = (
            select(IncidentAnalysis)
            .where(
                IncidentAnalysis.status == "running",
                or_(IncidentAnalysis.deadline_at <= ctx.now, ~pending),
            )
            .order_by(IncidentAnalysis.id)
            .limit(BATCH)
        )
        if ctx.skip_locked:
            query = query.with_for_update(skip_locked=True, of=IncidentAnalysis)
        ready = list(session.scalars(query))
        for row in ready:
            analysis.complete(session, ctx.policy, row, now=ctx.now)
        return len(ready)


def queue_certificate_checks(ctx: JobContext) -> int:
    """Run every watched tls check not looked at for `every` (and not already queued)."""
    every = parse_duration(ctx.policy.response.certificate_watch.every)
    with ctx.session() as session:
        query = (
            select(ServiceCheck)
            .where(
                ServiceCheck.watch.is_(True),
                ServiceCheck.enabled.is_(True),
                ServiceCheck.kind == "tls",
            )
            .order_by(ServiceCheck.id)
        )
        if ctx.skip_locked:
            # Two workers never queue the same check twice: the second skips it, or sees the
            # first one's run once it commits.
            query = query.with_for_update(skip_locked=True)
        checks = list(session.scalars(query))
        if not checks:
            return 0
        watched = DiagnosticRun.reason == "cert_watch"
        ids = [c.id for c in checks]
        last = dict(
            session.execute(
                select(DiagnosticRun.check_id, func.max(DiagnosticRun.requested_at))
                .where(watched, DiagnosticRun.check_id.in_(ids))
                .group_by(DiagnosticRun.check_id)
            ).all()
        )
        queued = 0
        for check in checks:
            seen = last.get(check.id)
            if seen is not None and ctx.now - seen < every:
                continue
            request_run(
                session, check=check, incident_id=None, reason="cert_watch", by=ACTOR, now=ctx.now
            )
            queued += 1
        return queued


def raise_certificate_warnings(ctx: JobContext) -> int:
    """Open the follow-ups and incidents that the latest watch runs call for; how many."""
    watch = ctx.policy.response.certificate_watch
    with ctx.session() as session:
        latest = (
            select(DiagnosticRun.check_id, func.max(DiagnosticRun.id).label("run_id"))
            .where(
                DiagnosticRun.reason == "cert_watch",
                DiagnosticRun.check_id.is_not(None),
                DiagnosticRun.finished_at >= ctx.now - _FRESH,
                DiagnosticRun.status.not_in(_UNANSWERED),
            )
            .group_by(DiagnosticRun.check_id)
            .subquery()
        )
        runs = list(
            session.scalars(select(DiagnosticRun).join(latest, DiagnosticRun.id == latest.c.run_id))
        )
        raised = 0
        for run in runs:
            expiry = _expiry(run)
            if expiry is None:
                continue
            not_after, days_left = expiry
            check = session.get(ServiceCheck, run.check_id)
            if check is None:
                continue
            for threshold in sorted({watch.followup_days, watch.incident_days}, reverse=True):
                if days_left > threshold or _warned(session, check.id, not_after, threshold):
                    continue
                if _raise(
                    session, ctx.policy, check, run, not_after, days_left, threshold, ctx.now
                ):
                    raised += 1
        return raised


def _expiry(run: DiagnosticRun) -> tuple[datetime, int] | None:
    """The certificate's not_after and whole days left, from the run's detail."""
    detail: dict[str, Any] = run.detail or {}
    raw = detail.get("not_after")
    if not isinstance(raw, str):
        return None
    try:
        not_after = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    days = detail.get("days_left")
    if not isinstance(days, int | float):
        assert run.finished_at is not None
        days = (not_after - run.finished_at).total_seconds() // 86400
    return not_after, int(days)


def _warned(session: Session, check_id: int, not_after: datetime, threshold: int) -> bool:
    found = session.scalar(
        select(CertificateWarning.id).where(
            CertificateWarning.check_id == check_id,
            CertificateWarning.not_after == not_after,
            CertificateWarning.threshold_days == threshold,
        )
    )
    return found is not None


def _raise(
    session: Session,
    policy: Policy,
    check: ServiceCheck,
    run: DiagnosticRun,
    not_after: datetime,
    days_left: int,
    threshold: int,
    now: datetime,
) -> bool:
    """One warning, in a savepoint: another worker raising it first (the unique key), or a
    board that refuses the item, leaves everything else of the pass as it is."""
    service = session.get(Service, check.service_id) if check.service_id is not None else None
    warning = CertificateWarning(
        check_id=check.id, not_after=not_after, threshold_days=threshold, created_at=now
    )
    try:
        with session.begin_nested():
            if threshold == policy.response.certificate_watch.incident_days:
                warning.incident_id = _declare(session, policy, check, service, run, days_left, now)
            else:
                warning.action_item_id = _follow_up(
                    session, policy, check, service, run, not_after, days_left, now
                )
            session.add(warning)
            session.flush()
    except IntegrityError:
        return False  # raised meanwhile by another worker
    except HaetaeError as exc:
        log.warning("certificate warning for check %s not raised: %s", check.slug, exc)
        return False
    return True


def _follow_up(
    session: Session,
    policy: Policy,
    check: ServiceCheck,
    service: Service | None,
    run: DiagnosticRun,
    not_after: datetime,
    days_left: int,
    now: datetime,
) -> int:
    """A Fixed Date follow-up due the day before the certificate lapses (today at the
    earliest), owned by the lead of the service's team when it has one."""
    due = max(now.date(), (not_after - timedelta(days=1)).date())
    item = actions.create_item(
        session,
        policy,
        title=f"Renew the TLS certificate of {run.target} (expires {not_after:%Y-%m-%d})"[:300],
        description=(
            f"The certificate watch (check {check.slug}) found {days_left} day(s) left before "
            f"the certificate of {run.target} lapses at {not_after:%Y-%m-%d %H:%M} UTC "
            "(seed 001 5.5)."
        ),
        by=ACTOR,
        now=now,
        owner=_team_lead(session, service),
        due_date=due,
        priority="high",
        class_of_service="fixed_date",
        column=policy.board.columns[0],
    )
    return item.id


def _team_lead(session: Session, service: Service | None) -> str | None:
    if service is None or service.team_id is None:
        return None
    query = (
        select(User.username)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == service.team_id, TeamMember.role == "lead")
        .order_by(TeamMember.id)
        .limit(1)
    )
    return session.scalar(query)


def incident_severity(policy: Policy) -> str:
    """`response.certificate_watch.incident_severity`, else the policy's third severity (P3 in
    the default policy), else its last."""
    chosen = policy.response.certificate_watch.incident_severity
    if chosen is not None and policy.severity(chosen) is not None:
        return chosen
    ids = [s.id for s in policy.severities]
    return ids[2] if len(ids) >= 3 else ids[-1]


def _declare(
    session: Session,
    policy: Policy,
    check: ServiceCheck,
    service: Service | None,
    run: DiagnosticRun,
    days_left: int,
    now: datetime,
) -> str:
    data = IncidentDeclare(
        title=f"TLS certificate of {run.target} expires in {days_left} day(s)"[:300],
        summary=(
            f"The certificate watch (check {check.slug}) found {days_left} day(s) left before "
            f"the certificate of {run.target} lapses. {run.summary}"
        )[:20_000],
        services=[service.slug] if service is not None else [],
        tags=["certificate-watch"],
        severity=incident_severity(policy),
        severity_reason=f"certificate watch: {days_left} day(s) left (seed 001 5.5)",
    )
    return declare_incident(session, policy, data, actor=ACTOR, now=now).id


JOBS: list[Job] = [
    Job(
        name="analysis_complete",
        run=complete_analyses,
        batch=BATCH,
        max_runs=4,
        every=timedelta(seconds=1),
    ),
    Job(name="certificate_watch", run=queue_certificate_checks, every=timedelta(minutes=1)),
    # A warning weeks ahead of an expiry need not come within seconds of its run.
    Job(name="certificate_warnings", run=raise_certificate_warnings, every=timedelta(minutes=1)),
]
