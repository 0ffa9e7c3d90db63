"""The send pool: claims due messages, hands them to Apprise from a pool of threads
outside any transaction, and records their outcomes by group commit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from haetae import wakeup
from haetae.clock import utcnow
from haetae.db import Database
from haetae.notify import delivery, dispatch, outbox
from haetae.policy.schema import Policy
from haetae.worker.config import WorkerConfig

log = logging.getLogger("haetae.worker")

RECORD_BATCH = 100  # send outcomes recorded in one transaction, at most
# Claims in flight per sender thread: enough to keep them busy, few enough that a claim
# does not wait for a sender longer than its lease allows.
CLAIMS_PER_SENDER = 4


@dataclass
class _Outcome:
    item: outbox.Claimed
    ok: bool
    retryable: bool
    error: str | None
    handed_at: datetime
    recorded: threading.Event = field(default_factory=threading.Event)


class Recorder:
    """Records send outcomes, with those of other senders finishing meanwhile, in one
    transaction (group commit): the first sender to arrive records for all who queue
    behind it."""

    def __init__(self, db: Database, *, wait: float, on_error: Callable[[], None]) -> None:
        self.db = db
        self.wait = wait
        self.on_error = on_error
        self._lock = threading.Lock()
        self._queue: list[_Outcome] = []
        self._recording = False

    def record(self, outcome: _Outcome) -> None:
        """Returns once this outcome is recorded (or its recording failed)."""
        with self._lock:
            self._queue.append(outcome)
            leader = not self._recording
            if leader:
                self._recording = True
        if not leader:
            outcome.recorded.wait(self.wait)
            return
        try:
            while True:
                with self._lock:
                    batch = self._queue[:RECORD_BATCH]
                    del self._queue[:RECORD_BATCH]
                    if not batch:
                        self._recording = False
                        return
                try:
                    self._record_batch(batch)
                finally:
                    for done in batch:
                        done.recorded.set()
        except BaseException:
            with self._lock:
                self._recording = False
            raise

    def _record_batch(self, batch: list[_Outcome]) -> None:
        try:
            with self.db.session() as session, session.no_autoflush:
                for outcome in batch:
                    outbox.complete(
                        session,
                        outcome.item,
                        ok=outcome.ok,
                        retryable=outcome.retryable,
                        error=outcome.error,
                        handed_at=outcome.handed_at,
                        now=utcnow(),
                    )
            return
        except Exception:
            if len(batch) == 1:
                # The lease runs out and the row is retried once: at worst one duplicate.
                log.exception("recording a send failed", extra={"f_notification": batch[0].item.id})
                self.on_error()
                return
        for outcome in batch:  # one at a time, so that one bad row does not hold the rest
            self._record_batch([outcome])


class SendPool:
    """Claims what is due and sends it from `config.senders` threads."""

    def __init__(
        self,
        db: Database,
        policy: Callable[[], Policy],
        config: WorkerConfig,
        *,
        name: str,
        count: Callable[[str, str], None],
    ) -> None:
        self.db = db
        self._policy = policy
        self.config = config
        self.name = name
        self._count = count
        self.skip_locked = not db.is_sqlite
        self._pool = ThreadPoolExecutor(config.senders, thread_name_prefix="haetae-send")
        self._inflight: set[Future[None]] = set()
        self._lock = threading.Lock()
        self.recorder = Recorder(
            db, wait=config.send_timeout + 30, on_error=lambda: count("record", "error")
        )
        # A handle that benchmarks and tests can observe: (notification id, handed at).
        self.on_handed: Callable[[int, datetime], None] | None = None

    def room(self) -> int:
        with self._lock:
            self._inflight = {f for f in self._inflight if not f.done()}
            return self.config.senders * CLAIMS_PER_SENDER - len(self._inflight)

    def claim(self, now: datetime, limit: int) -> list[outbox.Claimed]:
        """Claim up to `limit` due messages and render them, in one transaction."""
        with self.db.session() as session:
            claimed = outbox.claim(
                session,
                now=now,
                worker=self.name,
                limit=limit,
                lease=self.config.lease,
                skip_locked=self.skip_locked,
            )
            dispatch.prepare(
                session,
                claimed,
                policy=self._policy(),
                public_url=self.config.public_url,
                secret=self.config.secret,
                now=now,
            )
            return claimed

    def submit(self, claimed: list[outbox.Claimed]) -> None:
        for item in claimed:
            future = self._pool.submit(self._send, item)
            with self._lock:
                self._inflight.add(future)

    def _send(self, item: outbox.Claimed) -> None:
        try:
            self._send_one(item)
        except Exception:
            # Never lost: the claim's lease runs out and the message is reclaimed.
            log.exception("sender failed", extra={"f_notification": item.id})
            self._count("send", "error")

    def _send_one(self, item: outbox.Claimed) -> None:
        if self.config.pause_before_send:
            time.sleep(self.config.pause_before_send)
        handed_at = utcnow()
        if item.lease_until is not None and handed_at + timedelta(
            seconds=self.config.send_timeout
        ) > item.lease_until - timedelta(seconds=1):
            # Queued too long for a sender: the send might outlive its lease and be sent
            # again by whoever reclaims it. Hand it back instead; it goes out next cycle.
            with self.db.session() as session:
                outbox.give_back(session, item)
            wakeup.wake()
            return
        if self.on_handed is not None:
            self.on_handed(item.id, handed_at)
        try:
            result = delivery.send(
                item.url,
                subject=item.subject,
                body=item.body,
                idem_key=item.idem_key,
                timeout=self.config.send_timeout,
            )
            ok, retryable, error = result.ok, result.retryable, result.error
        except Exception as exc:  # a sender bug must still settle the row
            log.exception("send failed", extra={"f_notification": item.id})
            ok, retryable, error = False, True, type(exc).__name__
        self._count("send", "ok" if ok else "failed")
        self.recorder.record(_Outcome(item, ok, retryable, error, handed_at))
        if not ok:
            wakeup.wake()  # a retry or a fallback may be due soon

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the sends under way (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._inflight if not f.done()]
            if not pending or time.monotonic() > deadline:
                return
            try:
                pending[0].result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:
                continue

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)
