"""Group commit for ingest: requests that arrive together are written in one transaction.

Each request waits until the transaction holding its alerts has committed, so a 202 means
the alerts are on disk. Meanwhile the event loop keeps reading requests, and the next
transaction takes everything that arrived during the previous one. One transaction per
request would cost a commit (and, on SQLite, a turn at the single write lock) per alert.

If a batch fails, its requests are retried one by one, so that one bad request cannot make
the others fail; a request that fails alone gets the error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.exc import IntegrityError, OperationalError

from haetae.alerts.pipeline import Job, Outcome, apply_jobs
from haetae.clock import utcnow
from haetae.db import Database, database_fault
from haetae.errors import HaetaeError
from haetae.policy.schema import Policy

log = logging.getLogger("haetae.ingest")

MAX_EVENTS_PER_TRANSACTION = 2000
# Concurrent writers on PostgreSQL can both find a key or a group missing and both insert
# it; the loser's unique violation is retried, and then it sees the winner's row.
_RETRIES = 3


class IngestWriter:
    def __init__(self, database: Database, policy: Callable[[], Policy]) -> None:
        self.database = database
        self.policy = policy
        self._pending: list[tuple[Job, asyncio.Future[list[Outcome]]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._isolate = 0  # after a failed batch, this many requests are written one by one
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haetae-ingest")

    async def submit(self, job: Job) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="haetae-ingest-writer")
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        self._pending.append((job, future))
        assert self._wake is not None
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._take()
                try:
                    results = await loop.run_in_executor(self._executor, self._write, batch)
                except Exception as exc:
                    fault = database_fault(exc)
                    if fault is not None:
                        # The database, not a request, failed: each alone would wait and
                        # fail the same way, one busy timeout after another.
                        for _, future in batch:
                            _fail(future, fault)
                        continue
                    if len(batch) == 1:
                        log.exception("ingest write failed")
                        _fail(batch[0][1])
                        continue
                    # Alone, each request either succeeds or fails by itself.
                    self._pending[:0] = [(job, future) for job, future in batch]
                    self._isolate = len(batch)
                    continue
                for (_, future), outcome in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(outcome)

    def _take(self) -> list[tuple[Job, asyncio.Future[list[Outcome]]]]:
        if self._isolate:
            self._isolate -= 1
            return [self._pending.pop(0)]
        taken, events = 0, 0
        for job, _ in self._pending:
            if taken and events + len(job.events) > MAX_EVENTS_PER_TRANSACTION:
                break
            taken += 1
            events += len(job.events)
        batch, self._pending[:taken] = self._pending[:taken], []
        return batch

    def _write(self, batch: list[tuple[Job, asyncio.Future[list[Outcome]]]]) -> list[list[Outcome]]:
        jobs = [job for job, _ in batch]
        for attempt in range(_RETRIES):
            try:
                with self.database.session() as session:
                    return apply_jobs(session, self.policy(), jobs, now=utcnow())
            except (IntegrityError, OperationalError):
                if attempt == _RETRIES - 1:
                    raise
                log.info("ingest batch raced another writer; retrying", exc_info=True)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=True)


def _fail(future: asyncio.Future[list[Outcome]], refusal: HaetaeError | None = None) -> None:
    if not future.done():
        # 503: senders retry it (Alertmanager and PagerDuty clients retry on 5xx).
        future.set_exception(
            refusal or HaetaeError("NOT_READY", "The alerts could not be stored; send them again.")
        )
