"""The first analysis of an incident (seed 002 2.1) and the certificate watch (seed 001 5.5),
with the checks run by the real runner against real loopback servers."""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.auth.models import User
from haetae.clock import utcnow
from haetae.db import Database
from haetae.diagnostics import analysis, report
from haetae.diagnostics.models import (
    AllowedTarget,
    CertificateWarning,
    DiagnosticRun,
    IncidentAnalysis,
    ServiceCheck,
)
from haetae.diagnostics.runner import run_now
from haetae.diagnostics.watch_jobs import (
    complete_analyses,
    queue_certificate_checks,
    raise_certificate_warnings,
)
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.jobs import JobContext
from haetae.people.models import Service, Team, TeamMember
from haetae.policy.schema import Policy
from haetae.runbooks.models import IncidentRunbook, RunbookStep
from haetae.timeline.models import TimelineEvent
from tests.diagnostics.conftest import HttpTarget, TlsServer, leaf_context
from tests.support.people import make_user

RUNBOOK: dict[str, Any] = {
    "id": "api-down",
    "title": {"ko": "API 서버 다운", "en": "API server down"},
    "steps": [
        {
            "id": "health",
            "title": {"ko": "헬스 체크 확인", "en": "Check the health endpoint"},
            "owner": "oncall_engineer",
            "check": {"kind": "tcp", "host": "127.0.0.1", "port": 1, "timeout": "3s"},
        },
        {
            "id": "logs",
            "title": {"ko": "에러 로그 확인", "en": "Read the error logs"},
            "owner": "oncall_engineer",
            "command": "kubectl logs deploy/api --since=15m",
        },
        {
            "id": "restart",
            "title": {"ko": "서버 재시작", "en": "Restart the server"},
            "owner": "ops_engineer",
        },
    ],
}


def _ctx(db: Database, policy: Policy, now: datetime) -> JobContext:
    return JobContext(db=db, policy=policy, now=now, skip_locked=not db.is_sqlite, timeout=20)


def _service(session: Session, slug: str, team_id: int | None = None) -> Service:
    service = Service(slug=slug, name=slug.title(), team_id=team_id, created_at=utcnow())
    session.add(service)
    session.flush()
    return service


def _check(
    session: Session, slug: str, service: Service, spec: dict[str, Any], **extra: Any
) -> ServiceCheck:
    now = utcnow()
    check = ServiceCheck(
        slug=slug,
        name=slug,
        service_id=service.id,
        kind=spec["kind"],
        spec=spec,
        timeout_seconds=3.0,
        created_at=now,
        updated_at=now,
        **extra,
    )
    session.add(check)
    session.flush()
    return check


def test_p1_gets_its_first_analysis_with_findings_and_runbook_next_actions(
    db: Database, policy: Policy, http_target: HttpTarget, closed_port: int
) -> None:
    start = utcnow()
    with db.session() as session:
        session.add(AllowedTarget(pattern="127.0.0.1", created_at=start))
        payments = _service(session, "payments")
        _service(session, "ledger")  # named by the incident, no checks
        _check(
            session,
            "payments-health",
            payments,
            {"kind": "http", "url": http_target.url("/health"), "expect_status": 200},
        )
        _check(
            session,
            "payments-port",
            payments,
            {"kind": "tcp", "host": "127.0.0.1", "port": closed_port},
        )
        data = IncidentDeclare(
            title="Payments API down",
            services=["payments", "ledger"],
            severity="P1",
            severity_reason="all payments fail",
        )
        incident = declare_incident(session, policy, data, actor="alice", now=start)
        # The runbook points its first step at the HTTP target's port: queued beside the
        # service checks; its first step is done already, so the next actions start after it.
        snapshot = {**RUNBOOK, "steps": [dict(s) for s in RUNBOOK["steps"]]}
        snapshot["steps"][0]["check"] = {
            "kind": "tcp",
            "host": "127.0.0.1",
            "port": http_target.port,
        }
        attached = IncidentRunbook(
            incident_id=incident.id,
            runbook_id="api-down",
            snapshot=snapshot,
            digest="0" * 64,
            how="auto",
            matched_by=["service:payments"],
            attached_by="haetae",
            attached_at=start,
        )
        session.add(attached)
        session.flush()
        session.add(
            RunbookStep(
                incident_runbook_id=attached.id, step_id="health", status="done", by="bob", at=start
            )
        )
        started = analysis.request_first_analysis(session, policy, incident, by="haetae", now=start)
        assert started is not None
        incident_id, analysis_id = incident.id, started.id

    clock = time.monotonic()
    assert run_now(db, policy, prometheus_url="", concurrency=4, now=utcnow()) == 3
    assert complete_analyses(_ctx(db, policy, utcnow())) == 1
    assert time.monotonic() - clock < 3 + 1  # within the checks' timeouts

    with db.session(write=False) as session:
        row = session.get(IncidentAnalysis, analysis_id)
        assert row is not None and row.status == "complete"
        kinds = list(
            session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.incident_id == incident_id)
                .order_by(TimelineEvent.id)
            )
        )
        assert kinds.index("analysis_started") < kinds.index("analysis_completed")
        stored = row.report
    findings = {f["name"]: f for f in stored["findings"]}
    assert findings["payments-health"]["status"] == "ok"
    assert findings["payments-health"]["latency_ms"] is not None
    assert findings["payments-port"]["status"] in ("failed", "error")
    assert findings["Check the health endpoint"]["status"] == "ok"  # the runbook step's check
    components = {c["service"]: c for c in stored["components"]}
    assert components["payments"]["state"] == "degraded"
    assert components["ledger"]["state"] == "unchecked"
    assert stored["severity"]["level"] == "P1"
    assert stored["severity"]["assessment"] == "degraded"
    assert [(a["step_id"], a["owner"]) for a in stored["next_actions"]] == [
        ("logs", "oncall_engineer"),
        ("restart", "ops_engineer"),
    ]
    korean = report.render(stored, policy, "ko")
    english = report.render(stored, policy, "en")
    assert korean["headings"]["title"] != english["headings"]["title"]
    assert korean["next_actions"][0]["step"] == "에러 로그 확인"
    assert english["next_actions"][0]["step"] == "Read the error logs"

    # A rerun whose checks never answer is reported at its deadline as no answer.
    with db.session() as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        again = analysis.request_on_demand(session, policy, found, by="bob", now=utcnow())
        again_id, deadline = again.id, again.deadline_at
    assert complete_analyses(_ctx(db, policy, deadline - timedelta(seconds=1))) == 0
    assert complete_analyses(_ctx(db, policy, deadline)) == 1
    with db.session(write=False) as session:
        late = session.get(IncidentAnalysis, again_id)
        assert late is not None
        assert {f["status"] for f in late.report["findings"]} == {"no_answer"}
        assert late.report["severity"]["assessment"] == "inconclusive"


