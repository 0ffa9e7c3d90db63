"""Background jobs: what a domain contributes to the worker's registry, and the bounded
transaction each run gets.

A domain lists its jobs in its own `jobs.py` (`JOBS = [Job(...)]`); the worker's registry
(haetae.worker.registry) gathers them. A job does one kind of due work per run, in
transactions opened with `JobContext.session()`, and returns how many items it handled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from haetae.db import Database
from haetae.policy.schema import Policy

# SQLite's progress handler runs every this many virtual-machine instructions.
_PROGRESS_STEPS = 1000


@dataclass(frozen=True)
class JobContext:
    """What a job run is given: the database, the policy in force and the moment it runs
    for, and the bound on each of its transactions."""

    db: Database
    policy: Policy
    now: datetime
    skip_locked: bool
    timeout: float
    # Haetae's own base URL (the worker's public_url): drills post their synthetic alerts there.
    public_url: str = ""
    # Issue 13 (see WorkerConfig): runbook directories, the policy file, Prometheus, and how
    # many diagnostics run at once.
    runbooks_dir: str = ""
    policy_file: str = ""
    prometheus_url: str = ""
    diagnostics_concurrency: int = 50
    # Status page subscribers (statuspage/fanout_jobs.py): messages a second per transport.
    subscriber_send_rate: float = 300.0

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction, bounded in time: past `timeout` seconds of statements it is
        interrupted and rolled back (PostgreSQL's statement_timeout; SQLite's progress
        handler), so one stuck job cannot hold the loop or a lock for long."""
        with self.db.session(write=write) as session, _bounded(session, self.timeout):
            yield session


@contextmanager
def _bounded(session: Session, seconds: float) -> Iterator[None]:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))
        yield
        return
    raw: Any = connection.connection.dbapi_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        yield
    finally:
        # Pooled connections outlive the job; commit is never interrupted.
        raw.set_progress_handler(None, 0)


@dataclass(frozen=True)
class Job:
    """One kind of due work.

    batch: a run that handled this many items may have left more due: run it again at once
    (up to `max_runs` per cycle), handing what it queued to the senders between runs.
    every: run at most this often (None: every cycle).
    apart: in a thread of its own when the worker runs continuously (a long read, such as
    every schedule's shifts, must not delay due pages).
    timeout: the bound on each of its transactions, in seconds.
    """

    name: str
    run: Callable[[JobContext], int]
    batch: int | None = None
    max_runs: int = 1
    every: timedelta | None = None
    apart: bool = False
    timeout: float = 20.0
