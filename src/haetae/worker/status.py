"""How the engine stands, read from the database: the workers' heartbeats and the oldest
due work still waiting. One read for /health/ready and for /metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.escalation import engine
from haetae.notify import outbox
from haetae.worker.models import WorkerHeartbeat


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    age: float  # seconds since its last heartbeat
    active: bool
    runs: dict[str, int]


@dataclass(frozen=True)
class EngineStatus:
    workers: list[WorkerSeen]
    step_overdue: float  # seconds the oldest due escalation step has waited (0: none)
    page_overdue: float  # the same for the oldest message a claim could take

    def fresh(self, stale_after: float) -> list[WorkerSeen]:
        """Workers heard from lately that work now (SQLite: the lease holder)."""
        return [w for w in self.workers if w.age <= stale_after and w.active]


def engine_status(session: Session, *, now: datetime) -> EngineStatus:
    rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.name)).all()
    workers = [
        WorkerSeen(
            name=row.name,
            age=max(0.0, (now - row.beat_at).total_seconds()),
            active=row.active,
            runs={k: int(v) for k, v in (row.runs or {}).items()},
        )
        for row in rows
    ]
    return EngineStatus(
        workers=workers,
        step_overdue=_waited(engine.next_due(session), now),
        page_overdue=_waited(outbox.next_due(session, now=now), now),
    )


def _waited(due: datetime | None, now: datetime) -> float:
    return 0.0 if due is None else max(0.0, (now - due).total_seconds())
