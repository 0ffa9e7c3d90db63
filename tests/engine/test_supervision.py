"""The worker cannot die quietly: a failing job is retried and counted, a dead thread is
restarted, and readiness and /metrics tell when the engine stops turning or falls behind."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from haetae.clock import utcnow
from haetae.db import Database
from haetae.escalation.models import Escalation
from haetae.jobs import Job, JobContext
from haetae.policy.schema import Policy
from haetae.worker import Worker, WorkerConfig
from haetae.worker.models import WorkerHeartbeat
from haetae.worker.registry import default_jobs
from tests.api.helpers import declare
from tests.conftest import JWT_SECRET
from tests.engine.test_durability import wait_until
from tests.engine.test_paging import P1
from tests.support.webhook import WebhookReceiver


def _metric(api: httpx.Client, name: str, **labels: str) -> float | None:
    text = api.get("/metrics").text
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if line.split("{")[0].split(" ")[0] == name and all(
            found.get(k) == v for k, v in labels.items()
        ):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def running(db: Database, policy: Policy, server) -> Iterator[Callable[..., Worker]]:
    """Starts continuously running workers (with the given jobs), stopped after the test."""
    started: list[Worker] = []

    def start(jobs: list[Job] | None = None) -> Worker:
        worker = Worker(
            db,
            policy,
            WorkerConfig(public_url=server.url, secret=JWT_SECRET, senders=4, heartbeat_every=0.5),
            jobs=jobs,
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_a_job_that_keeps_failing_is_retried_and_counted_while_pages_still_go_out(
    api, running, webhook: WebhookReceiver, make_user, oncall_schedule
):
    calls = []

    def locked(_ctx: JobContext) -> int:
        calls.append(utcnow())
        raise OperationalError("UPDATE ...", {}, Exception("database is locked"))

    running([Job("flaky", locked), *default_jobs()])
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    incident_id = declare(api, **P1)["id"]

    [page] = webhook.wait_for(1, timeout=30)
    assert incident_id in page.json["message"]
    wait_until(lambda: len(calls) >= 3, timeout=30, what="the failing job retried")
    # Backoff: not retried in a tight loop (first retry after 0.5 s, doubling).
    assert (calls[2] - calls[0]).total_seconds() >= 1.0
    wait_until(
        lambda: (
            (_metric(api, "haetae_worker_job_runs_total", job="flaky", outcome="error") or 0) >= 2
        ),
        timeout=30,
        what="the failures counted on /metrics",
    )
    assert (_metric(api, "haetae_worker_job_runs_total", job="escalation", outcome="ok") or 0) > 0


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_thread_that_dies_is_restarted_and_pages_again(
    api, running, webhook: WebhookReceiver, make_user, oncall_schedule
):
    worker: Worker = running()
    original = worker.run_once
    died = threading.Event()

    def die_once(*, wait: bool = True):
        if not died.is_set():
            died.set()
            raise SystemExit("a bug that escapes every handler")
        return original(wait=wait)

    worker.run_once = die_once  # type: ignore[method-assign]
    wait_until(died.is_set, timeout=10, what="the loop thread to die")
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    incident_id = declare(api, **P1)["id"]

    [page] = webhook.wait_for(1, timeout=30)
    assert incident_id in page.json["message"]
    wait_until(
        lambda: (
            _metric(api, "haetae_worker_job_runs_total", job="thread:loop", outcome="restarted")
            == 1
        ),
        timeout=30,
        what="the restart counted",
    )


def test_readiness_fails_when_the_only_worker_stops_beating_and_says_so(
    api, anon, running, db: Database
):
    worker: Worker = running()
    wait_until(
        lambda: anon.get("/health/ready").json()["checks"]["worker"].get("workers") == 1,
        timeout=15,
        what="a fresh heartbeat",
    )
    ready = anon.get("/health/ready")
    assert ready.status_code == 200, ready.text
    age = _metric(api, "haetae_worker_heartbeat_age_seconds", worker=worker.name)
    assert age is not None and age < 5

    worker.heartbeat.every = timedelta(hours=1)  # it keeps working but stops reporting
    with db.session() as session:
        session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(seconds=40)))

    answer = anon.get("/health/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["worker"]
    assert "no worker heartbeat in the last 15 s" in body["checks"]["worker"]["reason"]
    assert (_metric(api, "haetae_worker_heartbeat_age_seconds", worker=worker.name) or 0) >= 40


def test_readiness_fails_when_due_work_waits_past_a_minute_while_a_worker_runs(
    api, anon, running, db: Database, make_user, oncall_schedule, webhook: WebhookReceiver
):
    make_user("alice", webhook.url("/alice"))
    oncall_schedule(["alice"])
    # Declared with no worker running: its first escalation step waits.
    declare(api, **P1)
    with db.session() as session:
        session.execute(update(Escalation).values(due_at=utcnow() - timedelta(seconds=90)))
    ready = anon.get("/health/ready").json()
    # No worker reports to this database and none is expected: nothing to blame yet.
    assert ready["checks"]["overdue"]["ok"] is True
    assert ready["checks"]["overdue"]["escalation_step_seconds"] >= 90
    assert (_metric(api, "haetae_escalation_oldest_overdue_seconds") or 0) >= 90

    # A worker that beats but never gets to the steps (its job is stuck elsewhere).
    running([Job("stuck", lambda _ctx: 0)])
    wait_until(
        lambda: anon.get("/health/ready").status_code == 503,
        timeout=15,
        what="readiness to fail",
    )
    body = anon.get("/health/ready").json()
    assert body["failing"] == ["overdue"]
    assert "an escalation step" in body["checks"]["overdue"]["reason"]
