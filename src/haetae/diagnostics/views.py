"""What the diagnostics' API, CLI and console show: configured checks, runs and analyses as
plain models, and the request to run a check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.diagnostics import report
from haetae.diagnostics.models import DiagnosticRun, IncidentAnalysis, ServiceCheck
from haetae.diagnostics.schemas import CheckSpec
from haetae.inputs import Strict
from haetae.people.models import Service
from haetae.policy.schema import Policy


class RunIn(Strict):
    """Run a configured check (`check`: its id) or a spec of its own, on an incident."""

    check: str | None = Field(default=None, min_length=1, max_length=64)
    spec: CheckSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> RunIn:
        if (self.check is None) == (self.spec is None):
            raise ValueError("give either check (a configured check's id) or spec")
        return self


class CheckOut(BaseModel):
    id: str
    name: str
    service: str | None
    kind: str
    spec: dict[str, Any]
    timeout_seconds: float
    watch: bool
    enabled: bool


class RunOut(BaseModel):
    id: int
    incident_id: str | None
    analysis_id: int | None
    check: str | None
    step_id: str | None
    name: str
    kind: str
    target: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latency_ms: float | None
    summary: str
    excerpt: str
    detail: dict[str, Any]


class RunList(BaseModel):
    runs: list[RunOut]


class AnalysisOut(BaseModel):
    id: int
    incident_id: str
    status: str
    requested_by: str
    requested_at: datetime
    deadline_at: datetime
    completed_at: datetime | None
    # The report as stored (codes and data), and in the caller's language (None until done).
    report: dict[str, Any]
    rendered: dict[str, Any] | None
    locale: str


def checks(session: Session) -> list[CheckOut]:
    query = (
        select(ServiceCheck, Service.slug)
        .outerjoin(Service, Service.id == ServiceCheck.service_id)
        .order_by(ServiceCheck.slug)
    )
    return [
        CheckOut(
            id=check.slug,
            name=check.name,
            service=slug,
            kind=check.kind,
            spec=check.spec,
            timeout_seconds=check.timeout_seconds,
            watch=check.watch,
            enabled=check.enabled,
        )
        for check, slug in session.execute(query)
    ]


def run_out(session: Session, run: DiagnosticRun) -> RunOut:
    slug = session.scalar(select(ServiceCheck.slug).where(ServiceCheck.id == run.check_id))
    return run_outs(session, [run], {run.check_id: slug} if slug else {})[0]


def run_outs(
    session: Session, runs: list[DiagnosticRun], slugs: dict[int | None, str] | None = None
) -> list[RunOut]:
    if slugs is None:
        ids = {r.check_id for r in runs if r.check_id is not None}
        rows = session.execute(
            select(ServiceCheck.id, ServiceCheck.slug).where(ServiceCheck.id.in_(ids))
        )
        slugs = {check_id: slug for check_id, slug in rows}
    return [
        RunOut(
            id=r.id,
            incident_id=r.incident_id,
            analysis_id=r.analysis_id,
            check=slugs.get(r.check_id),
            step_id=r.step_id,
            name=r.name,
            kind=r.kind,
            target=r.target,
            reason=r.reason,
            status=r.status,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
            latency_ms=r.latency_ms,
            summary=r.summary,
            excerpt=r.excerpt,
            detail=r.detail or {},
        )
        for r in runs
    ]


def incident_runs(session: Session, incident_id: str, *, limit: int = 200) -> list[DiagnosticRun]:
    """An incident's runs, newest first."""
    query = (
        select(DiagnosticRun)
        .where(DiagnosticRun.incident_id == incident_id)
        .order_by(DiagnosticRun.requested_at.desc(), DiagnosticRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def analysis_out(row: IncidentAnalysis, policy: Policy, locale: str) -> AnalysisOut:
    return AnalysisOut(
        id=row.id,
        incident_id=row.incident_id,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        deadline_at=row.deadline_at,
        completed_at=row.completed_at,
        report=row.report or {},
        rendered=report.render(row.report, policy, locale) if row.status == "complete" else None,
        locale=locale,
    )
