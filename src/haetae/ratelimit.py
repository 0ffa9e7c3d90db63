"""The rate limiter: ingest per integration and per client address, wrong ingest tokens per
address, and sign-in attempts (the API's, the console's and password re-checks).

Counters live in Redis when REDIS_URL is set, so that every worker process shares them,
otherwise in this process's memory. A Redis that cannot be reached never stops ingest:
the limiter counts in memory for a back-off period, reports itself degraded, and tries
Redis again when the period is over, so a dead Redis costs at most one short socket
timeout per period rather than one per request.

Strategy: the sliding window counter. A fixed window lets a sender put twice its limit
through around a window boundary (the end of one window and the start of the next); a
moving window is exact but keeps one timestamp per request (6000 per integration at the
default limit, in memory and in Redis). The sliding window counter keeps two counters
per key (this window's and the previous one's, weighted by how much of it still
overlaps), costs one Redis round trip per limit, and smooths the boundary burst.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from haetae.config import ConfigError, Settings

log = logging.getLogger("haetae.ratelimit")

DEFAULT_BACKOFF_SECONDS = 5.0
DEFAULT_REDIS_TIMEOUT = 0.25
_KEY_PREFIX = "haetae"
_REDIS_FAILURES = (StorageError, redis.RedisError, OSError)
_T = TypeVar("_T")


def _parse_limit(value: str, variable: str) -> RateLimitItem:
    hint = (
        f"{variable}={value!r} is not a rate limit; write it as COUNT/PERIOD, for example "
        "6000/minute, 100/second or 500 per 10 minutes (periods: second, minute, hour, day)."
    )
    try:
        if len(parse_many(value)) != 1:
            raise ConfigError(f"{hint} Give one limit, not several.")
        item = parse(value)
    except ValueError:
        raise ConfigError(hint) from None
    if item.amount < 1:
        raise ConfigError(f"{variable}={value!r} allows no request at all; {hint}")
    return item


def redacted_url(url: str) -> str:
    """The URL without its credentials or query (which may carry a password)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class IngestLimiter:
    """Counts ingest requests against INGEST_RATE_LIMIT_PER_INTEGRATION and _PER_CLIENT."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
        redis_timeout: float = DEFAULT_REDIS_TIMEOUT,
    ) -> None:
        self.integration_limit = _parse_limit(
            settings.ingest_rate_limit, "INGEST_RATE_LIMIT_PER_INTEGRATION"
        )
        self.client_limit = _parse_limit(
            settings.ingest_client_rate_limit, "INGEST_RATE_LIMIT_PER_CLIENT"
        )
        self.auth_failure_limit = _parse_limit(
            settings.ingest_auth_failure_limit, "INGEST_AUTH_FAILURE_LIMIT"
        )
        # Sign-in attempts per user name from one address, and per address (x 5): slows
        # password guessing without letting anyone lock an account out from elsewhere.
        self.login_limit = _parse_limit(settings.login_rate_limit, "LOGIN_RATE_LIMIT")
        self.login_client_limit = type(self.login_limit)(
            self.login_limit.amount * 5, self.login_limit.multiples
        )
        self.backoff_seconds = backoff_seconds
        self._memory_storage = MemoryStorage()
        self._memory: RateLimiter = SlidingWindowCounterRateLimiter(self._memory_storage)
        self._pool: redis.ConnectionPool | None = None
        self._redis_storage: RedisStorage | None = None
        self._redis: RateLimiter | None = None
        if settings.redis_url:
            self._connect(settings.redis_url, redis_timeout)
        self._lock = threading.Lock()
        self._down_until = 0.0  # time.monotonic() before which Redis is not tried
        self._reason: str | None = None  # why the limiter counts in memory (None: it does not)

    def _connect(self, url: str, timeout: float) -> None:
        """Prepare the Redis client; nothing is sent until the first request."""
        try:
            # No retries: a failure goes to the in-memory fallback at once, and the socket
            # timeouts bound how long a silent Redis can hold the event loop.
            self._pool = redis.ConnectionPool.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        except ValueError as exc:
            raise ConfigError(
                f"REDIS_URL={redacted_url(url)!r} cannot be used: {exc}. Use "
                "redis://[:password@]host:port/db, rediss://... or unix:///path/to/socket."
            ) from None
        self._redis_storage = RedisStorage(
            url, connection_pool=self._pool, key_prefix=_KEY_PREFIX, wrap_exceptions=True
        )
        self._redis = SlidingWindowCounterRateLimiter(self._redis_storage)

    @property
    def backend(self) -> str:
        """Where counts go now: "redis", or "memory" (no REDIS_URL, or Redis down)."""
        return "redis" if self._redis is not None and self._reason is None else "memory"

    def hit(self, integration: str, client: str) -> float | None:
        """Count one ingest request; None when allowed, else whole seconds to wait (>= 1)."""
        # The client's limit first: a request it refuses is not charged to the integration,
        # so one address over its limit cannot use up what other senders of that
        # integration have left.
        return self._count(
            (
                (self.client_limit, "client", client),
                (self.integration_limit, "integration", integration),
            )
        )

    def auth_blocked(self, client: str) -> float | None:
        """Whether `client` has used up its wrong tokens; None if not, else seconds to wait.

        Only looks: a request with a good token costs nothing here.
        """
        return self._run(lambda limiter: self._test(limiter, self.auth_failure_limit, client))

    def auth_failed(self, client: str) -> None:
        """Count one ingest request from `client` with a wrong or missing token."""
        self._run(lambda limiter: limiter.hit(self.auth_failure_limit, "auth-failure", client))

    def hit_login(self, username: str, client: str) -> float | None:
        """Count one sign-in attempt, like hit()."""
        return self._count(
            (
                (self.login_client_limit, "login-client", client),
                (self.login_limit, "login", f"{client}/{username.strip().lower()}"),
            )
        )

    def _count(self, checks: tuple[tuple[RateLimitItem, str, str], ...]) -> float | None:
        return self._run(lambda limiter: self._hit(limiter, checks))

    def _run(self, operation: Callable[[RateLimiter], _T]) -> _T:
        """`operation` on Redis's counters, or on this process's when Redis is down."""
        limiter = self._redis
        if limiter is not None and time.monotonic() >= self._down_until:
            try:
                result = operation(limiter)
            except _REDIS_FAILURES as exc:
                self._failed(exc)
            else:
                if self._reason is not None:
                    self._recovered()
                return result
        return operation(self._memory)

    def _test(self, limiter: RateLimiter, item: RateLimitItem, client: str) -> float | None:
        if limiter.test(item, "auth-failure", client):
            return None
        reset_at = limiter.get_window_stats(item, "auth-failure", client).reset_time
        return float(max(1, math.ceil(reset_at - time.time())))

    def _hit(
        self, limiter: RateLimiter, checks: tuple[tuple[RateLimitItem, str, str], ...]
    ) -> float | None:
        for item, kind, name in checks:
            if not limiter.hit(item, kind, name):
                reset_at = limiter.get_window_stats(item, kind, name).reset_time
                return float(max(1, math.ceil(reset_at - time.time())))
        return None

    def _failed(self, exc: BaseException) -> None:
        cause = exc.storage_error if isinstance(exc, StorageError) else exc
        reason = (
            f"redis unreachable: {type(cause).__name__}; "
            "rate limits are counted in memory per process"
        )
        with self._lock:
            first = self._reason is None
            self._reason = reason
            self._down_until = time.monotonic() + self.backoff_seconds
        if first:
            log.warning(
                "rate limiter: %s; trying Redis again every %g s",
                reason,
                self.backoff_seconds,
            )

    def _recovered(self) -> None:
        with self._lock:
            was_down = self._reason is not None
            self._reason = None
            self._down_until = 0.0
        if was_down:
            log.info("rate limiter: Redis is reachable again; counting in Redis")

    def health(self) -> dict[str, Any]:
        """ok is False never: without Redis, ingest still works, counted in memory.

        When Redis is configured and not in a back-off period, this pings it (bounded by
        the socket timeout), so readiness notices a dead Redis without waiting for traffic.
        """
        if self._redis_storage is not None and time.monotonic() >= self._down_until:
            try:
                self._redis_storage.get_connection().ping()
            except _REDIS_FAILURES as exc:
                self._failed(exc)
            else:
                if self._reason is not None:
                    self._recovered()
        reason = self._reason
        return {
            "ok": True,
            "backend": self.backend,
            "degraded": reason is not None,
            "reason": reason,
        }

    def close(self) -> None:
        self._memory_storage.timer.cancel()
        if self._pool is not None:
            self._pool.disconnect()
