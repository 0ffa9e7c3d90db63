"""Runbooks on incidents: an alert's labels attach the right runbook through the worker's intake,
people attach, tick and judge runbooks through the API and the CLI with every change on the
timeline and stable refusals, and migration 0017 counts old incidents as taken in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from haetae.clock import utcnow
from haetae.db import Database
from haetae.diagnostics.models import DiagnosticRun
from haetae.incidents import service as incidents
from haetae.incidents.schemas import IncidentDeclare
from haetae.migrations import downgrade, upgrade, upgrade_to_head
from haetae.policy.schema import Policy
from haetae.runbooks.models import IncidentIntake, IncidentRunbook
from haetae.worker import Worker, WorkerConfig
from tests.alerts.conftest import am_alert, am_body, make_sender
from tests.api.helpers import declare
from tests.cli.conftest import Haetae, haetae
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import browser, page, shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer

__all__ = ["browser", "haetae", "make_sender", "page"]

POOL = """\
---
id: rbt-pool
title: {ko: 테스트 커넥션 풀 고갈, en: Test pool exhausted}
symptoms:
  - {ko: "API 타임아웃", en: "API timeouts"}
match:
  alerts:
    - {alertname: "~RbtPool.*Exhausted", severity: critical}
steps:
  - id: count
    title: {ko: 연결 수 확인, en: Count connections}
    owner: oncall_engineer
    command: "psql -c 'SELECT count(*) FROM pg_stat_activity;'"
  - id: probe
    title: {ko: 상태 확인, en: Probe health}
    check: {kind: http, url: "http://127.0.0.1:9/health", expect_status: 200}
  - id: named
    title: {en: Named check}
    check: rbt-no-such-check
verify:
  - id: healthy
    title: {ko: 정상 응답 확인, en: Answers normally}
---
Test runbook.
"""
MANUAL = """\
---
id: rbt-manual
title: {ko: 수동 런북, en: Manual runbook}
match:
  tags: [rbt-never-used-tag]
steps:
  - {id: first, title: {ko: 첫 단계, en: First step}}
  - {id: second, title: {ko: 둘째 단계, en: Second step}}
