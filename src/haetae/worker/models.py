"""The workers' heartbeats: who runs, since when, last seen when, and what their jobs did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base, UTCDateTime


class WorkerHeartbeat(Base):
    """One row per running worker, written by its loop every few seconds: a loop that
    stops turning (dead, wedged, or unable to write) leaves a stale row behind, which
    /health/ready and /metrics report."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # SQLite: whether this worker holds the engine lease (only the holder works).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Cumulative job runs by "job:outcome", for haetae_worker_job_runs_total.
    runs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
