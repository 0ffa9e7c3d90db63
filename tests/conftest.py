"""Shared fixtures: a real database (SQLite file or PostgreSQL) and a real running server.

TEST_DB=sqlite (default) or TEST_DB=postgresql picks the database for the whole run.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from haetae import models
from haetae.app import create_app
from haetae.clock import clock
from haetae.config import Settings
from haetae.db import Base, Database
from haetae.migrations import upgrade_to_head
from haetae.policy.loader import default_policy
from haetae.policy.schema import Policy
from haetae.worker import Worker, WorkerConfig
from tests.support.pg import PostgresCluster
from tests.support.server import RunningServer, start_server
from tests.support.smtp import SmtpServer
from tests.support.webhook import WebhookReceiver

assert models  # every table registered
# Servers built in tests run no background worker: a test that needs one starts its own
# (tests/support/engine.py) so that it decides when due work runs.
os.environ["HAETAE_RUN_WORKER"] = "false"
ADMIN_KEY = "test-admin-key-0123456789abcdef"
JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789"
BACKEND = os.environ.get("TEST_DB", "sqlite")


# Fixtures that reach the run's database. A test marked no_database may use none of them.
DATABASE_FIXTURES = frozenset(
    {
        *("pg_cluster", "database_url", "fresh_database_url", "migrated_database_url"),
        *("migrated_template", "db", "settings", "server", "worker"),
    }
)


def pytest_report_header() -> str:
    return f"haetae database backend: {BACKEND}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "no_database: touches no database, so only the SQLite run runs it (docs/QUALITY_GATES.md)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run leaves tests marked no_database to the SQLite run: they would check
    the same code the same way twice. Deselected, not skipped, so the counts say so."""
    free = [item for item in items if item.get_closest_marker("no_database")]
    for item in free:
        used = DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used:
            raise pytest.UsageError(
                f"{item.nodeid} is marked no_database but uses {', '.join(sorted(used))}"
            )
    if BACKEND == "postgresql" and free:
        config.hook.pytest_deselected(items=free)
        items[:] = [item for item in items if not item.get_closest_marker("no_database")]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    if BACKEND != "postgresql":
        yield None
        return
    if os.environ.get("HAETAE_TEST_PG_URL"):
        yield None
        return
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


def _new_database_url(
    pg_cluster: PostgresCluster | None, tmp: Path, name: str, template: str | None = None
) -> str:
    """A new database named after `name`: empty, or a copy of the database at URL `template`."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if BACKEND == "postgresql":
        if pg_cluster is None:
            return os.environ["HAETAE_TEST_PG_URL"]
        copy = template.rsplit("/", 1)[1] if template else None
        return pg_cluster.create_database(f"haetae_{name}_{worker}", template=copy)
    path = tmp / f"{name}.db"
    if template:
        # SQLite's backup API copies a consistent file whatever its journal mode.
        with (
            closing(sqlite3.connect(template.removeprefix("sqlite:///"))) as source,
            closing(sqlite3.connect(path)) as target,
        ):
            source.backup(target)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def database_url(
    pg_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> str:
    url = _new_database_url(pg_cluster, tmp_path_factory.mktemp("db"), "suite")
    upgrade_to_head(url)
    return url


@pytest.fixture
def fresh_database_url(
    pg_cluster: PostgresCluster | None, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """An empty database (no migrations applied) of the run's backend, for this test alone."""
    name = "".join(c for c in request.node.name.lower() if c.isalnum())[:30]
    return _new_database_url(pg_cluster, tmp_path, name)


@pytest.fixture(scope="session")
def migrated_template(
    pg_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> str | None:
    """A database migrated to head once per run, which migrated_database_url copies (the
    migrations take one to two seconds; a copy, a tenth of that). None on an outside
    PostgreSQL (HAETAE_TEST_PG_URL), where every test shares one database anyway."""
    if BACKEND == "postgresql" and pg_cluster is None:
        return None
    url = _new_database_url(pg_cluster, tmp_path_factory.mktemp("template"), "template")
    upgrade_to_head(url)
    return url


@pytest.fixture
def migrated_database_url(
    pg_cluster: PostgresCluster | None,
    migrated_template: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> str:
    """A database of the run's backend at the migrations' head, for this test alone."""
    name = "m" + "".join(c for c in request.node.name.lower() if c.isalnum())[:29]
    url = _new_database_url(pg_cluster, tmp_path, name, template=migrated_template)
    if migrated_template is None:
        upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def policy() -> Policy:
    return default_policy()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        API_KEY=ADMIN_KEY,
        JWT_SECRET=JWT_SECRET,
        HAETAE_DATA_DIR=tmp_path_factory.mktemp("data"),
        MAX_REQUEST_BODY_BYTES=65_536,
        # Every test signs in from 127.0.0.1 on this one server; test_login_limit.py
        # checks the limit on a server of its own.
        LOGIN_RATE_LIMIT="100000/minute",
    )


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def server(settings: Settings, db: Database, policy: Policy) -> Iterator[RunningServer]:
    running = start_server(create_app(settings, policy=policy, database=db, migrate=False))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with empty tables and the real clock."""
    clock.reset()
    if "db" in request.fixturenames or "server" in request.fixturenames:
        database: Database = request.getfixturevalue("db")
        with database.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
    yield
    clock.reset()


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    """An admin client talking HTTP to the running server."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anon(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; `.url(to=...)` is its Apprise mailto URL."""
    with SmtpServer() as receiver:
        yield receiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A real webhook receiver on loopback; `.url(path)` is its Apprise json URL."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def worker(db: Database, policy: Policy, server: RunningServer) -> Iterator[Worker]:
    """A worker that runs one cycle each time the test calls run_once()."""
    running = Worker(db, policy, WorkerConfig(public_url=server.url, secret=JWT_SECRET, senders=4))
    yield running
    running.stop()
