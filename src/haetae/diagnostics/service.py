"""The diagnostics' verbs: ask for a check to be run (the worker's job runs it), find a
configured check."""

from __future__ import annotations

from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.diagnostics import probes
from haetae.diagnostics.models import DiagnosticRun, ServiceCheck
from haetae.diagnostics.schemas import CheckSpec, DnsCheck, HttpCheck, TcpCheck, TlsCheck

_SPEC: TypeAdapter[CheckSpec] = TypeAdapter(CheckSpec)


def parse_spec(data: object) -> CheckSpec:
    """A check's spec from its stored or posted form (pydantic.ValidationError if bad)."""
    return _SPEC.validate_python(data)


def find_check(session: Session, slug: str) -> ServiceCheck | None:
    return session.scalars(select(ServiceCheck).where(ServiceCheck.slug == slug)).first()


def target_of(spec: CheckSpec) -> str:
    """What a check probes, as shown to people (a URL without its credentials or tokens)."""
    if isinstance(spec, HttpCheck):
        return probes.redact_url(spec.url)
    if isinstance(spec, TcpCheck | TlsCheck):
        return f"{spec.host}:{spec.port}"
    if isinstance(spec, DnsCheck):
        return spec.name
    return spec.query


def request_run(
    session: Session,
    *,
    spec: CheckSpec | None = None,
    check: ServiceCheck | None = None,
    incident_id: str | None,
    reason: str,
    by: str,
    now: datetime,
    name: str | None = None,
    analysis_id: int | None = None,
    incident_runbook_id: int | None = None,
    step_id: str | None = None,
) -> DiagnosticRun:
    """Queue one run of a configured check or of a spec; the worker's job runs it.

    Exactly one of `check` and `spec` is given.
    """
    if (check is None) == (spec is None):
        raise ValueError("give a configured check or a spec, not both")
    if check is not None:
        spec = parse_spec(check.spec)
    assert spec is not None
    run = DiagnosticRun(
        incident_id=incident_id,
        analysis_id=analysis_id,
        check_id=check.id if check is not None else None,
        incident_runbook_id=incident_runbook_id,
        step_id=step_id,
        name=name or (check.name if check is not None else f"{spec.kind} {target_of(spec)}"),
        kind=spec.kind,
        target=target_of(spec)[:1000],
        spec=spec.model_dump(mode="json"),
        timeout_seconds=spec.timeout_seconds,
        reason=reason,
        requested_by=by,
        requested_at=now,
        status="queued",
    )
    session.add(run)
    session.flush()
    return run
