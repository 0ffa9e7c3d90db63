"""Diagnostics speed: 50 checks started at once on one worker, and paging lateness beside them.

One fresh SQLite database and one worker (haetae.worker.Worker running continuously, as
`haetae worker` does: the diagnostics job in a thread of its own). The checks' targets are
an asyncio HTTP server in a process of its own on loopback: `/fast` answers 200 at once,
`/slow` after 1 s, `/hang` never within the check's 2 s timeout. Pages go to
bench/receiver.py through Apprise's json://, as in bench/escalation.py, whose fixtures and
measure this reuses: the lateness of a step = its page's `handed_at` minus its due time.

1. **baseline**: N escalation steps (60) due spread across S seconds (3), no checks.
2. **with checks**: the same (other people: a contact method takes a message every 12 s),
   and 50 checks (40 fast, 5 slow, 5 hanging) queued at once as the first step falls due.

Printed: per kind of check, the slowest queued -> finished and claimed -> finished against
its timeout + 1 s; lateness p50/max with and without the checks, and the ratio of the
medians. Exit 0 whatever the figures; 1 when something broke.

    .venv/bin/python bench/diagnostics.py
    .venv/bin/python bench/diagnostics.py --checks 100 --steps 120
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.escalation import (  # noqa: E402
    Broken,
    Phase,
    collect,
    make_escalations,
    make_people,
    note,
    settle,
)
from bench.receiver import received_keys, receiver  # noqa: E402

from haetae.clock import as_utc  # noqa: E402
from haetae.db import Database  # noqa: E402
from haetae.diagnostics import service  # noqa: E402
from haetae.diagnostics.models import AllowedTarget, DiagnosticRun  # noqa: E402
from haetae.incidents.models import Incident  # noqa: E402
from haetae.migrations import upgrade_to_head  # noqa: E402
from haetae.policy.loader import default_policy  # noqa: E402
from haetae.worker import Worker, WorkerConfig  # noqa: E402

HANG_TIMEOUT = 2.0
CHECK_TIMEOUT = 5.0  # the fast and slow checks'


def _serve_targets(ports: multiprocessing.Queue[int]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            path = line.split()[1].decode() if len(line.split()) > 1 else "/"
            if path.startswith("/hang"):
                await asyncio.sleep(60)
            elif path.startswith("/slow"):
                await asyncio.sleep(1.0)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
            await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        ports.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


@contextmanager
def targets() -> Iterator[int]:
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_serve_targets, args=(ports,), daemon=True)
    proc.start()
    try:
        yield ports.get(timeout=20)
    finally:
        proc.terminate()
        proc.join(5)


def queue_checks(db: Database, port: int, count: int) -> dict[int, str]:
    """`count` checks queued in one transaction: run id -> its kind (fast, slow, hang)."""
    kinds = {}
    now = datetime.now(UTC)
    with db.session() as session:
        for n in range(count):
            kind = "hang" if n % 10 == 9 else "slow" if n % 10 == 8 else "fast"
            timeout = HANG_TIMEOUT if kind == "hang" else CHECK_TIMEOUT
            spec = service.parse_spec(
                {
                    "kind": "http",
                    "url": f"http://127.0.0.1:{port}/{kind}/{n}",
                    "timeout": f"{timeout:g}s",
                }
            )
            run = service.request_run(
                session, spec=spec, incident_id=None, reason="manual", by="bench", now=now
            )
            kinds[run.id] = kind
    return kinds


def lateness(
    db: Database,
    address: str,
    prefix: str,
    steps: int,
    spread: float,
    offset: int,
    at_first_due: Callable[[], None] = lambda: None,
) -> Phase:
    """Steps paging the on-call of services svc-offset... (each phase its own people: a
    contact method takes a message at most every 12 s)."""
    engine = db.engine
    start = datetime.now(UTC) + timedelta(seconds=1.0)
    dues = [start + timedelta(seconds=spread * i / max(1, steps - 1)) for i in range(steps)]
    phase = Phase(prefix, steps)
    make_escalations(engine, prefix, dues)
    with engine.begin() as conn:
        for i in range(steps):
            conn.execute(
                update(Incident)
                .where(Incident.id == f"{prefix}-{i:05d}")
                .values(services=[f"svc-{offset + i:05d}"])
            )
    time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()))
    at_first_due()
    settle(engine, prefix, steps, time.monotonic() + spread + 20)
    collect(engine, phase, prefix, received_keys(address))
    return phase


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=50, help="checks queued at once")
    parser.add_argument("--steps", type=int, default=60, help="escalation steps per phase")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds the steps spread")
    args = parser.parse_args()
    began = time.monotonic()
    print(
        f"{args.checks} checks at once beside {args.steps} steps across {args.spread:g} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    with tempfile.TemporaryDirectory() as tmp, receiver() as address, targets() as port:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_to_head(url)
        make_people(create_engine(url), 2 * args.steps, 2 * args.steps, address)
        db = Database(url)
        with db.session() as session:
            session.add(AllowedTarget(pattern="127.0.0.1", note="", created_at=datetime.now(UTC)))
        worker = Worker(
            db,
            default_policy(),
            WorkerConfig(
                public_url="http://127.0.0.1:9",
                secret="bench-secret-that-is-long-enough-0123456789",
                senders=4,
                diagnostics_concurrency=max(50, args.checks),
            ),
        ).start()
        try:
            time.sleep(2.0)  # past start-up: the lease, the first hand-off scan
            note("baseline: steps alone")
            alone = lateness(db, address, "BASE", args.steps, args.spread, 0)
            time.sleep(1.0)
            note(f"{args.checks} checks queued at once as the first step falls due")
            kinds: dict[int, str] = {}
            beside = lateness(
                db,
                address,
                "DIAG",
                args.steps,
                args.spread,
                args.steps,
                lambda: kinds.update(queue_checks(db, port, args.checks)),
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with db.session(write=False) as session:
                    statuses = list(session.scalars(select(DiagnosticRun.status)))
                if all(s not in ("queued", "running") for s in statuses):
                    break
                time.sleep(0.2)
            with db.session(write=False) as session:
                rows = [
                    (r.id, r.status, r.requested_at, r.started_at, r.finished_at, r.timeout_seconds)
                    for r in session.scalars(select(DiagnosticRun))
                ]
        finally:
            worker.stop()
            db.dispose()
    return report(args, kinds, rows, alone, beside, time.monotonic() - began)


def report(
    args: argparse.Namespace,
    kinds: dict[int, str],
    rows: list[tuple[int, str, datetime, datetime | None, datetime | None, float]],
    alone: Phase,
    beside: Phase,
    seconds: float,
) -> int:
    within = True
    expected = {"fast": "ok", "slow": "ok", "hang": "timeout"}
    for kind in ("fast", "slow", "hang"):
        mine = [r for r in rows if kinds.get(r[0]) == kind]
        done = [r for r in mine if r[4] is not None]
        wrong = [r for r in mine if r[1] != expected[kind]]
        if not done:
            print(f"  {kind}: none finished")
            within = False
            continue
        total = max((as_utc(r[4]) - as_utc(r[2])).total_seconds() for r in done)  # type: ignore[arg-type]
        run = max((as_utc(r[4]) - as_utc(r[3])).total_seconds() for r in done)  # type: ignore[arg-type]
        limit = mine[0][5] + 1
        within &= total <= limit and len(done) == len(mine) and not wrong
        print(
            f"  {len(mine):3d} {kind:4s} (timeout {mine[0][5]:g} s): slowest queued -> finished "
            f"{total:.2f} s, claimed -> finished {run:.2f} s"
            + (f"; {len(wrong)} not {expected[kind]}" if wrong else "")
        )
    for phase in (alone, beside):
        if phase.seconds:
            print(
                f"  paging lateness {'without' if phase is alone else 'with'} the checks: "
                f"p50 {statistics.median(phase.seconds):.3f} s, max {max(phase.seconds):.3f} s "
                f"({len(phase.seconds)} steps)"
            )
        for problem in [*phase.problems, *([phase.unfinished] if phase.unfinished else [])]:
            print(f"  PROBLEM {phase.label}: {problem}")
    if not (alone.seconds and beside.seconds):
        print("the bench broke: no lateness figures")
        return 1
    ratio = statistics.median(beside.seconds) / max(statistics.median(alone.seconds), 1e-6)
    print(f"  lateness median with / without: {ratio:.2f}")
    print()
    print(
        f"{'PASS' if within else 'FAIL'}  {args.checks} checks started at once all finished "
        "within their timeout + 1 s (queued -> finished)"
    )
    print(f"\n({seconds:.0f} s in all)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Broken as exc:
        print(f"the bench broke: {exc}")
        sys.exit(1)
