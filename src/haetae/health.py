"""Liveness, readiness and the Prometheus scrape endpoint (public by design)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from haetae.clock import utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.metrics.prometheus import IncidentCollector
from haetae.worker.status import EngineStatus, engine_status

router = APIRouter(tags=["operations"])
log = logging.getLogger("haetae.health")
_register_lock = threading.Lock()


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    checks: dict[str, dict[str, Any]] = {}
    checks["database"] = _check(db.ping)
    checks["database_write"] = _check(db.check_writable)
    checks["policy"] = {"ok": True, "name": request.app.state.policy.name}
    checks.update(_engine_checks(db, settings))
    limiter = getattr(request.app.state, "limiter", None)
    if limiter is not None:
        checks["rate_limiter"] = limiter.health()
    # A failing check makes Haetae unready (503); a degraded one (the rate limiter counting
    # in memory because Redis is down) keeps it serving (200) and says why.
    failing = [name for name, check in checks.items() if not check["ok"]]
    degraded = [name for name, check in checks.items() if check["ok"] and check.get("degraded")]
    status = "unavailable" if failing else "degraded" if degraded else "ok"
    body = {"status": status, "failing": failing, "degraded": degraded, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)


def _check(probe: Any) -> dict[str, Any]:
    try:
        probe()
    except Exception as exc:  # any driver error means "not ready"
        return {"ok": False, "error": type(exc).__name__, "reason": str(exc)[:300]}
    return {"ok": True}


def _engine_checks(db: Database, settings: Settings) -> dict[str, dict[str, Any]]:
    """`worker`: some worker's heartbeat is fresh (or, when none is expected here and none
    ever reported, nothing to check). `overdue`: while a worker runs, no escalation step
    and no page waits longer than OVERDUE_AFTER_SECONDS past its due time."""
    try:
        with db.session(write=False) as session:
            status = engine_status(session, now=utcnow())
    except Exception:
        # The database checks already fail and say why; nothing more is known here.
        skipped = {"ok": True, "skipped": "the database cannot be read"}
        return {"worker": skipped, "overdue": skipped}
    stale_after = settings.worker_stale_seconds
    fresh = status.fresh(stale_after)
    worker: dict[str, Any] = {"ok": True, "workers": len(fresh)}
    if fresh:
        worker["heartbeat_age_seconds"] = round(min(w.age for w in fresh), 1)
    elif status.workers:
        age = min(w.age for w in status.workers)
        worker = {
            "ok": False,
            "workers": 0,
            "reason": f"no worker heartbeat in the last {stale_after:g} s "
            f"(the freshest is {age:.0f} s old)",
            "heartbeat_age_seconds": round(age, 1),
        }
    elif settings.run_worker:
        worker = {"ok": False, "workers": 0, "reason": "the worker has not reported yet"}
    else:
        worker["reason"] = "no worker reports to this database (HAETAE_RUN_WORKER=false)"
    return {"worker": worker, "overdue": _overdue(status, settings, running=bool(fresh))}


def _overdue(status: EngineStatus, settings: Settings, *, running: bool) -> dict[str, Any]:
    bound = settings.overdue_after_seconds
    check: dict[str, Any] = {
        "ok": True,
        "escalation_step_seconds": round(status.step_overdue, 1),
        "page_seconds": round(status.page_overdue, 1),
    }
    late = [
        what
        for what, waited in (
            ("an escalation step", status.step_overdue),
            ("a page", status.page_overdue),
        )
        if waited > bound
    ]
    if late and running:
        check["ok"] = False
        check["reason"] = f"{' and '.join(late)} overdue by more than {bound:g} s"
    return check


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    state = request.app.state
    with _register_lock:
        if not getattr(state, "engine_collector", None):
            # Joins the registry at the first scrape: reading it needs the database.
            state.engine_collector = EngineCollector(state.db)
            state.metrics.registry.register(state.engine_collector)
        if not getattr(state, "incident_collector", None):
            state.incident_collector = IncidentCollector(state.db, lambda: state.policy)
            state.metrics.registry.register(state.incident_collector)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class EngineCollector(Collector):
    """The engine's facts on /metrics, read from the database at each scrape, so that every
    API process reports every worker: heartbeat ages, job runs, the oldest overdue work."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "haetae_engine_status_up", "1 when the engine's status could be read"
        )
        try:
            with self.db.session(write=False) as session:
                status = engine_status(session, now=utcnow())
        except Exception as exc:
            log.warning("engine status unreadable", extra={"f_error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        age = GaugeMetricFamily(
            "haetae_worker_heartbeat_age_seconds",
            "Seconds since each worker's last heartbeat",
            labels=["worker"],
        )
        runs = CounterMetricFamily(
            "haetae_worker_job_runs",
            "Runs of each worker job, by outcome (ok, error; thread restarts)",
            labels=["worker", "job", "outcome"],
        )
        for seen in status.workers:
            age.add_metric([seen.name], seen.age)
            for key, value in seen.runs.items():
                job, _, outcome = key.rpartition(":")
                runs.add_metric([seen.name, job, outcome], value)
        yield age
        yield runs
        step = GaugeMetricFamily(
            "haetae_escalation_oldest_overdue_seconds",
            "How long the oldest due escalation step has waited (0: none waits)",
        )
        step.add_metric([], status.step_overdue)
        yield step
        page = GaugeMetricFamily(
            "haetae_notification_oldest_overdue_seconds",
            "How long the oldest message a worker could send has waited (0: none waits)",
        )
        page.add_metric([], status.page_overdue)
        yield page
