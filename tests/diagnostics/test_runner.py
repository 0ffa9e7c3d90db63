"""The runner against real servers on loopback, on the run's database: queued runs probed at
once, results and timeline evidence written, secrets kept out, timeouts, refusals that never
connect, and a hanging check that leaves due pages alone in a running worker."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from haetae.clock import utcnow
from haetae.db import Database
from haetae.diagnostics import runner, service
from haetae.diagnostics.models import AllowedTarget, DiagnosticRun
from haetae.oncall import service as oncall
from haetae.oncall.schemas import RotationSpec, ScheduleSpec
from haetae.policy.schema import Policy
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare
from tests.conftest import JWT_SECRET
from tests.diagnostics.conftest import HttpTarget, serve_http
from tests.engine.test_durability import wait_until
from tests.support import people
from tests.support.server import RunningServer
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for


def allow(db: Database, *patterns: str) -> None:
    with db.session() as session:
        for pattern in patterns:
            session.add(AllowedTarget(pattern=pattern, note="", created_at=utcnow()))


def queue(db: Database, spec: dict[str, Any], incident_id: str | None = None, **kw: Any) -> int:
    with db.session() as session:
        run = service.request_run(
            session,
            spec=service.parse_spec(spec),
            incident_id=incident_id,
            reason="manual",
            by="alice",
            now=utcnow(),
            **kw,
        )
        return run.id


def runs(db: Database) -> dict[int, dict[str, Any]]:
    with db.session(write=False) as session:
        return {
            r.id: {c: getattr(r, c) for c in DiagnosticRun.__table__.columns.keys()}  # noqa: SIM118
            for r in session.scalars(select(DiagnosticRun))
        }


def run_all(db: Database, policy: Policy) -> int:
    return runner.run_now(db, policy, prometheus_url="", concurrency=50, now=utcnow())


def events(api: httpx.Client, incident_id: str) -> list[dict[str, Any]]:
    timeline = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    return [e for e in timeline if e["kind"] == "diagnostic_result"]


def test_queued_checks_run_at_once_and_their_results_are_evidence_on_the_timeline(
    api: httpx.Client,
    db: Database,
    policy: Policy,
    server: RunningServer,
    http_target: HttpTarget,
    closed_port: int,
) -> None:
    incident_id = declare(api, title="Checkout slow")["id"]
    allow(db, "127.0.0.1", "localhost")
    http_target.script = ["200", "500", "hang"]
    secret_url = http_target.url("/health?token=abc123&page=1").replace("//", "//ops:hunter2@")
    ok = queue(
        db, {"kind": "http", "url": secret_url, "expect_body": "healthy"}, incident_id, name="API"
    )
    closed = queue(db, {"kind": "tcp", "host": "127.0.0.1", "port": closed_port}, incident_id)
    dns = queue(db, {"kind": "dns", "name": "localhost", "expect": ["127.0.0.1"]}, incident_id)
    prometheus = queue(db, {"kind": "prometheus", "query": "up", "threshold": 1}, incident_id)
    # A run whose worker died holding it: its lease has passed, so it is taken again.
    orphan = queue(db, {"kind": "tcp", "host": "127.0.0.1", "port": http_target.port})
    with db.session() as session:
        session.execute(
            update(DiagnosticRun)
            .where(DiagnosticRun.id == orphan)
            .values(status="running", worker="dead", lease_until=utcnow() - timedelta(seconds=1))
        )

    assert run_all(db, policy) == 5
    found = runs(db)
    assert {found[i]["status"] for i in (ok, dns, orphan)} == {"ok"}
    assert found[closed]["status"] == "failed" and "Cannot connect" in found[closed]["summary"]
    assert found[prometheus]["status"] == "error"
    assert "No Prometheus" in found[prometheus]["summary"]
    api_run = found[ok]
    assert api_run["summary"].startswith("HTTP 200 from http://127.0.0.1:")
    assert api_run["excerpt"] == "service healthy\n"
    assert api_run["worker"] and api_run["lease_until"] is None
    assert api_run["finished_at"] >= api_run["started_at"] and api_run["latency_ms"] > 0
    # No credentials went out, and none are kept where people or logs see them.
    [(path, headers)] = [r for r in http_target.requests if r[0].startswith("/health")]
    assert "authorization" not in {h.lower() for h in headers}
    assert path == "/health?token=abc123&page=1"
    for text in (api_run["summary"], api_run["target"], str(api_run["detail"])):
        assert "hunter2" not in text and "abc123" not in text
    assert found[dns]["detail"]["addresses"][0] in ("127.0.0.1", "::1")

    evidence = events(api, incident_id)
    assert len(evidence) == 4  # the orphan belongs to no incident
    by_name = {e["data"]["name"]: e for e in evidence}
    assert by_name["API"]["data"]["status"] == "ok"
    assert by_name["API"]["data"]["latency_ms"] > 0
    assert "hunter2" not in str(by_name["API"])

    # Then the target answers 500: a failed run.
    failed = queue(db, {"kind": "http", "url": http_target.url("/health")}, incident_id)
    run_all(db, policy)
    assert runs(db)[failed]["status"] == "failed"
    assert "expected 2xx" in runs(db)[failed]["summary"]

    # Then it hangs: the check's own timeout ends the run, long before the server would.
    hung = queue(db, {"kind": "http", "url": http_target.url("/"), "timeout": "1s"}, incident_id)
    started = time.monotonic()
    run_all(db, policy)
    assert time.monotonic() - started < 10  # the server holds the request for 30 s
    result = runs(db)[hung]
    assert result["status"] == "timeout" and result["latency_ms"] >= 1000
    assert result["summary"] == f"No result from {http_target.url()} within 1 s"

    # The console shows the evidence in the reader's language.
    with console_for(server.url, db, "minji") as minji:
        minji.cookies.set("lang", "ko")
        page = minji.get(f"/incidents/{incident_id}").text
    assert "시간 초과" in page and "1초 안에" in page
    assert "응답 HTTP 500" in page and "hunter2" not in page


def test_targets_off_the_allow_list_are_refused_without_any_connection(
    api: httpx.Client, db: Database, policy: Policy, http_target: HttpTarget
) -> None:
    incident_id = declare(api, title="Probe anything")["id"]
    # An empty allow-list allows nothing.
    nothing = queue(db, {"kind": "tcp", "host": "127.0.0.1", "port": http_target.port}, incident_id)
    assert run_all(db, policy) == 1
    refused = runs(db)[nothing]
    assert refused["status"] == "refused" and refused["started_at"] == refused["finished_at"]
    assert refused["summary"] == (
        f"Not run: 127.0.0.1:{http_target.port} is not on the allow-list; an admin can add it"
    )
    assert http_target.connections == 0

    with serve_http() as elsewhere:
        allow(db, http_target.url("/allowed"))
        other_path = queue(db, {"kind": "http", "url": http_target.url("/other")}, incident_id)
        dns = queue(db, {"kind": "dns", "name": "localhost"}, incident_id)
        # Allowed, but it redirects off the list: the redirect is not followed.
        http_target.script = [f"redirect {elsewhere.url('/x')}"]
        bounced = queue(db, {"kind": "http", "url": http_target.url("/allowed/a")}, incident_id)
        run_all(db, policy)
        found = runs(db)
        assert found[other_path]["status"] == "refused" and found[dns]["status"] == "refused"
        assert found[bounced]["status"] == "error"
        assert "not on the allow-list" in found[bounced]["summary"]
        assert elsewhere.connections == 0
        assert [p for p, _ in http_target.requests] == ["/allowed/a"]

        # A redirect within the list is followed, without the cookie it set.
        http_target.script = ["redirect /allowed/b", "200"]
        followed = queue(db, {"kind": "http", "url": http_target.url("/allowed/a")})
        run_all(db, policy)
        assert runs(db)[followed]["status"] == "ok"
        assert runs(db)[followed]["detail"]["redirects"] == [http_target.url("/allowed/b")]
        last_headers = http_target.requests[-1][1]
        assert "cookie" not in {h.lower() for h in last_headers}

    statuses = [e["data"]["status"] for e in events(api, incident_id)]
    assert statuses.count("refused") == 3


def test_a_hanging_check_does_not_delay_a_page_that_falls_due(
    api: httpx.Client,
    db: Database,
    policy: Policy,
    server: RunningServer,
    http_target: HttpTarget,
    webhook: WebhookReceiver,
) -> None:
    people.make_user(
        db,
        "alice",
        webhook.url("/alice"),
        password=None,
        display_name="Alice",
        email="alice@example.com",
    )
    with db.session() as session:
        oncall.put_schedule(
            session,
            ScheduleSpec(
                id="oncall",
                name="On-call",
                rotations=[
                    RotationSpec(
                        name="primary",
                        layer="primary",
                        handoff=utcnow().replace(tzinfo=None) - timedelta(days=1),
                        participants=["alice"],
                    )
                ],
            ),
            now=utcnow(),
        )
    allow(db, "127.0.0.1")
    http_target.script = ["hang"]
    hanging = queue(db, {"kind": "http", "url": http_target.url("/slow"), "timeout": "8s"})
    worker = Worker(
        db,
        policy,
        WorkerConfig(public_url=server.url, secret=JWT_SECRET, senders=4, heartbeat_every=0.5),
    ).start()
    try:
        wait_until(lambda: runs(db)[hanging]["status"] == "running", 20, "the check to start")
        incident_id = declare(
            api, title="Payments down", business_impact="revenue", user_impact="all"
        )["id"]
        [page] = webhook.wait_for(1, timeout=30)
        assert incident_id in page.json["message"]
        # The page went out while the check still hung.
        assert runs(db)[hanging]["status"] == "running"
        wait_until(lambda: runs(db)[hanging]["status"] == "timeout", 30, "the check's timeout")
    finally:
        worker.stop()
