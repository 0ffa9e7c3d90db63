"""Runs queued diagnostics, many at once, outside any transaction.

A pass claims up to `concurrency` queued runs (and running ones whose lease has passed: their
worker died), marking them running under a lease of their timeout plus LEASE_MARGIN, and
commits. It probes them all concurrently on one asyncio event loop in the calling thread,
keeps claiming into the free places while they run, and writes each result (with its
timeline event, the evidence) in a short transaction of its own as soon as it is in, so a
fast check is never held back by a slow one. Targets off the allow-list are refused at claim
time and never touched: the allow-list may have changed since the run was asked for.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from haetae.db import Database
from haetae.diagnostics import allow, probes
from haetae.diagnostics.models import AllowedTarget, DiagnosticRun
from haetae.diagnostics.schemas import CheckSpec, HttpCheck
from haetae.diagnostics.service import parse_spec
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

log = logging.getLogger("haetae.diagnostics")

EVENT_KIND = "diagnostic_result"
LEASE_MARGIN = timedelta(seconds=5)
POLL_SECONDS = 0.5  # how often free places are offered to newly queued runs meanwhile
CLAIM_FOR_SECONDS = 30.0  # a worker job stops taking new runs after this, finishing its own

OpenSession = Callable[..., AbstractContextManager[Session]]  # (write=...) like Database.session


@dataclass(frozen=True)
class Claimed:
    """A run this pass probes, detached from its session."""

    id: int
    spec: CheckSpec
    timeout: float
    started_at: datetime
    # The allow-list when claimed: a redirect the probe meets must be on it too.
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Batch:
    claimed: list[Claimed]
    settled: int  # refused, or a spec that no longer parses: finished at claim time


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def allow_patterns(session: Session) -> list[str]:
    return list(session.scalars(select(AllowedTarget.pattern)))


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        DiagnosticRun.status == "queued",
        and_(DiagnosticRun.status == "running", DiagnosticRun.lease_until < now),
    )


def has_due(session: Session, *, now: datetime) -> bool:
    """Whether any run waits (a read: the idle worker takes no write lock every second)."""
    return session.scalar(select(DiagnosticRun.id).where(_due(now)).limit(1)) is not None


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int,
    prometheus_url: str,
    skip_locked: bool,
) -> Batch:
    """Claim up to `limit` runs: those to probe, and how many were settled at once (refused,
    or a spec that no longer parses)."""
    query = (
        select(DiagnosticRun)
        .where(_due(now))
        .order_by(DiagnosticRun.requested_at, DiagnosticRun.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    runs = list(session.scalars(query))
    if not runs:
        return Batch([], 0)
    patterns = allow_patterns(session)
    claimed: list[Claimed] = []
    settled = 0
    for run in runs:
        try:
            spec = parse_spec(run.spec)
        except ValidationError as exc:
            error = probes.one_line(str(exc.errors()[0].get("msg", exc)), 200)
            broken = probes.ProbeResult("error", probes.CANNOT_RUN, {"error": error})
            finish(session, run, broken, started_at=now, finished_at=now)
            settled += 1
            continue
        if isinstance(spec, HttpCheck):
            run.target = probes.redact_url(spec.url)[:1000]
        verdict = allow.is_allowed(patterns, spec, prometheus_url=prometheus_url)
        if not verdict:
            shown = probes.redact_url(verdict.target) if "://" in verdict.target else verdict.target
            refused = probes.ProbeResult(
                "refused",
                probes.NOT_ALLOWED,
                {"target": shown},
                latency_ms=0.0,
                detail={"refused_target": shown},
            )
            finish(session, run, refused, started_at=now, finished_at=now)
            settled += 1
            continue
        run.status = "running"
        run.worker = worker
        run.lease_until = now + timedelta(seconds=run.timeout_seconds) + LEASE_MARGIN
        run.started_at = now
        claimed.append(Claimed(run.id, spec, run.timeout_seconds, now, tuple(patterns)))
    return Batch(claimed, settled)


def finish(
    session: Session,
    run: DiagnosticRun,
    result: probes.ProbeResult,
    *,
    started_at: datetime,
    finished_at: datetime,
) -> None:
    """Write a run's result and, when it belongs to an incident, its timeline event."""
    run.status = result.status
    run.started_at = started_at
    run.finished_at = finished_at
    run.lease_until = None
    run.latency_ms = result.latency_ms
    run.summary = result.summary
    run.excerpt = probes.bounded(result.excerpt)
    run.detail = {**result.detail, "message": result.message, "args": result.args}
    log.info(
        "diagnostic run finished",
        extra={
            "f_run": run.id,
            "f_kind": run.kind,
            "f_status": run.status,
            "f_target": run.target,
            "f_latency_ms": result.latency_ms,
        },
    )
    if run.incident_id is None:
        return
    timeline.record(
        session,
        run.incident_id,
        kind=EVENT_KIND,
        actor="haetae",
        at=finished_at,
        summary=f"{run.name}: {run.summary}"[:500],
        run_id=run.id,
        name=run.name,
        check_kind=run.kind,
        target=run.target,
        status=run.status,
        latency_ms=result.latency_ms,
        message=result.message,
        args=result.args,
        reason=run.reason,
        step_id=run.step_id,
    )


