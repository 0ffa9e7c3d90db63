"""The background worker: runs the domains' due jobs and delivers the outbox. `haetae serve`
runs one in a thread; `haetae worker` runs more. See loop.py."""

from haetae.worker.config import WorkerConfig, config_from
from haetae.worker.loop import Cycle, Worker

__all__ = ["Cycle", "Worker", "WorkerConfig", "config_from"]
