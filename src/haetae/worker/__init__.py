"""The background worker: runs the domains' due jobs and delivers the outbox."""

from haetae.worker.loop import Cycle, Worker, WorkerConfig, config_from

__all__ = ["Cycle", "Worker", "WorkerConfig", "config_from"]