def record(
    session: Session,
    finished: list[tuple[Claimed, probes.ProbeResult, datetime]],
    *,
    worker: str,
) -> int:
    """Write results; a run another worker took over (this one overran its lease) is
    left to that worker."""
    written = 0
    for item, result, finished_at in finished:
        run = session.get(DiagnosticRun, item.id)
        if run is None or run.status != "running" or run.worker != worker:
            continue
        finish(session, run, result, started_at=item.started_at, finished_at=finished_at)
        written += 1
    return written


def run_batch(
    open_session: OpenSession,
    *,
    now: datetime,
    prometheus_url: str,
    concurrency: int,
    skip_locked: bool,
    worker: str | None = None,
    claim_for: float | None = None,
) -> int:
    """Run queued diagnostics until none is left (or, with `claim_for`, until that many
    seconds have passed and those taken are done); how many runs were settled."""
    with open_session(write=False) as session:
        if not has_due(session, now=now):
            return 0
    loop = asyncio.new_event_loop()
    # Name lookups run in the loop's executor; one that hangs past its check's timeout keeps
    # a thread, which is abandoned rather than waited for.
    lookups = ThreadPoolExecutor(max_workers=min(32, concurrency), thread_name_prefix="haetae-dns")
    loop.set_default_executor(lookups)
    database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haetae-diag-db")
    try:
        return loop.run_until_complete(
            _drive(
                open_session,
                database,
                now=now,
                prometheus_url=prometheus_url,
                concurrency=concurrency,
                skip_locked=skip_locked,
                worker=worker or worker_name(),
                claim_for=claim_for,
            )
        )
    finally:
        database.shutdown(wait=True)
        lookups.shutdown(wait=False, cancel_futures=True)
        loop.close()


async def _drive(
    open_session: OpenSession,
    database: ThreadPoolExecutor,
    *,
    now: datetime,
    prometheus_url: str,
    concurrency: int,
    skip_locked: bool,
    worker: str,
    claim_for: float | None,
) -> int:
    loop = asyncio.get_running_loop()
    began = time.monotonic()

    def at(moment: float) -> datetime:
        return now + timedelta(seconds=moment - began)

    async def one(item: Claimed) -> tuple[probes.ProbeResult, float]:
        result = await probes.probe(
            item.spec,
            now=at(time.monotonic()),
            prometheus_url=prometheus_url,
            allow_url=partial(allow.allows_url, item.patterns),
            timeout=item.timeout,
        )
        return result, time.monotonic()

    in_flight: dict[asyncio.Task[tuple[probes.ProbeResult, float]], Claimed] = {}
    handled = 0
    claiming = True
    try:
        while True:
            room = concurrency - len(in_flight)
            batch = Batch([], 0)
            if claiming and room > 0:
                take = partial(
                    _claim_in,
                    open_session,
                    worker=worker,
                    now=at(time.monotonic()),
                    limit=room,
                    prometheus_url=prometheus_url,
                    skip_locked=skip_locked,
                )
                batch = await loop.run_in_executor(database, take)
                handled += batch.settled
                for item in batch.claimed:
                    in_flight[loop.create_task(one(item))] = item
                if claim_for is not None and time.monotonic() - began > claim_for:
                    claiming = False
            if not in_flight:
                if claiming and (batch.claimed or batch.settled):
                    continue
                return handled
            done, _pending = await asyncio.wait(
                in_flight, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            finished = []
            for task in done:
                item = in_flight.pop(task)
                result, ended = task.result()
                finished.append((item, result, at(ended)))
            if finished:
                write = partial(_record_in, open_session, finished, worker=worker)
                handled += await loop.run_in_executor(database, write)
    finally:
        # A failed write leaves the rest to the lease: their runs are taken again later.
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)


def _claim_in(open_session: OpenSession, **kwargs: Any) -> Batch:
    with open_session() as session:
        return claim(session, **kwargs)


def _record_in(
    open_session: OpenSession,
    finished: list[tuple[Claimed, probes.ProbeResult, datetime]],
    *,
    worker: str,
) -> int:
    with open_session() as session:
        return record(session, finished, worker=worker)


def run_now(
    db: Database,
    policy: Policy,
    *,
    prometheus_url: str,
    concurrency: int,
    now: datetime,
    worker: str | None = None,
) -> int:
    """Run every queued diagnostic now, in this thread (tests, the bench, the CLI)."""
    del policy  # the runs carry what they need; kept for the callers' uniform signature
    return run_batch(
        db.session,
        now=now,
        prometheus_url=prometheus_url,
        concurrency=concurrency,
        skip_locked=not db.is_sqlite,
        worker=worker,
    )
