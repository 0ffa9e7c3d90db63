"""Seed 002 2.1's automated first analysis: on declaration, run the affected services' checks
and assemble the initial report (severity assessment, affected components, findings and the
matched runbooks' suggested next actions).

The report is stored as data (codes, names, numbers, the runbooks' two-language texts) and put
into words in the reader's language by `diagnostics.report`, never as prose in one language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.diagnostics.models import DiagnosticRun, IncidentAnalysis, ServiceCheck
from haetae.diagnostics.schemas import CheckSpec
from haetae.diagnostics.service import find_check, parse_spec, request_run
from haetae.incidents.models import Incident
from haetae.people.models import Service
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration
from haetae.runbooks.models import IncidentRunbook, RunbookStep
from haetae.timeline import service as timeline

REPORT_VERSION = 1
PENDING = ("queued", "running")
# A check in these states says its component is failing; `no_answer` is a run still queued or
# running when the analysis' deadline passed.
FAILING = ("failed", "error", "timeout")
# The next pending steps of each runbook the report suggests.
NEXT_STEPS = 3


def request_first_analysis(
    session: Session, policy: Policy, incident: Incident, *, by: str, now: datetime
) -> IncidentAnalysis | None:
    """Start the first analysis of an incident: queue every enabled configured check of its
    services and the checks of its runbooks' first steps. With nothing to run, the report
    (severity, components, next actions, no findings) is made at once. The intake job calls it
    for the severities the policy names; it never returns None now, the type stays for callers
    written against the stub."""
    deadline = now + parse_duration(policy.response.first_analysis.timeout)
    analysis = IncidentAnalysis(
        incident_id=incident.id,
        status="running",
        requested_by=by,
        requested_at=now,
        deadline_at=deadline,
        report={},
    )
    session.add(analysis)
    session.flush()
    runs = _queue_checks(session, incident, analysis, by=by, now=now)
    timeline.record(
        session,
        incident.id,
        kind="analysis_started",
        actor=by,
        at=now,
        summary=f"First analysis started: {len(runs)} check(s)",
        analysis_id=analysis.id,
        checks=len(runs),
        deadline_at=deadline.isoformat(),
    )
    if not runs:
        complete(session, policy, analysis, now=now)
    return analysis


def request_on_demand(
    session: Session, policy: Policy, incident: Incident, *, by: str, now: datetime
) -> IncidentAnalysis:
    """Run the analysis again (from the incident page, the API or the CLI): a new report, the
    earlier ones kept."""
    analysis = request_first_analysis(session, policy, incident, by=by, now=now)
    assert analysis is not None
    return analysis


def _queue_checks(
    session: Session, incident: Incident, analysis: IncidentAnalysis, *, by: str, now: datetime
) -> list[DiagnosticRun]:
    runs: list[DiagnosticRun] = []
    queued: set[int] = set()

    def queue(
        check: ServiceCheck | None = None,
        spec: CheckSpec | None = None,
        name: str | None = None,
        attached: IncidentRunbook | None = None,
        step_id: str | None = None,
    ) -> None:
        run = request_run(
            session,
            check=check,
            spec=spec,
            name=name,
            incident_id=incident.id,
            reason="first_analysis",
            by=by,
            now=now,
            analysis_id=analysis.id,
            incident_runbook_id=attached.id if attached is not None else None,
            step_id=step_id,
        )
        runs.append(run)

    for check in service_checks(session, incident.services):
        queued.add(check.id)
        queue(check=check)
    for attached in attached_runbooks(session, incident.id):
        step = _first_step_with_check(attached.snapshot)
        if step is None:
            continue
        step_id, ref = str(step.get("id")), step["check"]
        if isinstance(ref, str):
            found = find_check(session, ref)
            if found is None or not found.enabled or found.id in queued:
                continue
            queued.add(found.id)
            queue(check=found, attached=attached, step_id=step_id)
            continue
        try:
            spec = parse_spec(ref)
        except ValidationError:
            continue  # `runbook check` reports it; an incident's analysis goes on without it
        queue(spec=spec, name=_plain(step.get("title")), attached=attached, step_id=step_id)
    return runs


def service_checks(session: Session, services: list[str]) -> list[ServiceCheck]:
    """The enabled configured checks of these services (slugs), by service then name."""
    if not services:
        return []
    query = (
        select(ServiceCheck)
        .join(Service, Service.id == ServiceCheck.service_id)
        .where(Service.slug.in_(services), ServiceCheck.enabled.is_(True))
        .order_by(Service.slug, ServiceCheck.name, ServiceCheck.id)
    )
    return list(session.scalars(query))


def attached_runbooks(session: Session, incident_id: str) -> list[IncidentRunbook]:
    query = (
        select(IncidentRunbook)
        .where(IncidentRunbook.incident_id == incident_id)
        .order_by(IncidentRunbook.attached_at, IncidentRunbook.id)
    )
    return list(session.scalars(query))


def _first_step_with_check(snapshot: dict[str, Any]) -> dict[str, Any] | None:
    """The runbook's first step carrying a check: what a responder would run first."""
    for step in snapshot.get("steps") or []:
        if isinstance(step, dict) and step.get("check"):
            return step
    return None


