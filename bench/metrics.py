"""The metrics API and the monthly report at scale, on SQLite and PostgreSQL.

Seeds a fresh database per engine at head with a year of incidents (100,000 by default: a
status update or two, an IC, a page and one or two services each, a few drills and canceled
ones) by plain batched inserts, builds their facts with `facts.refresh_all` (timed), then:

- the monthly review report: `reviews.service.build_report` for last month (what the worker's
  job builds: the statistics, compliance, trends, top causes, action items and load) and its
  Markdown, in-process with an empty cache (the issue's target is under 2 s);
- `GET /api/v1/metrics` for each group_by over the last 30 days and over the whole year, from
  16 concurrent connections to `haetae serve` on loopback: uncached (30 days only: each
  request asks for a window a few seconds different, so every one is built from the facts)
  and cached (the same window each time: served from the cache keyed by the facts' version;
  its first request is the cold build). Prints medians and p95 (the target is p95 < 300 ms).
  PostgreSQL is seeded with its triggers off (session_replication_role = replica).

    .venv/bin/python bench/metrics.py --incidents 10000 --db sqlite   # a smoke check first
    .venv/bin/python bench/metrics.py                                  # 100k, both databases
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster  # noqa: E402
from tests.support.server import BOOTSTRAP_KEY as KEY  # noqa: E402
from tests.support.server import HAETAE, serve_env, serve_process  # noqa: E402

from haetae.incidents.models import (  # noqa: E402
    Incident,
    IncidentService,
    RoleAssignment,
    StatusUpdate,
)
from haetae.metrics import facts, queries  # noqa: E402
from haetae.metrics.schemas import GROUP_BYS  # noqa: E402
from haetae.notify.models import Notification  # noqa: E402
from haetae.policy.loader import default_policy  # noqa: E402
from haetae.reviews import service as reviews  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BATCH = 2_000
SEVERITIES = ["P1"] * 5 + ["P2"] * 15 + ["P3"] * 40 + ["P4"] * 40
CATEGORIES = ["infrastructure", "application", "deployment", "security", "performance", None]
SERVICES = [f"svc-{n}" for n in range(20)]


def _minutes(rnd: random.Random, median: float) -> timedelta:
    return timedelta(minutes=rnd.lognormvariate(0, 1) * median)


def _rows(count: int, rnd: random.Random) -> Iterator[dict[str, list[dict[str, Any]]]]:
    span = 365 * 24 * 3600
    out: dict[str, list[dict[str, Any]]] = {"i": [], "s": [], "u": [], "r": [], "n": []}
    for n in range(count):
        started = NOW - timedelta(seconds=span * (count - n) / count + rnd.random())
        detected = started + _minutes(rnd, 4)
        declared = detected + timedelta(seconds=30)
        acked = detected + _minutes(rnd, 6)
        mitigated = acked + _minutes(rnd, 20)
        resolved = mitigated + _minutes(rnd, 30)
        roll = rnd.random()
        status = "canceled" if roll < 0.02 else ("investigating" if roll < 0.03 else "resolved")
        iid = f"INC-{declared:%Y%m%d}-{n:06d}"
        services = list(dict.fromkeys(rnd.choices(SERVICES, k=rnd.randint(1, 2))))
        out["i"].append(
            {
                "id": iid,
                "title": f"bench incident {n}",
                "summary": "",
                "status": status,
                "severity": rnd.choice(SEVERITIES),
                "severity_source": "explicit",
                "category": rnd.choice(CATEGORIES),
                "services": services,
                "tags": [],
                "impact": {},
                "complexity": 1,
                "priority_score": 1.0,
                "declared_by": "integration:am" if rnd.random() < 0.6 else "bench",
                "declared_at": declared,
                "started_at": started,
                "detected_at": detected,
                "acknowledged_at": acked,
                "mitigated_at": mitigated if status == "resolved" else None,
                "resolved_at": resolved if status == "resolved" else None,
                "canceled_at": declared + timedelta(minutes=5) if status == "canceled" else None,
                "recurrence_of": None,
                "drill": rnd.random() < 0.01,
                "updated_at": resolved,
            }
        )
        out["s"] += [{"incident_id": iid, "service": s, "declared_at": declared} for s in services]
        first = detected + _minutes(rnd, 8)
        out["u"].append(
            {
                "incident_id": iid,
                "situation": "investigating",
                "next_update_at": first + timedelta(minutes=30),
                "author": "bench",
                "created_at": first,
            }
        )
        if rnd.random() < 0.5:
            out["u"].append(
                {
                    "incident_id": iid,
                    "situation": "still on it",
                    "next_update_at": None,
                    "author": "bench",
                    "created_at": first + _minutes(rnd, 25),
                }
            )
        out["r"].append(
            {
                "incident_id": iid,
                "role": "ic",
                "assignee": f"user-{rnd.randint(1, 30)}",
                "assigned_by": "bench",
                "assigned_at": declared,
                "ended_at": None,
            }
        )
        out["n"].append(
            {
                "idem_key": f"bench-{iid}",
                "kind": "page",
                "incident_id": iid,
                "status": "sent",
                "due_at": declared,
                "sent_at": declared + timedelta(seconds=5),
                "created_at": declared,
                "data": {},
            }
        )
        if len(out["i"]) >= BATCH:
            yield out
            out = {"i": [], "s": [], "u": [], "r": [], "n": []}
    if out["i"]:
        yield out


def seed(url: str, count: int) -> tuple[float, float]:
    """Fill the database and build the facts; the seconds each took."""
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        for part in _rows(count, random.Random(12)):
            with engine.begin() as conn:  # Core inserts: no session event, facts built below
                if conn.dialect.name == "postgresql":
                    # The case library's search triggers are not what is measured here, and
                    # they make 100,000 inserts take many minutes.
                    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.execute(insert(Incident.__table__), part["i"])
                conn.execute(insert(IncidentService.__table__), part["s"])
                conn.execute(insert(StatusUpdate.__table__), part["u"])
                conn.execute(insert(RoleAssignment.__table__), part["r"])
                conn.execute(insert(Notification.__table__), part["n"])
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            facts.refresh_all(session)
        built = time.perf_counter() - started
    finally:
        engine.dispose()
    return seeded, built


def monthly(url: str, runs: int = 5) -> list[float]:
    """The monthly review report built and rendered in-process with an empty cache, in ms,
    `runs` times (rolled back each time, so each is built afresh)."""
    engine = create_engine(url)
    policy = default_policy()
    out = []
    try:
        for _ in range(runs):
            queries._cache.clear()
            with Session(engine) as session:
                started = time.perf_counter()
                period = reviews.period_for(policy, "monthly", None, now=NOW)
                report, _ = reviews.build_report(session, policy, period, by="bench", now=NOW)
                session.flush()
                reviews.as_text(policy, report, fmt="md", locale="ko")
                out.append((time.perf_counter() - started) * 1000)
                session.rollback()
    finally:
        engine.dispose()
    return out


def measure(
    url: str, params: dict[str, str], requests: int, clients: int, *, cached: bool
) -> dict[str, float]:
    """The first request's time (cold), then `requests` from `clients` at once. Uncached:
    each request's `to` is moved by a few seconds, so none is answered from the cache."""
    headers = {"Authorization": f"Bearer {KEY}"}
    end = datetime.fromisoformat(params["to"])
    started = time.perf_counter()
    first = httpx.get(f"{url}/api/v1/metrics", params=params, headers=headers, timeout=300)
    cold = (time.perf_counter() - started) * 1000
    assert first.status_code == 200, first.text
    per_client = max(requests // clients, 1)

    def worker(index: int) -> list[float]:
        mine = []
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            for n in range(per_client):
                asked = dict(params)
                if not cached:
                    asked["to"] = (end + timedelta(seconds=index * per_client + n + 1)).isoformat()
                t0 = time.perf_counter()
                response = client.get("/api/v1/metrics", params=asked)
                mine.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text
        return mine

    latencies: list[float] = []
    with ThreadPoolExecutor(clients) as pool:
        for part in pool.map(worker, range(clients)):
            latencies.extend(part)
    q = statistics.quantiles(latencies, n=100)
    return {"cold": cold, "p50": statistics.median(latencies) * 1000, "p95": q[94] * 1000}


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        env = serve_env(Path(data_dir), DATABASE_URL=url, HAETAE_RUN_WORKER="false")
        subprocess.run([HAETAE, "db", "upgrade"], env=env, check=True, capture_output=True)
        seeded, built = seed(url, args.incidents)
        print(
            f"{label}: seeded {args.incidents:,} incidents in {seeded:.0f} s; "
            f"facts built in {built:.1f} s"
        )
        runs = monthly(url)
        print(
            f"{label}: monthly review report built and rendered: median "
            f"{statistics.median(runs):.0f} ms, max {max(runs):.0f} ms ({len(runs)} runs)"
        )
        windows = {
            "30 days": (NOW - timedelta(days=30), NOW),
            "year": (NOW - timedelta(days=366), NOW),
        }
        with serve_process(env) as (_, server):
            for name, (start, end) in windows.items():
                # A year uncached is seconds per request on SQLite: only its first (cold)
                # request and the cached ones are measured.
                modes = (False, True) if name == "30 days" else (True,)
                for group_by in GROUP_BYS:
                    params = {
                        "from": start.isoformat(),
                        "to": end.isoformat(),
                        "group_by": group_by,
                    }
                    for cached in modes:
                        f = measure(server, params, args.requests, args.clients, cached=cached)
                        kind = "cached  " if cached else "uncached"
                        print(
                            f"{label}: {name:<8} group_by {group_by:<9} {kind}"
                            f" first {f['cold']:8.1f} ms   p50 {f['p50']:7.1f} ms"
                            f"   p95 {f['p95']:7.1f} ms"
                        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=160)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench("SQLite", f"sqlite:///{tmp}/metrics.db", args)
    if args.db in ("postgresql", "both"):
        cluster = PostgresCluster().start()
        try:
            bench("PostgreSQL", cluster.create_database("metrics"), args)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
