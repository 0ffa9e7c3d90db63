"""The worker's heartbeat: its loop records that it is turning, with its jobs' counts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import delete

from haetae.db import Database
from haetae.worker.models import WorkerHeartbeat

# A worker not heard from in this long is gone: its row is removed by the others.
FORGET_AFTER = timedelta(hours=1)


class Heartbeat:
    """Counts job outcomes in memory (haetae_worker_job_runs_total) and writes them, with
    the time, to the worker's row every `every` seconds."""

    def __init__(self, db: Database, name: str, *, every: float, started_at: datetime) -> None:
        self.db = db
        self.name = name
        self.every = timedelta(seconds=every)
        self.started_at = started_at
        self._runs: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.last_beat: datetime | None = None

    def count(self, job: str, outcome: str) -> None:
        with self._lock:
            self._runs[f"{job}:{outcome}"] += 1

    def runs(self) -> dict[str, int]:
        with self._lock:
            return dict(self._runs)

    def due(self, now: datetime) -> bool:
        return self.last_beat is None or now - self.last_beat >= self.every

    def beat(self, now: datetime, *, active: bool) -> None:
        with self.db.session() as session:
            row = session.get(WorkerHeartbeat, self.name)
            if row is None:
                row = WorkerHeartbeat(name=self.name, started_at=self.started_at)
                session.add(row)
            row.beat_at, row.active, row.runs = now, active, self.runs()
            session.execute(
                delete(WorkerHeartbeat).where(
                    WorkerHeartbeat.beat_at < now - FORGET_AFTER,
                    WorkerHeartbeat.name != self.name,
                )
            )
        self.last_beat = now

    def remove(self) -> None:
        with self.db.session() as session:
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == self.name))