def _plain(text: Any) -> str | None:
    """A run's name from a step title ({ko, en} or text): the English, else any."""
    if isinstance(text, str):
        return text[:200]
    if isinstance(text, dict) and text:
        return str(text.get("en") or next(iter(text.values())))[:200]
    return None


# Completing


def runs_of(session: Session, analysis_id: int) -> list[DiagnosticRun]:
    query = (
        select(DiagnosticRun)
        .where(DiagnosticRun.analysis_id == analysis_id)
        .order_by(DiagnosticRun.id)
    )
    return list(session.scalars(query))


def is_ready(analysis: IncidentAnalysis, runs: list[DiagnosticRun], now: datetime) -> bool:
    """Every run has answered, or the deadline has passed."""
    return now >= analysis.deadline_at or all(r.status not in PENDING for r in runs)


def complete(
    session: Session, policy: Policy, analysis: IncidentAnalysis, *, now: datetime
) -> None:
    """Assemble the report from the runs as they stand (a run still pending is reported as no
    answer within the timeout) and put it on the timeline."""
    incident = session.get(Incident, analysis.incident_id)
    assert incident is not None
    runs = runs_of(session, analysis.id)
    findings = [_finding(run) for run in runs]
    components = _components(session, incident, runs)
    severity = _assessment(incident, findings, components)
    report = {
        "version": REPORT_VERSION,
        "incident_id": incident.id,
        "started_at": incident.started_at.isoformat(),
        "requested_at": analysis.requested_at.isoformat(),
        "completed_at": now.isoformat(),
        "timed_out": any(f["status"] == "no_answer" for f in findings),
        "severity": severity,
        "components": components,
        "findings": findings,
        "next_actions": _next_actions(session, incident.id),
    }
    analysis.report = report
    analysis.status = "complete"
    analysis.completed_at = now
    counts = severity["counts"]
    timeline.record(
        session,
        incident.id,
        kind="analysis_completed",
        actor="haetae",
        at=now,
        summary=(
            f"First analysis: {counts['ok']} ok, {counts['failing']} failing, "
            f"{counts['warning']} warning, {counts['no_answer']} no answer"
            + (f"; down: {', '.join(severity['down'])}" if severity["down"] else "")
        ),
        analysis_id=analysis.id,
        assessment=severity["assessment"],
        down=severity["down"],
        counts=counts,
    )


def _finding(run: DiagnosticRun) -> dict[str, Any]:
    status = "no_answer" if run.status in PENDING else run.status
    return {
        "run_id": run.id,
        "name": run.name,
        "kind": run.kind,
        "target": run.target,
        "check_id": run.check_id,
        "step_id": run.step_id,
        "status": status,
        "latency_ms": run.latency_ms,
        "summary": run.summary if status != "no_answer" else "",
    }


