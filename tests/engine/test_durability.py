"""Restarting in the middle loses no page and sends none twice; several workers on
PostgreSQL never run a step or send a page twice. Real `haetae worker` processes."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from haetae.db import Database
from haetae.notify.models import Notification
from haetae.timeline.models import TimelineEvent
from tests.conftest import BACKEND, JWT_SECRET
from tests.support.server import HAETAE, serve_env, stop_process
from tests.support.webhook import WebhookReceiver

IDEMPOTENCY = "X-Haetae-Idempotency-Key"
P1 = {"title": "Checkout down", "business_impact": "revenue", "user_impact": "all"}


@contextmanager
def worker_process(
    database_url: str, data_dir: Path, **settings: str
) -> Iterator[subprocess.Popen[str]]:
    env = serve_env(
        data_dir,
        DATABASE_URL=database_url,
        JWT_SECRET=JWT_SECRET,
        PUBLIC_URL="http://127.0.0.1:9",
        **settings,
    )
    proc = subprocess.Popen(
        [HAETAE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        stop_process(proc, timeout=20)


def wait_until(check: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def count(db: Database, *where: object) -> int:
    with db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Notification).where(*where)))


def page_team(api: httpx.Client, make_user, webhook: WebhookReceiver, names: list[str]) -> None:
    """`names` lead the team owning the service `payments`: seed 001's P1 matrix pages
    them (the Tech Lead step) the moment a P1 incident on `payments` is declared."""
    for name in names:
        make_user(name, webhook.url(f"/{name}"))
    team = {"id": "payments-team", "name": "Payments", "leads": names}
    assert api.post("/api/v1/teams", json=team).status_code in (200, 201)
    service = {"id": "payments", "name": "Payments", "team": "payments-team"}
    assert api.post("/api/v1/services", json=service).status_code in (200, 201)


def test_a_worker_killed_between_claim_and_send_delivers_each_page_once_after_restart(
    api, db: Database, database_url: str, tmp_path: Path, make_user, webhook: WebhookReceiver
):
    page_team(api, make_user, webhook, ["ana", "ben", "cho"])
    declared = api.post("/api/v1/incidents", json={**P1, "services": ["payments"]})
    assert declared.status_code == 201, declared.text

    # The first worker claims the three pages, then stalls before sending: killed there.
    # Its lease outlives the wait for the claims (a worker reclaims its own expired
    # leases too), and runs out soon after the kill.
    with worker_process(
        database_url, tmp_path, HAETAE_PAUSE_BEFORE_SEND="120", ENGINE_LEASE_SECONDS="8"
    ) as first:
        wait_until(lambda: count(db, Notification.status == "sending") == 3, what="claims")
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert webhook.requests == []

    with worker_process(database_url, tmp_path):
        webhook.wait_for(3, timeout=60)
        wait_until(lambda: count(db, Notification.status == "sent") == 3, what="settled")
        time.sleep(3)  # a second copy would come within a lease or two

    assert sorted(r.path for r in webhook.requests) == ["/ana", "/ben", "/cho"]
    keys = [r.header(IDEMPOTENCY) for r in webhook.requests]
    assert len(set(keys)) == 3
    with db.session(write=False) as session:
        retried = session.scalars(select(Notification.unknown_retries)).all()
        unknown = session.scalars(
            select(TimelineEvent.summary).where(TimelineEvent.kind == "notification_unknown")
        ).all()
    assert retried == [1, 1, 1]
    assert len(unknown) == 3 and all("sending once more" in s for s in unknown)


@pytest.mark.skipif(BACKEND != "postgresql", reason="several workers at once need PostgreSQL")
def test_three_workers_on_the_same_due_steps_never_double_a_page(
    api, db: Database, database_url: str, tmp_path: Path, make_user, webhook: WebhookReceiver
):
    leads = [f"lead{i}" for i in range(8)]
    page_team(api, make_user, webhook, leads)
    incidents = 25
    for i in range(incidents):
        body = {**P1, "title": f"Checkout down {i}", "services": ["payments"]}
        assert api.post("/api/v1/incidents", json=body).status_code == 201

    expected = incidents * len(leads)  # the matrix's first step, one page per lead
    with (
        worker_process(database_url, tmp_path / "a"),
        worker_process(database_url, tmp_path / "b"),
        worker_process(database_url, tmp_path / "c"),
    ):
        settled = ("sent", "bundled")
        wait_until(
            lambda: count(db, Notification.status.in_(settled)) == expected,
            timeout=120,
            what="every page settled",
        )
        sent = count(db, Notification.status == "sent")
        webhook.wait_for(sent, timeout=30)
        time.sleep(2)

    assert count(db) == expected
    keys = Counter(r.header(IDEMPOTENCY) for r in webhook.requests)
    assert len(webhook.requests) == sent
    assert max(keys.values()) == 1, keys.most_common(3)
    with db.session(write=False) as session:
        steps = session.execute(
            select(TimelineEvent.incident_id, TimelineEvent.data).where(
                TimelineEvent.kind == "escalation_step"
            )
        ).all()
    ran = Counter((incident, d["policy"], d["step"], d["loop"]) for incident, d in steps)
    assert max(ran.values()) == 1
    assert len(ran) >= incidents * 2  # both policies' first steps, each once