def test_certificate_watch_opens_one_follow_up_at_30_days_and_one_incident_at_7(
    db: Database, policy: Policy, tls_server: tuple[TlsServer, dict[str, ssl.SSLContext]]
) -> None:
    server, contexts = tls_server
    now = utcnow()
    soon = (now + timedelta(days=20)).replace(microsecond=0)
    lapsing = (now + timedelta(days=5)).replace(microsecond=0)
    contexts["soon.test"] = leaf_context(server.ca, "soon.test", soon)
    contexts["lapsing.test"] = leaf_context(server.ca, "lapsing.test", lapsing)
    lead_id = make_user(db, "lena")
    with db.session() as session:
        session.add(AllowedTarget(pattern="127.0.0.1", created_at=now))
        team = Team(slug="web", name="Web", created_at=now)
        session.add(team)
        session.flush()
        session.add(TeamMember(team_id=team.id, user_id=lead_id, role="lead"))
        web = _service(session, "web", team.id)
        for name in ("soon.test", "lapsing.test"):
            spec = {"kind": "tls", "host": "127.0.0.1", "port": server.port, "server_name": name}
            _check(session, name.replace(".", "-"), web, spec, watch=True)

    def watch_pass(at: datetime) -> tuple[int, int]:
        queued = queue_certificate_checks(_ctx(db, policy, at))
        run_now(db, policy, prometheus_url="", concurrency=4, now=at)
        return queued, raise_certificate_warnings(_ctx(db, policy, at))

    assert watch_pass(now) == (2, 3)  # two follow-ups (20 and 5 days left) and one incident
    assert watch_pass(now + timedelta(minutes=5)) == (0, 0)  # looked at within `every`
    assert watch_pass(now + timedelta(hours=7)) == (2, 0)  # looked at again; same certificates

    with db.session(write=False) as session:
        items = list(session.scalars(select(ActionItem).order_by(ActionItem.id)))
        assert len(items) == 2
        for item in items:
            assert item.class_of_service == "fixed_date"
            assert item.owner == session.scalar(select(User.username).where(User.id == lead_id))
            assert item.due_date is not None
        assert {i.due_date for i in items} == {
            (soon - timedelta(days=1)).date(),
            (lapsing - timedelta(days=1)).date(),
        }
        incidents = list(session.scalars(select(Incident)))
        assert len(incidents) == 1
        assert incidents[0].severity == "P3"  # the default policy's third severity
        assert incidents[0].services == ["web"]
        assert "127.0.0.1" in incidents[0].title
        warnings = session.scalars(select(CertificateWarning)).all()
        assert sorted((w.threshold_days, w.not_after.astimezone(UTC)) for w in warnings) == [
            (7, lapsing),
            (30, lapsing),
            (30, soon),
        ]
        runs = session.scalar(
            select(func.count())
            .select_from(DiagnosticRun)
            .where(DiagnosticRun.reason == "cert_watch")
        )
        assert runs == 4
