"""Database faults, seen from outside a real `haetae serve` with its in-process worker:
a SQLite file locked by another process, made read-only, and a PostgreSQL server stopped
and started again. During each, readiness is 503 naming a check and writes are refused
with 503 NOT_READY; after each, Haetae recovers by itself (no restart), the refused write
retried by its client is kept, and every page reaches the webhook receiver exactly once.

Each scenario prints its recovery times (pytest -s) and writes them to
test-artifacts/faults.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from haetae.db import Database
from haetae.migrations import upgrade_to_head
from tests.conftest import BACKEND
from tests.support.pg import PostgresCluster
from tests.support.server import logged_serve, serve_env
from tests.support.webhook import WebhookReceiver

IDEMPOTENCY = "X-Haetae-Idempotency-Key"
P1 = {"business_impact": "revenue", "user_impact": "all", "services": ["payments"]}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BUSY_TIMEOUT = 15.0  # haetae.db.BUSY_TIMEOUT_SECONDS, the wait a refused write may take


@dataclass
class Haetae:
    """A running `haetae serve` and an admin client for it."""

    url: str
    api: httpx.Client
    log: Path
    marks: dict[str, float] = field(default_factory=dict)

    def ready(self) -> tuple[int, dict[str, Any]]:
        answer = self.api.get("/health/ready", timeout=10)
        return answer.status_code, answer.json()

    def wait_ready(self, status: int, timeout: float) -> dict[str, Any]:
        """Poll readiness until it answers `status`; the body of that answer."""
        deadline = time.monotonic() + timeout
        while True:
            code, body = self.ready()
            if code == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"readiness stayed {code}, not {status}: {body}\n{self.tail()}"
                )
            time.sleep(0.1)

    def declare(self, title: str, service: str = "payments") -> httpx.Response:
        body = {**P1, "title": title, "services": [service]}
        return self.api.post("/api/v1/incidents", json=body, timeout=60)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextmanager
def haetae_serve(tmp_path: Path, **settings: str) -> Iterator[Haetae]:
    log = tmp_path / "serve.log"
    env = serve_env(
        tmp_path / "data",
        HAETAE_RUN_WORKER="true",
        PUBLIC_URL="http://127.0.0.1:9",
        LOG_LEVEL="INFO",
        **settings,
    )
    with logged_serve(env, log) as (url, api):
        yield Haetae(url, api, log)


def make_team(haetae: Haetae, webhook: WebhookReceiver, team: str, leads: list[str]) -> None:
    for name in leads:
        made = haetae.api.post("/api/v1/users", json={"username": name, "role": "responder"})
        assert made.status_code == 201, made.text
        method = {"name": "webhook", "url": webhook.url(f"/{name}")}
        added = haetae.api.post(f"/api/v1/users/{name}/contact-methods", json=method)
        assert added.status_code == 201, added.text
    made = haetae.api.post("/api/v1/teams", json={"id": team, "name": team, "leads": leads})
    assert made.status_code == 201, made.text


def page_service_teams(haetae: Haetae, webhook: WebhookReceiver) -> None:
    """`ana` leads the team owning `payments`, `cho` the one owning `search`: a P1 on a
    service pages its lead at once (seed 001's matrix, its Tech Lead step). Pages after a
    fault go to `cho`, whom nothing paged in the last minute, so that the per-person cap
    (5 a minute, one every 12 s) does not hide how soon paging resumes."""
    for lead, service in (("ana", "payments"), ("cho", "search")):
        make_team(haetae, webhook, f"{service}-team", [lead])
        body = {"id": service, "name": service.title(), "team": f"{service}-team"}
        assert haetae.api.post("/api/v1/services", json=body).status_code == 201


def ingest_token(haetae: Haetae) -> str:
    made = haetae.api.post("/api/v1/integrations", json={"name": "probe", "type": "generic"})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def send_alert(haetae: Haetae, token: str, name: str) -> httpx.Response:
    """An alert through the ingest fast path (outside FastAPI's handlers)."""
    alert = {"summary": name, "dedup_key": name, "severity": "warning"}
    return httpx.post(
        f"{haetae.url}/ingest/generic",
        json=alert,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def pages(webhook: WebhookReceiver, person: str, title: str) -> list[Any]:
    """Messages to `person` that carry the incident `title` (alone or in a bundle)."""
    return [r for r in webhook.received if r.path == f"/{person}" and title.encode() in r.raw]


def first_page_settled(haetae: Haetae, webhook: WebhookReceiver, declared: httpx.Response) -> None:
    """The incident's first page reached `ana` and its sending is recorded. A fault between the
    two would leave the send's outcome unknown, and such a send is retried once by design
    (docs/notifications.md): the faults below must begin after it is settled."""
    assert declared.status_code == 201, declared.text
    incident, title = declared.json()["id"], declared.json()["title"]
    wait_for(lambda: bool(pages(webhook, "ana", title)), 30, "the first page")

    def recorded() -> bool:
        answer = haetae.api.get(f"/api/v1/incidents/{incident}/pages")
        found = answer.json()["notifications"] if answer.status_code == 200 else []
        return any(n["status"] == "sent" for n in found)

    wait_for(recorded, 30, "the first page recorded as sent")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until `check` holds; the monotonic time it first did."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic()


def assert_each_page_once(webhook: WebhookReceiver, expected: list[tuple[str, str]]) -> None:
    time.sleep(3)  # a doubled page would come within a worker cycle or two
    for person, title in expected:
        got = pages(webhook, person, title)
        assert len(got) == 1, f"{title} paged {person} {len(got)} times: " + repr(
            [(r.header(IDEMPOTENCY), r.raw[:600]) for r in got]
        )
    keys = Counter(r.header(IDEMPOTENCY) for r in webhook.received)
    assert None not in keys and max(keys.values()) == 1, keys.most_common(3)


def recover_and_page(
    haetae: Haetae, webhook: WebhookReceiver, prefix: str, fault_ended: float
) -> tuple[float, float]:
    """After a fault: readiness is 200 again; the declaration refused during it, retried by
    its client, and a new one are kept; `{prefix}-before`, `-during` and `-after` each page
    once. Seconds from the fault's end to readiness, and to the first page."""
    haetae.wait_ready(200, timeout=30)
    ready_after = time.monotonic() - fault_ended
    retried = haetae.declare(f"{prefix}-during")  # the client's retry after its 503
    assert retried.status_code == 201, retried.text
    assert haetae.declare(f"{prefix}-after", "search").status_code == 201
    wanted = [("ana", f"{prefix}-during"), ("cho", f"{prefix}-after")]
    first_page = wait_for(
        lambda: any(pages(webhook, *page) for page in wanted), 30, "a page after the fault"
    )
    wait_for(lambda: all(pages(webhook, *page) for page in wanted), 30, "every page after it")
    assert_each_page_once(webhook, [("ana", f"{prefix}-before"), *wanted])
    return ready_after, first_page - fault_ended


def assert_refused_as_not_ready(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "NOT_READY"
    assert int(answer.headers["Retry-After"]) >= 1


def record(scenario: str, figures: dict[str, float]) -> None:
    rounded = {name: round(value, 2) for name, value in figures.items()}
    print(f"\n[faults] {scenario} ({BACKEND}): {rounded}")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "faults.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known[scenario] = {**rounded, "backend": BACKEND, "measured_at": time.time()}
    path.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")


sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite", reason="a SQLite fault; the SQLite run (TEST_DB=sqlite) covers it"
)

LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@sqlite_only
def test_a_sqlite_lock_held_by_another_process_is_answered_503_and_paging_resumes_after(
    tmp_path: Path, webhook: WebhookReceiver
):
    with haetae_serve(tmp_path) as haetae:
        page_service_teams(haetae, webhook)
        first_page_settled(haetae, webhook, haetae.declare("fa-before"))

        holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(tmp_path / "data" / "haetae.db"), "20"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            locked_at = time.monotonic()
            body = haetae.wait_ready(503, timeout=10)
            assert "database_write" in body["failing"], body
            detected = time.monotonic() - locked_at

            started = time.monotonic()
            refused = haetae.declare("fa-during")
            refused_after = time.monotonic() - started
            assert_refused_as_not_ready(refused)
            assert refused_after < BUSY_TIMEOUT + 3
            # Reads go on meanwhile (WAL): the console and API can still be looked at.
            assert haetae.api.get("/api/v1/incidents").status_code == 200
            assert holder.wait(timeout=30) == 0
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
        released = time.monotonic()

        ready_after, first_page = recover_and_page(haetae, webhook, "fa", released)
        assert not haetae.api.get("/api/v1/incidents").is_error
    record(
        "sqlite_locked_20s",
        {
            "readiness_503_after_lock_s": detected,
            "write_refused_after_s": refused_after,
            "readiness_200_after_release_s": ready_after,
            "first_page_after_release_s": first_page,
        },
    )


def _immutable(paths: list[Path], on: bool) -> None:
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True)


def _chattr_works(folder: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        return False
    probe = folder / "probe"
    probe.touch()
    try:
        return subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
        probe.unlink()


@sqlite_only
def test_a_read_only_sqlite_file_refuses_writes_then_recovers_when_writable_again(
    tmp_path: Path, webhook: WebhookReceiver
):
    """The file is made read-only with `chattr +i` (immutable) on the database and its
    -wal file. chmod 0444 would not do: these tests run as root, which chmod does not stop,
    and chmod does not affect files a process already has open. The immutable flag stops
    root too, and writes through already open descriptors fail (EPERM, which SQLite reports
    as a disk I/O error), as on a file system remounted read-only after disk errors.
    The -shm file is left alone: SQLite maps it into memory, and a write to a mapped
    immutable page kills the process with SIGBUS."""
    if not _chattr_works(tmp_path):
        pytest.skip("needs root and a file system where chattr +i works")
    with haetae_serve(tmp_path) as haetae:
        page_service_teams(haetae, webhook)
        token = ingest_token(haetae)
        first_page_settled(haetae, webhook, haetae.declare("fb-before"))

        database = tmp_path / "data" / "haetae.db"
        frozen = [database, database.with_name("haetae.db-wal")]
        _immutable(frozen, True)
        try:
            frozen_at = time.monotonic()
            body = haetae.wait_ready(503, timeout=10)
            assert "database_write" in body["failing"], body
            detected = time.monotonic() - frozen_at
            for _ in range(3):  # every write, not only the first
                assert_refused_as_not_ready(haetae.declare("fb-during"))
            made = haetae.api.post("/api/v1/users", json={"username": "zed"})
            assert_refused_as_not_ready(made)
            assert_refused_as_not_ready(send_alert(haetae, token, "disk-alert"))
        finally:
            _immutable(frozen, False)
        thawed = time.monotonic()

        ready_after, first_page = recover_and_page(haetae, webhook, "fb", thawed)
        assert send_alert(haetae, token, "disk-alert").status_code == 202
        listed = haetae.api.get("/api/v1/incidents").json()["items"]
        declared = sorted(i["title"] for i in listed if i["title"].startswith("fb-"))
        assert declared == ["fb-after", "fb-before", "fb-during"]  # the refused ones: once
    record(
        "sqlite_read_only",
        {
            "readiness_503_after_fault_s": detected,
            "readiness_200_after_fault_s": ready_after,
            "first_page_after_fault_s": first_page,
        },
    )


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's outage: the PostgreSQL run")
def test_postgresql_stopped_and_started_again_refuses_then_pages_what_fell_due_once(
    tmp_path: Path, webhook: WebhookReceiver, own_cluster: PostgresCluster
):
    url = own_cluster.create_database("faults")
    upgrade_to_head(url)
    with haetae_serve(tmp_path, DATABASE_URL=url) as haetae:
        page_service_teams(haetae, webhook)
        # `ben` leads team-leads, whom the P1 matrix's second step pages.
        make_team(haetae, webhook, "team-leads", ["ben"])
        token = ingest_token(haetae)
        declared = haetae.declare("fc-before")
        incident = declared.json()["id"]
        first_page_settled(haetae, webhook, declared)

        # The matrix's second step, 15 minutes away, falls due during the outage instead.
        db = Database(url)
        try:
            with db.engine.begin() as conn:
                moved = conn.execute(
                    text(
                        "UPDATE escalations SET due_at = now() + interval '3 seconds' "
                        "WHERE incident_id = :incident AND policy_slug = 'p1-matrix'"
                    ),
                    {"incident": incident},
                )
                assert moved.rowcount == 1
        finally:
            db.dispose()
        own_cluster.stop(remove=False, mode="fast")
        stopped = time.monotonic()
        try:
            body = haetae.wait_ready(503, timeout=10)
            assert {"database", "database_write"} & set(body["failing"]), body
            detected = time.monotonic() - stopped
            started = time.monotonic()
            refused = haetae.declare("fc-during")
            refused_after = time.monotonic() - started
            assert_refused_as_not_ready(refused)
            assert refused_after < 8
            assert_refused_as_not_ready(send_alert(haetae, token, "db-down-alert"))
            time.sleep(max(0.0, stopped + 8 - time.monotonic()))  # an outage of 8 s
        finally:
            own_cluster.start()
        restarted = time.monotonic()

        haetae.wait_ready(200, timeout=30)
        ready_after = time.monotonic() - restarted
        retried = haetae.declare("fc-during")
        assert retried.status_code == 201, retried.text
        assert send_alert(haetae, token, "db-down-alert").status_code == 202
        first_page = wait_for(
            lambda: bool(pages(webhook, "ben", "fc-before") or pages(webhook, "ana", "fc-during")),
            30,
            "a page after the outage",
        )
        wait_for(
            lambda: bool(pages(webhook, "ben", "fc-before") and pages(webhook, "ana", "fc-during")),
            30,
            "the step due during the outage and the retried declaration paging",
        )
        assert_each_page_once(
            webhook, [("ana", "fc-before"), ("ben", "fc-before"), ("ana", "fc-during")]
        )
    record(
        "postgresql_stopped_8s",
        {
            "readiness_503_after_stop_s": detected,
            "write_refused_after_s": refused_after,
            "readiness_200_after_start_s": ready_after,
            "first_page_after_start_s": first_page - restarted,
        },
    )