---
"""


@pytest.fixture(scope="module")
def runbooks_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runbooks")
    (folder / "pool.md").write_text(POOL, encoding="utf-8")
    (folder / "manual.md").write_text(MANUAL, encoding="utf-8")
    return folder


@pytest.fixture
def library_server(server: RunningServer, runbooks_dir: Path) -> Iterator[RunningServer]:
    """The suite's server reading the test's runbook directory (RUNBOOKS_DIR) meanwhile."""
    state = server.app.state
    kept = state.settings
    state.settings = kept.model_copy(update={"runbooks_dir": str(runbooks_dir)})
    try:
        yield server
    finally:
        state.settings = kept


@pytest.fixture
def intake_worker(db: Database, policy: Policy, server: RunningServer, runbooks_dir: Path):
    running = Worker(
        db,
        policy,
        WorkerConfig(
            public_url=server.url, secret=JWT_SECRET, senders=2, runbooks_dir=str(runbooks_dir)
        ),
    )
    yield running
    running.stop()


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_an_alert_attaches_its_runbook_and_people_tick_steps_judge_and_detach(
    api: httpx.Client, library_server: RunningServer, make_sender, intake_worker: Worker, db
) -> None:
    sender = make_sender()
    sent = sender.alertmanager(
        am_body(am_alert("RbtPoolDBExhausted", severity="critical", service="rbt-payments"))
    )
    assert sent.status_code < 300, sent.text
    [incident] = api.get("/api/v1/incidents").json()["items"]
    inc = incident["id"]
    assert api.get(f"/api/v1/incidents/{inc}/runbooks").json() == []

    intake_worker.run_once()
    attached = api.get(f"/api/v1/incidents/{inc}/runbooks").json()
    ours = [r for r in attached if r["runbook_id"] == "rbt-pool"]
    assert [r["runbook_id"] for r in attached if r["runbook_id"].startswith("rbt-")] == ["rbt-pool"]
    [pool] = ours
    assert pool["how"] == "auto" and pool["attached_by"] == "haetae:intake"
    assert pool["matched_by"] == ["alert:alertname=~RbtPool.*Exhausted,severity=critical"]
    assert [s["id"] for s in pool["steps"]] == ["count", "probe", "named", "healthy"]
    assert [s["verify"] for s in pool["steps"]] == [False, False, False, True]
    assert pool["progress"] == {"total": 4, "done": 0, "skipped": 0, "pending": 4}
    # The intake takes an incident in once: another cycle attaches nothing twice.
    intake_worker.run_once()
    assert len(api.get(f"/api/v1/incidents/{inc}/runbooks").json()) == len(attached)

    base = f"/api/v1/incidents/{inc}/runbooks"
    manual = api.post(base, json={"runbook_id": "rbt-manual"})
    assert manual.status_code == 201, manual.text
    assert manual.json()["how"] == "manual" and manual.json()["matched_by"] == []
    _error(api.post(base, json={"runbook_id": "rbt-manual"}), 409, "RUNBOOK_ALREADY_ATTACHED")
    _error(api.post(base, json={"runbook_id": "rbt-nope"}), 404, "RUNBOOK_NOT_FOUND")
    _error(api.post(base, json={}), 422, "VALIDATION_ERROR")
    _error(
        api.post("/api/v1/incidents/INC-NOPE/runbooks", json={"runbook_id": "rbt-manual"}),
        404,
        "NOT_FOUND",
    )

    done = api.patch(f"{base}/rbt-pool/steps/count", json={"status": "done", "note": "412 연결"})
    assert done.status_code == 200, done.text
    [count] = [s for s in done.json()["steps"] if s["id"] == "count"]
    assert (count["status"], count["note"]) == ("done", "412 연결")
    assert count["by"] and count["at"]
    skipped = api.patch(f"{base}/rbt-pool/steps/healthy", json={"status": "skipped"})
    assert skipped.json()["progress"] == {"total": 4, "done": 1, "skipped": 1, "pending": 2}
    undone = api.patch(f"{base}/rbt-pool/steps/healthy", json={"status": "pending"})
    assert undone.json()["progress"]["skipped"] == 0
    _error(
        api.patch(f"{base}/rbt-pool/steps/nope", json={"status": "done"}),
        404,
        "RUNBOOK_STEP_NOT_FOUND",
    )
    _error(
        api.patch(f"{base}/rbt-pool/steps/count", json={"status": "finished"}),
        422,
        "VALIDATION_ERROR",
    )
    _error(
        api.patch(f"{base}/rbt-other/steps/count", json={"status": "done"}),
        404,
        "RUNBOOK_NOT_FOUND",
    )

    queued = api.post(f"{base}/rbt-pool/steps/probe/check")
    assert queued.status_code == 202, queued.text
    with db.session() as session:
        run = session.get(DiagnosticRun, queued.json()["run_id"])
        assert run is not None and run.status == "queued" and run.reason == "runbook_step"
        assert (run.incident_id, run.step_id, run.kind) == (inc, "probe", "http")
        assert run.incident_runbook_id == pool["id"]
    _error(api.post(f"{base}/rbt-pool/steps/named/check"), 422, "CHECK_NOT_FOUND")
    _error(api.post(f"{base}/rbt-pool/steps/count/check"), 422, "RUNBOOK_STEP_HAS_NO_CHECK")

    judged = api.put(f"{base}/rbt-pool/accuracy", json={"accuracy": "partly", "note": "step 2"})
    assert judged.status_code == 200, judged.text
    assert judged.json()["accuracy"] == "partly" and judged.json()["accuracy_note"] == "step 2"
    _error(
        api.put(f"{base}/rbt-pool/accuracy", json={"accuracy": "great"}), 422, "VALIDATION_ERROR"
    )
    # The post-mortem drafted now reads the runbooks: attached among the key events, and one
    # that partly worked under what went wrong.
    pm = api.post("/api/v1/postmortems", json={"incident_id": inc})
    assert pm.status_code == 201, pm.text
    assert any("Test pool exhausted" in e["text"] for e in pm.json()["key_events"])
    assert [w for w in pm.json()["went_wrong"] if "rbt-pool: partly, 1 done" in w], pm.json()
    assert api.delete(f"{base}/rbt-manual").status_code == 204
    _error(api.delete(f"{base}/rbt-manual"), 404, "RUNBOOK_NOT_FOUND")

    events = [
        e
        for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()
        if e["kind"].startswith("runbook_")
    ]
    ours_only = [e for e in events if (e["data"].get("runbook_id") or "").startswith("rbt-")]
    assert [e["kind"] for e in ours_only] == [
        "runbook_attached",
        "runbook_attached",
        "runbook_step",
        "runbook_step",
        "runbook_step",
        "runbook_accuracy",
        "runbook_detached",
    ]
    assert ours_only[0]["actor"] == "haetae:intake"
    assert "Test pool exhausted" in ours_only[0]["summary"]
    assert ours_only[2]["data"]["status"] == "done" and ours_only[2]["data"]["note"] == "412 연결"
    assert ours_only[4]["data"] == {
        **ours_only[4]["data"],
        "status": "pending",
        "previous": "skipped",
    }

    # A canceled incident's runbooks no longer change; its accuracy can still be recorded.
    canceled = api.post(
        f"/api/v1/incidents/{inc}/transitions", json={"to": "canceled", "reason": "test"}
    )
    assert canceled.status_code == 200, canceled.text
    _error(api.post(base, json={"runbook_id": "rbt-manual"}), 409, "INCIDENT_NOT_OPEN")
    _error(
        api.patch(f"{base}/rbt-pool/steps/count", json={"status": "pending"}),
        409,
        "INCIDENT_NOT_OPEN",
    )
    assert api.put(f"{base}/rbt-pool/accuracy", json={"accuracy": "worked"}).status_code == 200


def test_a_drill_scorecard_suggests_runbook_accuracy_from_its_incidents_runbooks(
    api: httpx.Client, library_server: RunningServer
) -> None:
    made = api.post("/api/v1/drills", json={"title": "Pool tabletop", "kind": "tabletop"})
    assert made.status_code == 201, made.text
    inc = api.post("/api/v1/drills/DR-001/start").json()["incident_id"]
    base = f"/api/v1/incidents/{inc}/runbooks"
    assert api.post(base, json={"runbook_id": "rbt-manual"}).status_code == 201
    assert api.patch(f"{base}/rbt-manual/steps/first", json={"status": "done"}).status_code == 200
    [row] = [
        j
        for j in api.get("/api/v1/drills/DR-001/scorecard").json()["judged"]
        if j["row"] == "runbook"
    ]
    assert row["suggested"] is None  # nobody judged the runbook yet
    assert row["evidence"] == ["rbt-manual: accuracy not recorded, 1 done, 0 skipped of 2 steps"]
    assert api.put(f"{base}/rbt-manual/accuracy", json={"accuracy": "worked"}).status_code == 200
    card = api.get("/api/v1/drills/DR-001/scorecard").json()
    [row] = [j for j in card["judged"] if j["row"] == "runbook"]
    assert row["suggested"] == "accurate"
    md = api.get("/api/v1/drills/DR-001/scorecard", params={"format": "md"}).text
    assert "rbt-manual: worked, 1 done, 0 skipped of 2 steps" in md


def test_the_cli_attaches_ticks_and_judges_a_runbook(
    haetae: Haetae, runbooks_dir: Path, policy: Policy
) -> None:
    db = Database(haetae.url)
    try:
        with db.session() as session:
            incident = incidents.declare_incident(
                session,
                policy,
                IncidentDeclare(title="Pool", severity="P3", severity_reason="test"),
                actor="test",
                now=utcnow(),
            )
            inc = incident.id
    finally:
        db.dispose()
    env = {"RUNBOOKS_DIR": str(runbooks_dir)}
    shown = haetae(f"runbook attach {inc} rbt-manual --as mina", **env)
    assert "rbt-manual  Manual runbook  (by mina)" in shown.out
    haetae(f"runbook attach {inc} rbt-manual", expect=5, **env)
    haetae(f"runbook attach {inc} rbt-nope", expect=4, **env)
    haetae(f"runbook step {inc} rbt-manual first done --note 'did it' --as mina", **env)
    haetae(f"runbook step {inc} rbt-manual second skipped", **env)
    haetae(f"runbook step {inc} rbt-manual third done", expect=4, **env)
    haetae(f"runbook step {inc} rbt-manual first finished", expect=3, **env)
    haetae(f"runbook accuracy {inc} rbt-manual worked --note fine", **env)
    haetae(f"runbook accuracy {inc} rbt-manual great", expect=3, **env)
    text = haetae(f"runbook on {inc}", HAETAE_LOCALE="ko", **env).out
    assert "progress: 1 done, 1 skipped, 0 pending of 2" in text
    assert "[x] first: 첫 단계" in text and "[-] second: 둘째 단계" in text
    assert "did it" in text and "accuracy: worked (cli:" in text
    [out] = haetae(f"runbook on {inc} --json", **env).json()
    assert out["accuracy"] == "worked" and out["progress"]["done"] == 1
    assert out["steps"][0]["by"] == "mina"


def test_migration_0017_counts_existing_incidents_as_taken_in(
    fresh_database_url: str, policy: Policy
) -> None:
    upgrade(fresh_database_url, "0016")
    upgrade_to_head(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        with db.session() as session:
            old = incidents.declare_incident(
                session,
                policy,
                IncidentDeclare(title="Old", severity="P3", severity_reason="test"),
                actor="test",
                now=utcnow(),
            ).id
        with db.session() as session:
            assert session.get(IncidentIntake, old) is None  # the intake job's to do
        db.dispose()
        downgrade(fresh_database_url, "0016")
        upgrade_to_head(fresh_database_url)
        with db.session() as session:
            taken = session.get(IncidentIntake, old)
            assert taken is not None
            assert session.scalars(select(IncidentRunbook)).all() == []
        # Down and up again: the rows stay and are not inserted twice.
        db.dispose()
        downgrade(fresh_database_url, "0016")
        upgrade_to_head(fresh_database_url)
        with db.session() as session:
            assert len(session.scalars(select(IncidentIntake)).all()) == 1
    finally:
        db.dispose()


@pytest.mark.browser
def test_a_responder_ticks_two_steps_in_the_browser_and_sees_progress_and_timeline(
    page: Page, api: httpx.Client, library_server: RunningServer, db: Database
) -> None:
    base = library_server.url
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    inc = declare(api, title="Pool exhausted")["id"]
    attached = api.post(f"/api/v1/incidents/{inc}/runbooks", json={"runbook_id": "rbt-pool"})
    assert attached.status_code == 201, attached.text
    make_user(db, "mina")
    sign_in(page, base, "mina")
    page.goto(f"{base}/incidents/{inc}")
    panel = page.locator("#runbook-rbt-pool")
    expect(panel.locator("h3")).to_have_text("Test pool exhausted")
    expect(panel.locator(".runbook-command pre")).to_contain_text("pg_stat_activity")
    expect(panel.locator(".progress-counts")).to_have_text("0 done, 0 skipped of 4")

    panel.get_by_label("Note for Count connections").fill("412 connections")
    panel.get_by_role("button", name="Mark Count connections done").click()
    expect(panel.locator(".progress-counts")).to_have_text("1 done, 0 skipped of 4")
    panel = page.locator("#runbook-rbt-pool")
    panel.get_by_role("button", name="Skip Answers normally").click()
    expect(panel.locator(".progress-counts")).to_have_text("1 done, 1 skipped of 4")
    expect(page.locator("#rb-rbt-pool-step-count")).to_contain_text("412 connections")
    expect(page.locator("#rb-rbt-pool-step-count")).to_have_attribute("data-status", "done")
    expect(page.locator("#rb-rbt-pool-step-healthy")).to_have_attribute("data-status", "skipped")
    timeline = page.locator("#panel-timeline")
    expect(timeline).to_contain_text("Count connections — done")
    expect(timeline).to_contain_text("Answers normally — skipped")
    expect(timeline).to_contain_text("412 connections")
    shot(page, "incident-runbook-ticked")

    # After a reload the ticks are still there (they are rows, not page state).
    page.reload()
    expect(page.locator("#runbook-rbt-pool .progress-counts")).to_have_text(
        "1 done, 1 skipped of 4"
    )
    # Another runbook of the library, attached from the panel's select.
    page.get_by_label("Attach a runbook").select_option("rbt-manual")
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#runbook-rbt-manual .progress-counts")).to_have_text(
        "0 done, 0 skipped of 2"
    )
    expect(page.locator("#panel-timeline")).to_contain_text("attached by hand")
    assert blocked == []