def _state(statuses: list[str]) -> str:
    """A component's state from its checks' statuses; a refused check (off the allow-list)
    ran nowhere and says nothing."""
    if not statuses:
        return "unchecked"
    statuses = [s for s in statuses if s != "refused"]
    if not statuses:
        return "unknown"
    failing = [s for s in statuses if s in FAILING]
    if failing and len(failing) == len(statuses):
        return "down"
    if failing or "warning" in statuses:
        return "degraded"
    if all(s == "ok" for s in statuses):
        return "healthy"
    return "unknown"  # some gave no answer


def _components(
    session: Session, incident: Incident, runs: list[DiagnosticRun]
) -> list[dict[str, Any]]:
    """The incident's services, each with the state its configured checks say."""
    by_check: dict[int, DiagnosticRun] = {r.check_id: r for r in runs if r.check_id is not None}
    names = dict(
        session.execute(
            select(Service.slug, Service.name).where(Service.slug.in_(incident.services))
        ).all()
    )
    checks_of: dict[str, list[dict[str, Any]]] = {slug: [] for slug in incident.services}
    service_of = dict(
        session.execute(
            select(ServiceCheck.id, Service.slug)
            .join(Service, Service.id == ServiceCheck.service_id)
            .where(ServiceCheck.id.in_(list(by_check)))
        ).all()
    )
    for check_id, run in by_check.items():
        slug = service_of.get(check_id)
        if slug in checks_of:
            status = "no_answer" if run.status in PENDING else run.status
            checks_of[slug].append({"name": run.name, "status": status, "run_id": run.id})
    return [
        {
            "service": slug,
            "name": names.get(slug, slug),
            "state": _state([c["status"] for c in checks]),
            "checks": checks,
        }
        for slug, checks in checks_of.items()
    ]


def _assessment(
    incident: Incident, findings: list[dict[str, Any]], components: list[dict[str, Any]]
) -> dict[str, Any]:
    """The incident's severity and what the findings suggest: a component all of whose checks
    fail is down (outage); some failing or warning checks, degraded; every check passing, the
    cause may lie outside what is checked; no answers, nothing to say yet."""
    statuses = [f["status"] for f in findings]
    counts = {
        "total": len(statuses),
        "ok": statuses.count("ok"),
        "warning": statuses.count("warning"),
        "failing": sum(1 for s in statuses if s in FAILING),
        "no_answer": statuses.count("no_answer"),
        "refused": statuses.count("refused"),
    }
    down = [c["service"] for c in components if c["state"] == "down"]
    if down:
        assessment = "outage"
    elif counts["failing"] or counts["warning"]:
        assessment = "degraded"
    elif counts["ok"] and counts["ok"] == counts["total"] - counts["refused"]:
        assessment = "healthy"
    else:
        assessment = "inconclusive"
    return {
        "level": incident.severity,
        "assessment": assessment,
        "down": down,
        "counts": counts,
    }


def _next_actions(session: Session, incident_id: str) -> list[dict[str, Any]]:
    """Each attached runbook's next pending steps, with their owner role."""
    actions: list[dict[str, Any]] = []
    for attached in attached_runbooks(session, incident_id):
        settled = set(
            session.scalars(
                select(RunbookStep.step_id).where(
                    RunbookStep.incident_runbook_id == attached.id,
                    RunbookStep.status.in_(("done", "skipped")),
                )
            )
        )
        snapshot = attached.snapshot
        pending = [
            s
            for s in snapshot.get("steps") or []
            if isinstance(s, dict) and s.get("id") not in settled
        ]
        for step in pending[:NEXT_STEPS]:
            actions.append(
                {
                    "runbook_id": attached.runbook_id,
                    "runbook_title": snapshot.get("title") or attached.runbook_id,
                    "step_id": step.get("id"),
                    "title": step.get("title") or step.get("id"),
                    "owner": step.get("owner"),
                    "command": step.get("command"),
                }
            )
    return actions


def latest(session: Session, incident_id: str) -> IncidentAnalysis | None:
    query = (
        select(IncidentAnalysis)
        .where(IncidentAnalysis.incident_id == incident_id)
        .order_by(IncidentAnalysis.requested_at.desc(), IncidentAnalysis.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()
