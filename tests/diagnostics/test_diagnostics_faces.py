"""The diagnostics' faces: the API, the CLI and the incident page's Diagnostics panel run
checks on an incident, show its runs and first analysis (in Korean and English), and refuse a
target off the allow-list with 422 before anything is queued."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from haetae.clock import utcnow
from haetae.db import Database
from haetae.diagnostics.models import AllowedTarget, DiagnosticRun, ServiceCheck
from haetae.diagnostics.runner import run_now
from haetae.diagnostics.watch_jobs import complete_analyses
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.jobs import JobContext
from haetae.people.models import Service
from haetae.policy.loader import default_policy
from haetae.policy.schema import Policy
from tests.api.helpers import declare, error_code
from tests.cli.conftest import Haetae, haetae  # noqa: F401  (the fixture)
from tests.diagnostics.conftest import HttpTarget
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from


def _seed(db: Database, target: HttpTarget) -> None:
    """The allow-list holds loopback only; payments has a check of the HTTP target, and one
    check points outside the allow-list."""
    now = utcnow()
    with db.session() as session:
        session.add(AllowedTarget(pattern="127.0.0.1", created_at=now))
        service = Service(slug="payments", name="Payments", created_at=now)
        session.add(service)
        session.flush()
        specs: dict[str, dict[str, Any]] = {
            "payments-health": {"kind": "http", "url": target.url("/health"), "timeout": "3s"},
            "partner-api": {"kind": "http", "url": "https://partner.example.com/health"},
        }
        for slug, spec in specs.items():
            session.add(
                ServiceCheck(
                    slug=slug,
                    name=slug,
                    service_id=service.id,
                    kind="http",
                    spec=spec,
                    timeout_seconds=3.0,
                    created_at=now,
                    updated_at=now,
                )
            )


def _work(db: Database, policy: Policy) -> None:
    """What the worker does: run the queued checks, then complete the ready analyses."""
    run_now(db, policy, prometheus_url="", concurrency=4, now=utcnow())
    ctx = JobContext(db=db, policy=policy, now=utcnow(), skip_locked=not db.is_sqlite, timeout=20)
    complete_analyses(ctx)


def _queued(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(DiagnosticRun)) or 0)


def test_api_and_panel_run_checks_show_the_report_in_both_languages_and_refuse_other_targets(
    api: httpx.Client, db: Database, policy: Policy, server: RunningServer, http_target: HttpTarget
) -> None:
    _seed(db, http_target)
    incident_id = declare(api, services=["payments"])["id"]
    base = f"/api/v1/incidents/{incident_id}"

    checks = api.get("/api/v1/checks").json()
    assert {(c["id"], c["service"]) for c in checks} == {
        ("payments-health", "payments"),
        ("partner-api", "payments"),
    }
    refused = [
        api.post(f"{base}/diagnostics", json={"check": "partner-api"}),
        api.post(
            f"{base}/diagnostics", json={"spec": {"kind": "tcp", "host": "10.0.0.9", "port": 22}}
        ),
    ]
    for response in refused:
        assert response.status_code == 422, response.text
        assert error_code(response) == "TARGET_NOT_ALLOWED"
    unknown = api.post(f"{base}/diagnostics", json={"check": "nope"})
    assert (unknown.status_code, error_code(unknown)) == (422, "CHECK_NOT_FOUND")
    assert _queued(db) == 0
    assert api.get(f"{base}/analysis").status_code == 404

    queued = api.post(f"{base}/diagnostics", json={"check": "payments-health"})
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    rerun = api.post(f"{base}/analysis")
    assert rerun.status_code == 202 and rerun.json()["status"] == "running"

    with console_for(server.url, db, "kim", locale="ko") as kim:
        pending = kim.get(f"/incidents/{incident_id}").text
        assert (
            'hx-get="/incidents/' + incident_id + '/diagnostics" hx-trigger="every 2s"' in pending
        )

        _work(db, policy)

        runs = api.get(f"{base}/diagnostics").json()["runs"]
        # Newest first: the analysis ran both payments checks; the runner refused the outside one.
        assert [(r["reason"], r["check"], r["status"]) for r in runs] == [
            ("first_analysis", "payments-health", "ok"),
            ("first_analysis", "partner-api", "refused"),
            ("manual", "payments-health", "ok"),
        ]
        one = api.get(f"/api/v1/diagnostics/{runs[2]['id']}").json()
        assert one["check"] == "payments-health" and one["latency_ms"] is not None
        report = api.get(f"{base}/analysis").json()
        assert report["status"] == "complete"
        assert report["report"]["severity"]["assessment"] == "healthy"
        assert report["rendered"]["headings"]["title"] == "Initial analysis report"

        korean = kim.get(f"/incidents/{incident_id}/diagnostics").text
        assert "장애 초기 보고서" in korean and "영향받는 구성 요소" in korean
        assert "hx-trigger" not in korean  # nothing pending: the panel stops asking
    with console_for(server.url, db, "alice") as alice:
        page = alice.get(f"/incidents/{incident_id}").text
        assert "Initial analysis report" in page and "Suggested next actions" in page
        token = csrf_from(page)
        form = {"csrf_token": token, "check": "partner-api"}
        refused_form = alice.post(f"/incidents/{incident_id}/diagnostics/run", data=form)
        assert refused_form.status_code == 422
        assert "not on the allow-list" in refused_form.text
        form["check"] = "payments-health"
        accepted = alice.post(f"/incidents/{incident_id}/diagnostics/run", data=form)
        assert accepted.status_code == 303
    assert _queued(db) == 4


def test_cli_runs_checks_and_shows_the_analysis_and_refuses_other_targets(
    haetae: Haetae,  # noqa: F811  (the fixture imported above)
    http_target: HttpTarget,
) -> None:
    db = Database(haetae.url)
    policy = default_policy()
    try:
        _seed(db, http_target)
        with db.session() as session:
            data = IncidentDeclare(
                title="Payments down", services=["payments"], severity="P1", severity_reason="test"
            )
            incident_id = declare_incident(session, policy, data, actor="cli", now=utcnow()).id

        refused = haetae(f"diagnose run {incident_id} --tcp 10.0.0.9:22", expect=3)
        assert "TARGET_NOT_ALLOWED" in refused.err
        haetae(f"diagnose run {incident_id} --check partner-api", expect=3)
        assert _queued(db) == 0
        haetae(f"diagnose run {incident_id} --http {http_target.url('/health')}")
        haetae(f"diagnose analysis {incident_id} --rerun")
        _work(db, policy)

        listed = haetae(f"diagnose list {incident_id} --json").json()
        assert [r["reason"] for r in listed] == ["first_analysis", "first_analysis", "manual"]
        shown = haetae(f"diagnose show {listed[2]['id']}").out
        assert shown.startswith(f"#{listed[2]['id']}") and "service healthy" in shown
        assert "payments-health" in haetae("checks list").out
        korean = haetae(f"diagnose analysis {incident_id}", HAETAE_LOCALE="ko").out
        assert "장애 초기 보고서" in korean and "Payments [정상]" in korean
    finally:
        db.dispose()
