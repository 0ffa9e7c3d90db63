"""Wrong ingest tokens count against the client address's INGEST_AUTH_FAILURE_LIMIT: past
it, guesses are answered 429 without reading the database, over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from haetae.app import create_app
from haetae.config import Settings
from haetae.db import Database
from haetae.policy.schema import Policy
from haetae.ratelimit import IngestLimiter
from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.support.redis import RedisServer
from tests.support.server import RunningServer, start_server

ALERT = {"summary": "disk full", "dedup_key": "disk", "severity": "warning"}
FAILURES = 5


@pytest.fixture
def guarded(
    database_url: str, db: Database, policy: Policy, tmp_path: Path
) -> Iterator[RunningServer]:
    """A server of its own, allowing 5 wrong tokens a minute per address."""
    settings = Settings(
        DATABASE_URL=database_url,
        API_KEY=ADMIN_KEY,
        JWT_SECRET=JWT_SECRET,
        HAETAE_DATA_DIR=tmp_path,
        INGEST_AUTH_FAILURE_LIMIT=f"{FAILURES}/minute",
    )
    running = start_server(create_app(settings, policy=policy, database=db, migrate=False))
    yield running
    running.stop()


@pytest.fixture
def token_reads(db: Database) -> Iterator[list[str]]:
    """Every SQL statement that reads the integrations table, as it is run."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "integrations" in statement.lower():
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def _integration(url: str) -> str:
    made = httpx.post(
        f"{url}/api/v1/integrations",
        json={"name": "probe", "type": "generic"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def _guess(client: httpx.Client) -> httpx.Response:
    return client.post("/ingest/generic", json=ALERT, params={"token": secrets.token_urlsafe(24)})


def test_wrong_tokens_past_the_limit_get_429_without_a_database_read(
    guarded: RunningServer, token_reads: list[str]
) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as client:
        first = [_guess(client).status_code for _ in range(FAILURES)]
        assert first == [401] * FAILURES
        assert token_reads, "each new wrong token is looked up until the limit"
        token_reads.clear()
        refused = [_guess(client) for _ in range(20)]
        assert {r.status_code for r in refused} == {429}
        assert refused[0].json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused[0].headers["retry-after"]) <= 60
        # A missing token and PagerDuty's routing_key are refused the same way.
        assert client.post("/ingest/generic", json=ALERT).status_code == 429
        pd = client.post(
            "/v2/enqueue",
            json={
                "routing_key": secrets.token_urlsafe(24),
                "event_action": "trigger",
                "payload": {"summary": "x", "source": "y", "severity": "error"},
            },
        )
        assert pd.status_code == 429
        assert pd.json()["status"] == "throttle event"
    assert token_reads == []


def test_a_missing_token_counts_as_a_wrong_one(guarded: RunningServer) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as client:
        answers = [client.post("/ingest/generic", json=ALERT).status_code for _ in range(6)]
    assert answers == [401] * FAILURES + [429]


def test_a_good_senders_traffic_does_not_count_as_failures(guarded: RunningServer) -> None:
    token = _integration(guarded.url)
    with httpx.Client(base_url=guarded.url, timeout=30) as client:
        good = [
            client.post("/ingest/generic", json=ALERT, params={"token": token}).status_code
            for _ in range(3 * FAILURES)
        ]
        assert good == [202] * (3 * FAILURES)
        # The good ones left the whole allowance of wrong tokens.
        assert [_guess(client).status_code for _ in range(FAILURES)] == [401] * FAILURES
        assert _guess(client).status_code == 429


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_the_limiter_blocks_an_address_after_its_failures_and_only_that_address(
    backend: str,
) -> None:
    redis_server = RedisServer().start() if backend == "redis" else None
    limiter = IngestLimiter(
        Settings(
            REDIS_URL=redis_server.url if redis_server else None,
            INGEST_AUTH_FAILURE_LIMIT="3/hour",
        )
    )
    try:
        for _ in range(3):
            assert limiter.auth_blocked("10.0.0.1") is None
            limiter.auth_failed("10.0.0.1")
        wait = limiter.auth_blocked("10.0.0.1")
        assert wait is not None and 1 <= wait <= 3600
        assert limiter.auth_blocked("10.0.0.2") is None
        assert limiter.backend == backend
    finally:
        limiter.close()
        if redis_server is not None:
            redis_server.close()


def test_a_sender_let_in_before_keeps_sending_while_its_address_is_blocked(
    guarded: RunningServer,
) -> None:
    token = _integration(guarded.url)
    with httpx.Client(base_url=guarded.url, timeout=30) as client:
        good = {"Authorization": f"Bearer {token}"}
        assert client.post("/ingest/generic", json=ALERT, headers=good).status_code == 202
        for _ in range(FAILURES):
            _guess(client)
        assert _guess(client).status_code == 429  # the address is blocked for guesses
        again = {**ALERT, "dedup_key": "disk-2"}
        assert client.post("/ingest/generic", json=again, headers=good).status_code == 202
