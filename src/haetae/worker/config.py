"""The worker's settings, taken from the application's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from haetae.config import Settings


@dataclass(frozen=True)
class WorkerConfig:
    public_url: str
    secret: str
    senders: int = 16
    send_timeout: float = 10.0
    lease: timedelta = timedelta(seconds=30)
    # How often the loop records that it is turning; readiness fails past stale_after.
    heartbeat_every: float = 5.0
    stale_after: float = 15.0
    # Test hook: seconds each sender waits between claiming and sending (to kill it there).
    pause_before_send: float = 0.0
    # Issue 13: runbook directories (RUNBOOKS_DIR), the policy file (its runbooks.directories
    # are relative to it), the Prometheus checks ask, and how many checks run at once.
    runbooks_dir: str = ""
    policy_file: str = ""
    prometheus_url: str = ""
    diagnostics_concurrency: int = 50
    subscriber_send_rate: float = 300.0


def config_from(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        public_url=settings.base_url,
        secret=settings.jwt_secret or "",
        senders=settings.engine_senders,
        send_timeout=settings.notify_timeout_seconds,
        lease=timedelta(seconds=settings.engine_lease_seconds),
        heartbeat_every=settings.worker_heartbeat_seconds,
        stale_after=settings.worker_stale_seconds,
        pause_before_send=settings.engine_pause_before_send,
        runbooks_dir=settings.runbooks_dir,
        policy_file=str(settings.policy_file or ""),
        prometheus_url=settings.prometheus_url,
        diagnostics_concurrency=settings.diagnostics_concurrency,
        subscriber_send_rate=settings.subscriber_send_rate,
    )
