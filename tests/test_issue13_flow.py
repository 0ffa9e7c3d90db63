"""Issue 13's "Done when", over real HTTP with the worker: a P1 from an alert gets its shipped
runbook, its first analysis (the service's checks run against real loopback servers, within
their timeouts) and its checklists without anyone clicking, and the release CI posted before it
is on the incident's change list."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx

from haetae.clock import utcnow
from haetae.worker import Worker
from tests.alerts.conftest import am_alert, am_body, make_sender
from tests.diagnostics.conftest import HttpTarget, closed_port, http_target
from tests.support.server import RunningServer

__all__ = ["closed_port", "http_target", "make_sender"]

CHECK_TIMEOUT = 3.0


def _config(target: HttpTarget, port: int) -> str:
    return f"""\
version: 1
services:
  - {{id: payments-api, name: Payments API}}
diagnostics:
  allow: [127.0.0.1]
checks:
  - id: payments-health
    name: Payments health
    service: payments-api
    check: {{kind: http, url: "{target.url("/health")}", expect_status: 200, timeout: 3s}}
  - id: payments-db
    name: Payments DB port
    service: payments-api
    check: {{kind: tcp, host: 127.0.0.1, port: {port}, timeout: 3s}}
"""


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_p1_from_an_alert_gets_runbook_analysis_checklists_and_its_changes_unclicked(
    api: httpx.Client,
    server: RunningServer,
    worker: Worker,
    make_sender,
    http_target: HttpTarget,
    closed_port: int,
) -> None:
    applied = api.post(
        "/api/v1/apply",
        content=_config(http_target, closed_port),
        headers={"Content-Type": "application/yaml"},
    )
    assert applied.status_code == 200, applied.text

    # CI posts the release 20 minutes before the alert, with a changes integration's token.
    feed = _ok(api.post("/api/v1/integrations", json={"name": "ci", "type": "changes"}), 201)
    release = {
        "service": "payments-api",
        "kind": "deploy",
        "version": "2026.11.3",
        "author": "ci-bot",
        "at": (utcnow() - timedelta(minutes=20)).isoformat(),
        "link": "https://git.example.com/payments/-/tags/2026.11.3",
        "rollback": "kubectl rollout undo deployment/payments-api",
        "id": "pipeline-4711",
    }
    with httpx.Client(base_url=server.url, timeout=10) as ci:
        posted = ci.post(
            "/api/v1/changes", json=release, headers={"Authorization": f"Bearer {feed['token']}"}
        )
    assert posted.status_code == 201, posted.text

    sent = make_sender().alertmanager(
        am_body(am_alert("PostgresTooManyConnections", severity="P1", service="payments-api"))
    )
    assert sent.status_code < 300, sent.text
    [incident] = _ok(api.get("/api/v1/incidents"))["items"]
    inc = incident["id"]
    assert incident["severity"] == "P1" and incident["services"] == ["payments-api"]

    # Nobody clicks: the worker takes the incident in, runs its checks and writes the report.
    started = time.monotonic()
    analysis: dict[str, Any] = {}
    while time.monotonic() - started < CHECK_TIMEOUT + 5:
        worker.run_once()
        found = api.get(f"/api/v1/incidents/{inc}/analysis")
        if found.status_code == 200 and found.json()["status"] == "complete":
            analysis = found.json()
            break
        time.sleep(0.2)
    assert analysis, "no first analysis within the checks' timeouts"

    runbooks = _ok(api.get(f"/api/v1/incidents/{inc}/runbooks"))
    assert [r["runbook_id"] for r in runbooks] == ["db-pool-exhausted"]
    assert runbooks[0]["how"] == "auto"
    assert runbooks[0]["matched_by"] == ["alert:alertname=PostgresTooManyConnections"]

    report = analysis["report"]
    [component] = report["components"]
    states = {c["name"]: c["status"] for c in component["checks"]}
    assert states == {"Payments health": "ok", "Payments DB port": "failed"}
    assert report["severity"]["level"] == "P1"
    # The suggested next actions are the runbook's first pending steps, with their owner role.
    actions = report["next_actions"]
    assert actions and actions[0]["runbook_id"] == "db-pool-exhausted"
    assert http_target.requests and http_target.requests[0][0] == "/health"

    kinds = [e["kind"] for e in _ok(api.get(f"/api/v1/incidents/{inc}/timeline"))]
    for kind in ("runbook_attached", "analysis_started", "diagnostic_result", "analysis_completed"):
        assert kind in kinds, kinds

    checklists = _ok(api.get(f"/api/v1/incidents/{inc}/checklists"))
    ids = {c["id"] for c in checklists}
    assert "p1_quick" in ids and "ic" in ids, ids

    changes = _ok(api.get(f"/api/v1/incidents/{inc}/changes"))
    assert [c["version"] for c in changes["changes"]] == ["2026.11.3"]
    assert changes["changes"][0]["rollback"] == release["rollback"]
