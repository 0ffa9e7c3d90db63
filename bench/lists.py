"""The incident and alert lists at scale: every filter and sort, on SQLite and PostgreSQL.

Seeds a fresh database per engine (100,000 incidents and 1,000,000 alerts by default) with
plain batched inserts in big transactions, at the schema before the list indexes (0009),
then upgrades it to head (timing the migration's backfill), starts `haetae serve` on
loopback and asks each filter of both lists N times from a few concurrent clients. Prints
the median and p95 per case, the seeding and upgrade times, and the PostgreSQL / SQLite
ratio.

    .venv/bin/python bench/lists.py               # 100k incidents, 1M alerts, both databases
    .venv/bin/python bench/lists.py --quick       # 10k incidents, 100k alerts: a smoke check
    .venv/bin/python bench/lists.py --db sqlite --requests 40

A filter the running code does not declare in its OpenAPI document is reported as "n/a"
(so the same script measures an older checkout: `PYTHONPATH=/tmp/old/src` runs that code).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster  # noqa: E402
from tests.support.server import BOOTSTRAP_KEY as KEY  # noqa: E402
from tests.support.server import HAETAE, serve_env, serve_process  # noqa: E402

from haetae.alerts.models import Alert, Integration  # noqa: E402
from haetae.incidents.models import Incident  # noqa: E402

BEFORE_LISTS = "0009"  # the last schema without the list indexes and side tables
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STATUSES = (
    ["resolved"] * 55
    + ["closed"] * 35
    + ["canceled"] * 3
    + ["triage", "investigating", "identified", "monitoring"] * 1
    + ["investigating"] * 3
)
SEVERITIES = ["P1"] * 5 + ["P2"] * 15 + ["P3"] * 40 + ["P4"] * 40
# svc-0 is common, svc-19 rare: the filters must be fast for both.
SERVICES = [f"svc-{n}" for n in range(20)]
SERVICE_WEIGHTS = [30 - n * 1.5 for n in range(20)]
TAGS = [f"tag-{n}" for n in range(30)]
ALERT_STATUSES = ["resolved"] * 97 + ["firing"] * 2 + ["acknowledged"]
ALERT_SEVERITIES = ["critical", "warning", "warning", "info", None]
INTEGRATIONS = 5
BATCH = 10_000


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    params: dict[str, Any]
    follow_cursor: bool = False  # ask for the second page through the first's next_cursor


def incident_cases(busy_incident: str) -> list[Case]:
    since = (NOW - timedelta(days=30)).isoformat()
    base = "/api/v1/incidents"
    return [
        Case("incidents unfiltered", base, {}),
        Case("incidents status=resolved", base, {"status": "resolved"}),
        Case("incidents status=triage (rare)", base, {"status": "triage"}),
        Case("incidents status=resolved,closed", base, {"status": "resolved,closed"}),
        Case(
            "incidents status=<active>",
            base,
            {"status": "triage,investigating,identified,monitoring"},
        ),
        Case("incidents severity=P1", base, {"severity": "P1"}),
        Case(
            "incidents status=resolved&severity=P2", base, {"status": "resolved", "severity": "P2"}
        ),
        Case("incidents service=svc-3", base, {"service": "svc-3"}),
        Case("incidents service=svc-19 (rare)", base, {"service": "svc-19"}),
        Case(
            "incidents service=svc-3&status=closed", base, {"service": "svc-3", "status": "closed"}
        ),
        Case("incidents tag=tag-5", base, {"tag": "tag-5"}),
        Case("incidents since=30 days", base, {"since": since}),
        Case("incidents offset=5000", base, {"offset": 5000}),
        Case("incidents cursor page 2", base, {"status": "resolved"}, follow_cursor=True),
        Case("incidents limit=200", base, {"limit": 200}),
    ]


def alert_cases(busy_incident: str) -> list[Case]:
    since = (NOW - timedelta(days=7)).isoformat()
    base = "/api/v1/alerts"
    return [
        Case("alerts unfiltered", base, {}),
        Case("alerts status=firing", base, {"status": "firing"}),
        Case("alerts status=resolved", base, {"status": "resolved"}),
        Case("alerts open=true", base, {"open": "true"}),
        Case("alerts integration=int-2", base, {"integration": "int-2"}),
        Case("alerts incident_id=<busy>", base, {"incident_id": busy_incident}),
        Case("alerts severity=critical", base, {"severity": "critical"}),
        Case("alerts fingerprint=fp-123", base, {"fingerprint": "fp-123"}),
        Case("alerts since=7 days", base, {"since": since}),
        Case(
            "alerts integration=int-2&status=firing",
            base,
            {"integration": "int-2", "status": "firing"},
        ),
        Case("alerts offset=5000", base, {"offset": 5000}),
        Case("alerts cursor page 2", base, {"status": "resolved"}, follow_cursor=True),
    ]


# Seeding


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _incidents(count: int, rnd: random.Random) -> Iterator[dict[str, Any]]:
    span = 2 * 365 * 24 * 3600
    for n in range(count):
        declared = NOW - timedelta(seconds=span * (count - n) / count + rnd.random())
        status = rnd.choice(STATUSES)
        services = list(dict.fromkeys(rnd.choices(SERVICES, SERVICE_WEIGHTS, k=rnd.randint(1, 2))))
        resolved = declared + timedelta(hours=1) if status in ("resolved", "closed") else None
        yield {
            "id": f"INC-{declared:%Y%m%d}-{n:06d}",
            "title": f"bench incident {n}",
            "summary": "",
            "status": status,
            "severity": rnd.choice(SEVERITIES),
            "severity_source": "explicit",
            "services": services,
            "tags": rnd.sample(TAGS, rnd.randint(0, 2)),
            "impact": {},
            "complexity": 1,
            "priority_score": 1.0,
            "declared_by": "bench",
            "declared_at": declared,
            "started_at": declared,
            "detected_at": declared,
            "resolved_at": resolved,
            "updated_at": resolved or declared,
        }


def _alerts(count: int, incident_ids: list[str], rnd: random.Random) -> Iterator[dict[str, Any]]:
    span = 365 * 24 * 3600
    busy = incident_ids[-1]
    for n in range(count):
        received = NOW - timedelta(seconds=span * (count - n) / count + rnd.random())
        status = rnd.choice(ALERT_STATUSES)
        integration = n % INTEGRATIONS + 1
        dedup = f"fp-{n % 50_000}"
        linked = busy if n % 100 == 0 else rnd.choice(incident_ids) if n % 3 == 0 else None
        yield {
            "integration_id": integration,
            "dedup_key": dedup,
            "open_key": None if status == "resolved" else f"{dedup}-{n}",
            "status": status,
            "summary": f"bench alert {n}",
            "details": "",
            "severity": rnd.choice(ALERT_SEVERITIES),
            "service": rnd.choice(SERVICES),
            "labels": {"alertname": f"a{n % 40}"},
            "annotations": {},
            "raw": {},
            "received_at": received,
            "last_received_at": received,
            "resolved_at": received + timedelta(minutes=5) if status == "resolved" else None,
            "receipts": 1,
            "content_hash": "",
            "incident_id": linked,
        }


def seed(url: str, incidents: int, alerts: int) -> tuple[float, str]:
    """Fill the database; returns the seconds it took and the incident with most alerts."""
    rnd = random.Random(11)
    engine = create_engine(url)
    started = time.perf_counter()
    ids: list[str] = []
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(Integration.__table__),
                [
                    {
                        "id": i,
                        "name": f"int-{i}",
                        "type": "generic",
                        "token_hash": f"{i:064d}",
                        "token_prefix": f"t{i}",
                        "created_by": "bench",
                        "created_at": NOW,
                    }
                    for i in range(1, INTEGRATIONS + 1)
                ],
            )
            for batch in _batches(_incidents(incidents, rnd)):
                conn.execute(insert(Incident.__table__), batch)
                ids.extend(row["id"] for row in batch)
        for batch in _batches(_alerts(alerts, ids, rnd)):
            with engine.begin() as conn:
                conn.execute(insert(Alert.__table__), batch)
    finally:
        engine.dispose()
    return time.perf_counter() - started, ids[-1]


# Measuring


def _declared(url: str) -> set[tuple[str, str]]:
    """(path, parameter) pairs the running server declares: a filter it lacks is n/a."""
    spec = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {KEY}"}).json()
    return {
        (path, param["name"])
        for path, item in spec["paths"].items()
        for param in item.get("get", {}).get("parameters", [])
    }


def measure(url: str, case: Case, requests: int, clients: int) -> dict[str, float] | None:
    headers = {"Authorization": f"Bearer {KEY}"}
    params = dict(case.params)
    if case.follow_cursor:
        first = httpx.get(url + case.path, params=params, headers=headers, timeout=60).json()
        if not first.get("next_cursor"):
            return None
        params["cursor"] = first["next_cursor"]
    per_client = max(requests // clients, 1)

    def worker(_: int) -> list[float]:
        mine = []
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = client.get(case.path, params=params)
                mine.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
        return mine

    latencies: list[float] = []
    with ThreadPoolExecutor(clients) as pool:
        for part in pool.map(worker, range(clients)):
            latencies.extend(part)
    q = statistics.quantiles(latencies, n=100)
    return {"p50": statistics.median(latencies) * 1000, "p95": q[94] * 1000}


def bench(label: str, url: str, args: argparse.Namespace) -> dict[str, dict[str, float] | None]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = serve_env(Path(data_dir), DATABASE_URL=url, HAETAE_RUN_WORKER="false")
        subprocess.run([HAETAE, "db", "upgrade", BEFORE_LISTS], env=env, check=True)
        seconds, busy = seed(url, args.incidents, args.alerts)
        sizes = f"{args.incidents:,} incidents and {args.alerts:,} alerts"
        print(f"{label}: seeded {sizes} in {seconds:.0f} s")
        started = time.perf_counter()
        subprocess.run([HAETAE, "db", "upgrade"], env=env, check=True, capture_output=True)
        upgraded = time.perf_counter() - started
        print(f"{label}: upgraded to head (indexes, backfill) in {upgraded:.0f} s")
        results: dict[str, dict[str, float] | None] = {}
        with serve_process(env) as (_, server):
            declared = _declared(server)
            for case in incident_cases(busy) + alert_cases(busy):
                wanted = set(case.params) | ({"cursor"} if case.follow_cursor else set())
                if not all((case.path, name) in declared for name in wanted):
                    results[case.name] = None
                else:
                    results[case.name] = measure(server, case, args.requests, args.clients)
                figures = results[case.name]
                shown = (
                    f"p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms"
                    if figures
                    else "n/a (not in this version)"
                )
                print(f"  {case.name:<44} {shown}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k incidents, 100k alerts")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--alerts", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None, help="per case (200; quick 60)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    args.incidents = args.incidents or (10_000 if args.quick else 100_000)
    args.alerts = args.alerts or (100_000 if args.quick else 1_000_000)
    args.requests = args.requests or (60 if args.quick else 200)
    print(f"{args.requests} requests per case from {args.clients} concurrent clients")
    figures: dict[str, dict[str, dict[str, float] | None]] = {}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            figures["SQLite"] = bench("SQLite", f"sqlite:///{folder}/bench.db", args)
    if args.db in ("postgresql", "both"):
        cluster = PostgresCluster().start()
        try:
            figures["PostgreSQL"] = bench("PostgreSQL", cluster.create_database("lists"), args)
        finally:
            cluster.stop()
    if len(figures) == 2:
        print("ratio PostgreSQL / SQLite (p50):")
        for name, sqlite in figures["SQLite"].items():
            pg = figures["PostgreSQL"][name]
            if sqlite and pg:
                print(f"  {name:<44} {pg['p50'] / sqlite['p50']:5.2f}")
    over = [
        f"{label} {name}"
        for label, cases in figures.items()
        for name, stats in cases.items()
        if stats and stats["p95"] >= 50
    ]
    print("p95 at or over 50 ms: " + (", ".join(over) if over else "none"))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
