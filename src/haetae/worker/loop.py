"""The background worker: runs due escalation steps, reminders and hand-off notices, and
delivers the outbox. `haetae serve` runs one in a thread; `haetae worker` runs more.

The database is the only timer. Each job is one short transaction; on PostgreSQL several
workers share the work through SKIP LOCKED, on SQLite one worker holds a lease. Sends run
in a thread pool outside any transaction, leased so that a worker dying mid-send is noticed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import wakeup
from haetae.clock import utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.escalation import engine
from haetae.notify import delivery, dispatch, outbox
from haetae.notify.models import EngineLease, Notification
from haetae.policy.schema import Policy

log = logging.getLogger("haetae.worker")
T = TypeVar("T")

LEASE_NAME = "engine"
MAX_SLEEP = 1.0  # the safety net when a wake-up is lost
HANDOFF_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class WorkerConfig:
    public_url: str
    secret: str
    batch: int = 500
    # Due steps per transaction: a slice commits, and its pages go to the senders, while
    # the next slice runs, so a flood of due steps starts paging at once.
    step_batch: int = 25
    step_slices: int = 400  # per cycle, then reminders and hand-offs get their turn
    senders: int = 16
    send_timeout: float = 10.0
    lease: timedelta = timedelta(seconds=30)
    # Test hook: seconds each sender waits between claiming and sending (to kill it there).
    pause_before_send: float = 0.0


RECORD_BATCH = 100  # send outcomes recorded in one transaction, at most


@dataclass
class _Outcome:
    item: outbox.Claimed
    ok: bool
    retryable: bool
    error: str | None
    handed_at: datetime
    recorded: threading.Event = field(default_factory=threading.Event)


@dataclass
class Cycle:
    steps: list[engine.StepRun] = field(default_factory=list)
    reminders: int = 0
    claimed: int = 0


def config_from(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        public_url=settings.base_url,
        secret=settings.jwt_secret or "",
        senders=settings.engine_senders,
        send_timeout=settings.notify_timeout_seconds,
        lease=timedelta(seconds=settings.engine_lease_seconds),
        pause_before_send=settings.engine_pause_before_send,
    )


class Worker:
    def __init__(
        self,
        database: Database,
        policy: Callable[[], Policy] | Policy,
        config: WorkerConfig,
        *,
        name: str | None = None,
    ) -> None:
        self.db = database
        self._policy = policy
        self.config = config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.skip_locked = not database.is_sqlite
        self._pool = ThreadPoolExecutor(config.senders, thread_name_prefix="haetae-send")
        self._inflight: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._last_handoffs: datetime | None = None
        self._record_lock = threading.Lock()
        self._to_record: list[_Outcome] = []
        self._recording = False
        # Set by run(): hand-off notices then have a thread of their own (they read every
        # schedule's shifts, which takes long with many schedules), off the steps' loop.
        self._handoffs_apart = False
        self._holds_lease = False
        self._running = False
        # A handle that on_sent callbacks (benchmarks, tests) can observe.
        self.on_handed: Callable[[int, datetime], None] | None = None

    @property
    def policy(self) -> Policy:
        return self._policy() if callable(self._policy) else self._policy

    # One cycle

    def run_once(self, *, wait: bool = True) -> Cycle:
        """One pass over everything due now; with `wait`, until its sends are settled."""
        cycle = Cycle()
        now = utcnow()
        if self.db.is_sqlite:
            self._holds_lease = self._hold_lease(now)
            if not self._holds_lease:
                return cycle
        self._job("reclaim", lambda: self._reclaim(now))
        cycle.claimed += self._deliver(now)  # retries and pages queued by requests
        for _ in range(self.config.step_slices):  # bounded: a flood is worked in slices
            at = utcnow()
            runs = self._job("escalation", partial(self._steps, at)) or []
            cycle.steps += runs
            if runs:
                cycle.claimed += self._deliver(utcnow())
            if len(runs) < self.config.step_batch:
                break
        cycle.reminders = self._job("reminders", lambda: self._reminders(now)) or 0
        if not self._handoffs_apart and (
            self._last_handoffs is None or now - self._last_handoffs >= HANDOFF_EVERY
        ):
            self._job("handoffs", lambda: self._handoffs(now))
            self._last_handoffs = now
        cycle.claimed += self._deliver(utcnow())
        if wait:
            self.drain()
        return cycle

    def _job(self, name: str, job: Callable[[], T]) -> T | None:
        try:
            return job()
        except Exception:
            # One failing job must not stop the others or the loop.
            log.exception("worker job failed", extra={"f_job": name})
            return None

    def _reclaim(self, now: datetime) -> int:
        with self.db.session() as session:
            return outbox.reclaim_expired(session, now=now, skip_locked=self.skip_locked)

    def _steps(self, now: datetime) -> list[engine.StepRun]:
        with self.db.session() as session:
            return engine.run_due_steps(
                session,
                self.policy,
                now=now,
                limit=self.config.step_batch,
                skip_locked=self.skip_locked,
            )

    def _reminders(self, now: datetime) -> int:
        with self.db.session() as session:
            return engine.remind_updates(
                session,
                self.policy,
                now=now,
                limit=self.config.batch,
                skip_locked=self.skip_locked,
            )

    def _handoffs(self, now: datetime) -> int:
        with self.db.session(write=False) as session:
            changes = engine.recent_handoffs(session, now=now)
        if not changes:
            return 0
        with self.db.session() as session:
            return engine.notify_handoffs(session, now=now, changes=changes)

    # Delivery

    def _deliver(self, now: datetime) -> int:
        total = 0
        while True:
            with self._lock:
                self._inflight = {f for f in self._inflight if not f.done()}
                room = self.config.senders * 4 - len(self._inflight)
            if room <= 0:
                return total
            claimed = self._job("claim", partial(self._claim, now, room))
            if not claimed:
                return total
            for item in claimed:
                future = self._pool.submit(self._send, item)
                with self._lock:
                    self._inflight.add(future)
            total += len(claimed)
            if len(claimed) < room:
                return total

    def _claim(self, now: datetime, limit: int) -> list[outbox.Claimed]:
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
                policy=self.policy,
                public_url=self.config.public_url,
                secret=self.config.secret,
                now=now,
            )
            return claimed

    def _send(self, item: outbox.Claimed) -> None:
        if self.config.pause_before_send:
            time.sleep(self.config.pause_before_send)
        handed_at = utcnow()
        if item.lease_until is not None and handed_at + timedelta(
            seconds=self.config.send_timeout
        ) > item.lease_until - timedelta(seconds=1):
            # Queued too long for a sender: the send might outlive its lease and be sent
            # again by whoever reclaims it. Hand it back instead; it goes out next cycle.
            self._job("give back", partial(self._give_back, item))
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
        self._record(_Outcome(item, ok, retryable, error, handed_at))
        if not ok:
            wakeup.wake()  # a retry or a fallback may be due soon

    def _give_back(self, item: outbox.Claimed) -> None:
        with self.db.session() as session:
            outbox.give_back(session, item)

    def _record(self, outcome: _Outcome) -> None:
        """Record a send's outcome, with those of other senders finishing meanwhile, in one
        transaction (group commit): the first sender to arrive records for all who queue
        behind it. Returns once this outcome is recorded (or its recording failed)."""
        with self._record_lock:
            self._to_record.append(outcome)
            leader = not self._recording
            if leader:
                self._recording = True
        if not leader:
            outcome.recorded.wait(self.config.send_timeout + 30)
            return
        try:
            while True:
                with self._record_lock:
                    batch = self._to_record[:RECORD_BATCH]
                    del self._to_record[:RECORD_BATCH]
                    if not batch:
                        self._recording = False
                        return
                try:
                    self._record_batch(batch)
                finally:
                    for done in batch:
                        done.recorded.set()
        except BaseException:
            with self._record_lock:
                self._recording = False
            raise

    def _record_batch(self, batch: list[_Outcome]) -> None:
        try:
            with self.db.session() as session, session.no_autoflush:
                for outcome in batch:
                    self._complete(session, outcome)
            return
        except Exception:
            if len(batch) == 1:
                # The lease runs out and the row is retried once: at worst one duplicate.
                log.exception("recording a send failed", extra={"f_notification": batch[0].item.id})
                return
        for outcome in batch:  # one at a time, so that one bad row does not hold the rest
            self._record_batch([outcome])

    @staticmethod
    def _complete(session: Session, outcome: _Outcome) -> None:
        outbox.complete(
            session,
            outcome.item,
            ok=outcome.ok,
            retryable=outcome.retryable,
            error=outcome.error,
            handed_at=outcome.handed_at,
            now=utcnow(),
        )

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the sends under way (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._inflight if not f.done()]
            if not pending or time.monotonic() > deadline:
                return
            pending[0].result(timeout=max(0.0, deadline - time.monotonic()))

    # SQLite: one worker at a time

    def _hold_lease(self, now: datetime) -> bool:
        with self.db.session() as session:
            lease = session.get(EngineLease, LEASE_NAME)
            until = now + self.config.lease
            if lease is None:
                session.add(
                    EngineLease(
                        name=LEASE_NAME, holder=self.name, lease_until=until, acquired_at=now
                    )
                )
                return True
            if lease.holder == self.name or lease.lease_until < now or _holder_gone(lease.holder):
                if lease.holder != self.name:
                    lease.acquired_at = now
                    log.info("engine lease taken", extra={"f_from": lease.holder})
                lease.holder, lease.lease_until = self.name, until
                return True
            return False

    def release(self) -> None:
        if not self.db.is_sqlite:
            return
        with self.db.session() as session:
            lease = session.get(EngineLease, LEASE_NAME)
            if lease is not None and lease.holder == self.name:
                session.delete(lease)

    # The loop

    def next_wake(self) -> float:
        """Seconds until the earliest due row, at most MAX_SLEEP."""
        now = utcnow()
        with self.db.session(write=False) as session:
            dues = [
                engine.next_due(session),
                session.scalar(
                    select(Notification.due_at)
                    .where(Notification.status == "pending")
                    .order_by(Notification.due_at)
                    .limit(1)
                ),
            ]
        soonest = min((d for d in dues if d is not None), default=None)
        if soonest is None:
            return MAX_SLEEP
        return max(0.0, min(MAX_SLEEP, (soonest - now).total_seconds()))

    def run(self) -> None:
        """Work until stop() is called."""
        if not self.db.is_sqlite:
            self._listener = threading.Thread(
                target=self._listen, name="haetae-listen", daemon=True
            )
            self._listener.start()
        self._handoffs_apart = True
        threading.Thread(target=self._handoff_loop, name="haetae-handoffs", daemon=True).start()
        self._running = True
        try:
            while not self._stop.is_set():
                self.run_once(wait=False)
                delay = self._job("next_wake", self.next_wake)
                wakeup.wait(MAX_SLEEP if delay is None else delay)
            # Sends under way finish and are recorded; nothing new is claimed.
            self.drain(timeout=self.config.send_timeout + 5)
            self._job("release", self.release)
        finally:
            self._running = False
            self._pool.shutdown(wait=False)

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run, name="haetae-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop claiming; run() lets the sends under way finish (also from a signal
        handler on the thread inside run())."""
        self._stop.set()
        wakeup.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if not self._running:
            self._pool.shutdown(wait=False)

    def _handoff_loop(self) -> None:
        while not self._stop.is_set():
            if self.db.is_sqlite and not self._holds_lease:  # SQLite: the lease holder only
                self._stop.wait(MAX_SLEEP)
                continue
            self._job("handoffs", lambda: self._handoffs(utcnow()))
            self._stop.wait(HANDOFF_EVERY.total_seconds())

    def _listen(self) -> None:
        """PostgreSQL: wake on NOTIFY from other processes' commits."""

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {wakeup.CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wakeup.wake()
            except Exception:
                log.warning("engine LISTEN connection lost; polling until it is back")
                self._stop.wait(2.0)


def _holder_gone(holder: str) -> bool:
    """A lease held by a process on this host that no longer exists can be taken at once."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
