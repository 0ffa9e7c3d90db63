"""The ingest rate limiter against a real Redis (tests/support/redis.py), and readiness."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from haetae.app import create_app
from haetae.config import ConfigError, Settings
from haetae.ratelimit import IngestLimiter
from tests.support.redis import RedisServer
from tests.support.server import start_server

MakeLimiter = Callable[..., IngestLimiter]


def _settings(redis_url: str | None, integration: str, client: str) -> Settings:
    return Settings(
        REDIS_URL=redis_url,
        INGEST_RATE_LIMIT_PER_INTEGRATION=integration,
        INGEST_RATE_LIMIT_PER_CLIENT=client,
    )


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def make_limiter() -> Iterator[MakeLimiter]:
    made: list[IngestLimiter] = []

    def make(
        redis_url: str | None,
        integration: str = "2/hour",
        client: str = "3/hour",
        **options: float,
    ) -> IngestLimiter:
        limiter = IngestLimiter(_settings(redis_url, integration, client), **options)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


@pytest.fixture(params=["memory", "redis"])
def backend_url(request: pytest.FixtureRequest, redis_server: RedisServer) -> str | None:
    """None (count in memory) or the shared Redis, emptied for this test."""
    if request.param == "memory":
        return None
    redis_server.flush()
    return redis_server.url


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.05)


def test_allows_up_to_the_limit_then_asks_to_wait(make_limiter, backend_url):
    limiter = make_limiter(backend_url, integration="3/hour", client="100/hour")
    assert [limiter.hit("prod-am", "10.0.0.1") for _ in range(3)] == [None, None, None]
    wait = limiter.hit("prod-am", "10.0.0.1")
    assert wait is not None and wait >= 1 and wait == int(wait)
    assert wait <= 3600
    # Asking again does not help while the window lasts.
    assert limiter.hit("prod-am", "10.0.0.1") is not None
    expected_backend = "memory" if backend_url is None else "redis"
    assert limiter.health() == {
        "ok": True,
        "backend": expected_backend,
        "degraded": False,
        "reason": None,
    }


def test_integration_and_client_limits_are_independent(make_limiter, backend_url):
    limiter = make_limiter(backend_url, integration="2/hour", client="3/hour")
    # The integration's limit is shared by every sender of that integration...
    assert limiter.hit("prod-am", "10.0.0.1") is None
    assert limiter.hit("prod-am", "10.0.0.2") is None
    assert limiter.hit("prod-am", "10.0.0.3") is not None
    # ...and not by other integrations, even from the same address.
    assert limiter.hit("staging-am", "10.0.0.3") is None

    # The client's limit is shared by everything one address sends...
    assert limiter.hit("a", "10.0.0.9") is None
    assert limiter.hit("b", "10.0.0.9") is None
    assert limiter.hit("c", "10.0.0.9") is None
    assert limiter.hit("d", "10.0.0.9") is not None
    # ...and not by other addresses sending to the same integration.
    assert limiter.hit("d", "10.0.0.10") is None


def test_a_request_refused_for_its_client_is_not_charged_to_the_integration(
    make_limiter, backend_url
):
    limiter = make_limiter(backend_url, integration="2/hour", client="1/hour")
    assert limiter.hit("prod-am", "10.0.0.1") is None
    for _ in range(5):  # a noisy sender over its own limit
        assert limiter.hit("prod-am", "10.0.0.1") is not None
    # The integration still has one request left for the other senders.
    assert limiter.hit("prod-am", "10.0.0.2") is None
    assert limiter.hit("prod-am", "10.0.0.3") is not None


def test_instances_on_one_redis_share_counts(make_limiter, redis_server):
    """What several worker processes rely on: one count for the integration, wherever it lands."""
    redis_server.flush()
    first = make_limiter(redis_server.url, integration="3/hour", client="100/hour")
    second = make_limiter(redis_server.url, integration="3/hour", client="100/hour")
    assert first.hit("prod-am", "10.0.0.1") is None
    assert second.hit("prod-am", "10.0.0.2") is None
    assert first.hit("prod-am", "10.0.0.3") is None
    assert second.hit("prod-am", "10.0.0.4") is not None
    assert first.hit("prod-am", "10.0.0.5") is not None


def test_memory_instances_count_separately(make_limiter):
    first = make_limiter(None, integration="2/hour", client="100/hour")
    second = make_limiter(None, integration="2/hour", client="100/hour")
    assert [first.hit("prod-am", "10.0.0.1") for _ in range(2)] == [None, None]
    assert [second.hit("prod-am", "10.0.0.1") for _ in range(2)] == [None, None]
    assert first.hit("prod-am", "10.0.0.1") is not None
    assert second.hit("prod-am", "10.0.0.1") is not None


def test_redis_outage_falls_back_to_memory_and_recovers(make_limiter, caplog):
    password = "s3cret-redis-pw"
    server = RedisServer(password=password).start()
    try:
        limiter = make_limiter(
            server.url, integration="2/hour", client="100/hour", backoff_seconds=0.2
        )
        assert limiter.hit("prod-am", "10.0.0.1") is None
        assert limiter.health()["backend"] == "redis"

        with caplog.at_level(logging.INFO, logger="haetae.ratelimit"):
            server.stop()
            # Ingest keeps its answers: counted in this process's memory from now on.
            assert limiter.hit("prod-am", "10.0.0.1") is None
            assert limiter.hit("prod-am", "10.0.0.1") is None
            assert limiter.hit("prod-am", "10.0.0.1") is not None
            health = limiter.health()
            assert health["ok"] is True
            assert health["backend"] == "memory"
            assert health["degraded"] is True
            assert health["reason"] == (
                "redis unreachable: ConnectionError; rate limits are counted in memory per process"
            )

            server.start()  # same port, empty: Redis keeps nothing on disk here
            _wait_until(lambda: not limiter.health()["degraded"], "back to Redis")
            assert limiter.health()["backend"] == "redis"
        assert password not in json.dumps(health)
        assert password not in caplog.text
        assert "redis unreachable" in caplog.text

        # Counting in Redis again: another instance (another worker) sees this one's hit.
        assert limiter.hit("prod-am", "10.0.0.1") is None
        other = make_limiter(server.url, integration="2/hour", client="100/hour")
        assert other.hit("prod-am", "10.0.0.2") is None
        assert other.hit("prod-am", "10.0.0.3") is not None
    finally:
        server.close()


class SilentServer:
    """Accepts TCP connections and never answers: a hung Redis. Counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_a_hung_redis_costs_one_timeout_per_back_off_period(make_limiter):
    silent = SilentServer()
    try:
        limiter = make_limiter(
            f"redis://127.0.0.1:{silent.port}/0",
            integration="100/hour",
            client="100/hour",
            backoff_seconds=3600,
            redis_timeout=0.1,
        )

        def burst() -> list[float | None]:
            return [limiter.hit("prod-am", "10.0.0.1") for _ in range(20)]

        with ThreadPoolExecutor(1) as pool:  # fails the test rather than hanging it
            answers = pool.submit(burst).result(timeout=60)
        assert answers == [None] * 20
        health = limiter.health()
        assert health["degraded"] is True
        assert health["reason"].startswith("redis unreachable: TimeoutError")
        # One connection for the first request; none for the other 19 nor for health().
        assert len(silent.accepted) == 1
    finally:
        silent.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INGEST_RATE_LIMIT_PER_INTEGRATION", "lots/minute"),
        ("INGEST_RATE_LIMIT_PER_INTEGRATION", "6000"),
        ("INGEST_RATE_LIMIT_PER_INTEGRATION", "10/fortnight"),
        ("INGEST_RATE_LIMIT_PER_CLIENT", "0/minute"),
        ("INGEST_RATE_LIMIT_PER_CLIENT", "10/second;600/minute"),
    ],
)
def test_a_bad_limit_refuses_to_start_naming_the_setting(variable, value):
    settings = Settings(**{variable: value})
    with pytest.raises(ConfigError, match=f"^{variable}=") as raised:
        IngestLimiter(settings)
    assert "6000/minute" in str(raised.value)  # an example of what works


