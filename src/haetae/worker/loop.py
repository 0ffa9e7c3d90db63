"""The worker's loop and its supervisor: runs the registry's jobs when work is due, hands
what they queue to the send pool, and keeps every one of its threads alive.

The database is the only timer. Each job run is one short, bounded transaction; on
PostgreSQL several workers share the work through SKIP LOCKED, on SQLite one worker holds
a lease. An exception in a job, the lease, a claim or the heartbeat is logged with its
name, counted and retried with backoff; it never ends the loop. A thread that dies anyway
is restarted by the supervisor.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

import psycopg

from haetae import wakeup
from haetae.clock import utcnow
from haetae.db import Database, DatabaseUnavailable
from haetae.escalation import engine
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.worker.config import WorkerConfig
from haetae.worker.heartbeat import Heartbeat
from haetae.worker.lease import EngineLeaseHolder
from haetae.worker.registry import default_jobs
from haetae.worker.senders import SendPool

log = logging.getLogger("haetae.worker")
T = TypeVar("T")

MAX_SLEEP = 1.0  # the safety net when a wake-up is lost
SUPERVISE_EVERY = 1.0  # how often dead threads are looked for
BACKOFF_FIRST = 0.5  # seconds before a failed job is tried again, doubling...
BACKOFF_MAX = 5.0  # ...up to this: after a fault ends, work resumes within seconds


@dataclass
class Cycle:
    """What one pass did: items handled per job, and messages handed to senders."""

    done: Counter[str] = field(default_factory=Counter)
    claimed: int = 0

    @property
    def steps(self) -> int:
        return self.done["escalation"]

    @property
    def reminders(self) -> int:
        return self.done["reminders"]


class Worker:
    def __init__(
        self,
        database: Database,
        policy: Callable[[], Policy] | Policy,
        config: WorkerConfig,
        *,
        name: str | None = None,
        jobs: list[Job] | None = None,
    ) -> None:
        self.db = database
        self._policy = policy
        self.config = config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.skip_locked = not database.is_sqlite
        self.jobs = default_jobs() if jobs is None else jobs
        self.heartbeat = Heartbeat(
            database, self.name, every=config.heartbeat_every, started_at=utcnow()
        )
        self.senders = SendPool(
            database, lambda: self.policy, config, name=self.name, count=self.heartbeat.count
        )
        self.lease = (
            EngineLeaseHolder(database, self.name, config.lease) if database.is_sqlite else None
        )
        self._backoff: dict[str, tuple[float, float]] = {}  # name -> (until, last delay)
        self._last_run: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Set by run(): the jobs marked `apart` then have threads of their own.
        self._apart = False
        self._running = False

    @property
    def policy(self) -> Policy:
        return self._policy() if callable(self._policy) else self._policy

    @property
    def active(self) -> bool:
        """Whether this worker works now (SQLite: it holds the lease)."""
        return self.lease is None or self.lease.held

    # One cycle

    def run_once(self, *, wait: bool = True) -> Cycle:
        """One pass over everything due now; with `wait`, until its sends are settled."""
        cycle = Cycle()
        now = utcnow()
        if self.lease is not None:
            lease = self.lease
            if not self._attempt("lease", lambda: lease.hold(now)):
                self._beat(now)  # standing by is alive too
                return cycle
        cycle.claimed += self._deliver(now)  # retries and pages queued by requests
        for job in self.jobs:
            if job.apart and self._apart:
                continue
            last = self._last_run.get(job.name)
            if job.every is not None and last is not None and now - last < job.every:
                continue
            self._run_job(job, cycle)
        cycle.claimed += self._deliver(utcnow())
        self._beat(utcnow())
        if wait:
            self.drain()
        return cycle

    def _run_job(self, job: Job, cycle: Cycle) -> bool:
        """Run a job (again while it fills its batch); False when a run failed."""
        for _ in range(job.max_runs):
            ctx = JobContext(
                self.db,
                self.policy,
                utcnow(),
                self.skip_locked,
                job.timeout,
                public_url=self.config.public_url,
                runbooks_dir=self.config.runbooks_dir,
                policy_file=self.config.policy_file,
                prometheus_url=self.config.prometheus_url,
                diagnostics_concurrency=self.config.diagnostics_concurrency,
                subscriber_send_rate=self.config.subscriber_send_rate,
            )
            done = self._attempt(job.name, partial(job.run, ctx))
            if done is None:
                return False
            self._last_run[job.name] = ctx.now
            cycle.done[job.name] += done
            if done:
                cycle.claimed += self._deliver(utcnow())
            self._beat(utcnow())
            if job.batch is None or done < job.batch:
                break
        return True

    def _attempt(self, name: str, work: Callable[[], T]) -> T | None:
        """Run one piece of the loop's work: a failure is logged with its name, counted and
        retried after a backoff; it never propagates."""
        backoff = self._backoff.get(name)
        if backoff is not None and time.monotonic() < backoff[0]:
            return None
        try:
            result = work()
        except Exception as exc:
            delay = BACKOFF_FIRST if backoff is None else min(BACKOFF_MAX, backoff[1] * 2)
            self._backoff[name] = (time.monotonic() + delay, delay)
            self.heartbeat.count(name, "error")
            # A database fault is expected and said once per retry, without a traceback;
            # anything else is a bug, with its traceback.
            fault = isinstance(exc, DatabaseUnavailable)
            log.log(
                logging.WARNING if fault else logging.ERROR,
                "worker job failed; retrying in %.1f s",
                delay,
                exc_info=None if fault else exc,
                extra={"f_job": name, "f_error": type(exc).__name__, "f_reason": str(exc)[:200]},
            )
            return None
        self._backoff.pop(name, None)
        self.heartbeat.count(name, "ok")
        return result

    def _beat(self, now: datetime) -> None:
        if self.heartbeat.due(now):
            self._attempt("heartbeat", lambda: self.heartbeat.beat(now, active=self.active))

    # Delivery

    def _deliver(self, now: datetime) -> int:
        total = 0
        while True:
            room = self.senders.room()
            if room <= 0:
                return total
            claimed = self._attempt("claim", partial(self.senders.claim, now, room))
            if not claimed:
                return total
            self.senders.submit(claimed)
            total += len(claimed)
            if len(claimed) < room:
                return total

    def drain(self, timeout: float = 60.0) -> None:
        """Wait for the sends under way (tests and shutdown)."""
        self.senders.drain(timeout)

    @property
    def on_handed(self) -> Callable[[int, datetime], None] | None:
        return self.senders.on_handed

    @on_handed.setter
    def on_handed(self, hook: Callable[[int, datetime], None] | None) -> None:
        self.senders.on_handed = hook

    def next_wake(self) -> float:
        """Seconds until the earliest due work, at most MAX_SLEEP."""
        now = utcnow()
        with self.db.session(write=False) as session:
            dues = [engine.next_due(session), outbox.next_due(session, now=now)]
        soonest = min((d for d in dues if d is not None), default=None)
        if soonest is None:
            return MAX_SLEEP
        return max(0.0, min(MAX_SLEEP, (soonest - now).total_seconds()))

    def release(self) -> None:
        """Give up the lease (SQLite) and the heartbeat row: a clean stop, not a dead worker."""
        if self.lease is not None:
            self.lease.release()
        self.heartbeat.remove()

    # Running continuously, supervised

    def run(self) -> None:
        """Work until stop() is called: the loop, the LISTEN connection (PostgreSQL) and
        the `apart` jobs each in a thread, restarted whenever one dies."""
        self._apart = True
        self._running = True
        targets: dict[str, Callable[[], None]] = {"loop": self._loop}
        if not self.db.is_sqlite:
            targets["listen"] = self._listen
        for job in self.jobs:
            if job.apart:
                targets[job.name] = partial(self._apart_loop, job)
        threads: dict[str, threading.Thread] = {}
        try:
            while not self._stop.is_set():
                for name, target in targets.items():
                    thread = threads.get(name)
                    if thread is not None and thread.is_alive():
                        continue
                    if thread is not None:
                        log.error("worker thread died; restarting it", extra={"f_thread": name})
                        self.heartbeat.count(f"thread:{name}", "restarted")
                    threads[name] = threading.Thread(
                        target=target, name=f"haetae-{name}", daemon=True
                    )
                    threads[name].start()
                self._stop.wait(SUPERVISE_EVERY)
            wakeup.wake()
            for thread in threads.values():
                thread.join(self.config.send_timeout + 5)
            # Sends under way finish and are recorded; nothing new is claimed.
            self.drain(timeout=self.config.send_timeout + 5)
            self._attempt("release", self.release)
        finally:
            self._running = False
            self.senders.shutdown()

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay: float | None = None
            try:
                self.run_once(wait=False)
                delay = self._attempt("next_wake", self.next_wake)
            except Exception:
                log.exception("worker cycle failed", extra={"f_job": "cycle"})
                self.heartbeat.count("cycle", "error")
                delay = BACKOFF_MAX
            wakeup.wait(MAX_SLEEP if delay is None else delay)

    def _apart_loop(self, job: Job) -> None:
        while not self._stop.is_set():
            if not self.active:
                self._stop.wait(MAX_SLEEP)
                continue
            ok = self._run_job(job, Cycle())
            every = job.every.total_seconds() if job.every is not None else MAX_SLEEP
            self._stop.wait(every if ok else BACKOFF_MAX)

    def _listen(self) -> None:
        """PostgreSQL: wake on NOTIFY from other processes' commits."""
        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {wakeup.CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wakeup.wake()
            except Exception as exc:
                self.heartbeat.count("listen", "error")
                log.warning(
                    "engine LISTEN connection lost; polling until it is back",
                    extra={"f_error": type(exc).__name__},
                )
                self._stop.wait(2.0)

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
            self.senders.shutdown()
