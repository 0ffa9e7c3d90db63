"""Running a check on an incident on demand (the API, the CLI and the incident page): the
configured check or spec is refused early when its target is off the allow-list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.diagnostics import allow
from haetae.diagnostics.models import AllowedTarget, DiagnosticRun
from haetae.diagnostics.schemas import CheckSpec
from haetae.diagnostics.service import find_check, parse_spec, request_run
from haetae.errors import HaetaeError
from haetae.incidents.service import get_incident


def allowed_patterns(session: Session) -> list[str]:
    return list(session.scalars(select(AllowedTarget.pattern)))


def check_allowed(session: Session, spec: CheckSpec, *, prometheus_url: str) -> None:
    """422 TARGET_NOT_ALLOWED when the allow-list refuses the spec's target. The runner asks
    again before probing; this answers the person at once."""
    verdict = allow.is_allowed(allowed_patterns(session), spec, prometheus_url=prometheus_url)
    if not verdict:
        raise HaetaeError(
            "TARGET_NOT_ALLOWED",
            verdict.reason or "The target is not on the diagnostics allow-list.",
            target=verdict.target,
        )


def run_check(
    session: Session,
    incident_id: str,
    *,
    check: str | None = None,
    spec: CheckSpec | None = None,
    by: str,
    now: datetime,
    prometheus_url: str,
) -> DiagnosticRun:
    """Queue one run (reason `manual`) of a configured check (by id) or a spec on an incident."""
    incident = get_incident(session, incident_id)
    if check is not None:
        found = find_check(session, check)
        if found is None:
            raise HaetaeError("CHECK_NOT_FOUND", f"No configured check has the id {check}.")
        check_allowed(session, parse_spec(found.spec), prometheus_url=prometheus_url)
        return request_run(
            session, check=found, incident_id=incident.id, reason="manual", by=by, now=now
        )
    if spec is None:
        raise HaetaeError("VALIDATION_ERROR", "give a configured check's id or a spec")
    check_allowed(session, spec, prometheus_url=prometheus_url)
    return request_run(session, spec=spec, incident_id=incident.id, reason="manual", by=by, now=now)