def test_a_bad_redis_url_refuses_to_start_without_showing_its_password():
    settings = Settings(REDIS_URL="http://admin:hunter2-pw@cache.internal:6379/0")
    with pytest.raises(ConfigError, match="REDIS_URL") as raised:
        IngestLimiter(settings)
    assert "hunter2-pw" not in str(raised.value)
    assert "cache.internal" in str(raised.value)


def test_the_defaults_are_valid():
    limiter = IngestLimiter(Settings())
    try:
        assert (limiter.integration_limit.amount, limiter.client_limit.amount) == (6000, 12000)
        assert limiter.health()["backend"] == "memory"
    finally:
        limiter.close()


def test_readiness_reports_a_degraded_rate_limiter_and_stays_ready(
    settings, db, policy, make_limiter
):
    redis_server = RedisServer().start()
    redis_server.stop()  # configured, but down
    running = start_server(create_app(settings, policy=policy, database=db, migrate=False))
    try:
        running.app.state.limiter = make_limiter(redis_server.url, backoff_seconds=0.2)
        r = httpx.get(f"{running.url}/health/ready", timeout=30)
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "degraded"
        assert body["failing"] == []
        assert body["degraded"] == ["rate_limiter"]
        assert body["checks"]["database"] == {"ok": True}
        assert body["checks"]["rate_limiter"]["backend"] == "memory"
        assert body["checks"]["rate_limiter"]["reason"].startswith(
            "redis unreachable: ConnectionError"
        )

        redis_server.start()

        def ready_again() -> bool:
            return httpx.get(f"{running.url}/health/ready", timeout=30).json()["status"] == "ok"

        _wait_until(ready_again, "readiness back to ok")
        body = httpx.get(f"{running.url}/health/ready", timeout=30).json()
        assert body["degraded"] == []
        assert body["checks"]["rate_limiter"]["backend"] == "redis"
    finally:
        running.stop()
        redis_server.close()


def test_a_failing_database_is_unavailable_even_when_the_limiter_is_only_degraded(
    tmp_path: Path, make_limiter
):
    redis_server = RedisServer()  # never started
    running = start_server(create_app(Settings(HAETAE_DATA_DIR=tmp_path, JWT_SECRET="s" * 40)))
    try:
        running.app.state.limiter = make_limiter(redis_server.url)
        (tmp_path / "haetae.db").unlink()
        r = httpx.get(f"{running.url}/health/ready", timeout=30)
        assert r.status_code == 503
        body = r.json()
        assert (body["status"], body["failing"]) == ("unavailable", ["database", "database_write"])
        assert body["degraded"] == ["rate_limiter"]
    finally:
        running.stop()
        redis_server.close()
