"""Declare and read throughput of a running Haetae, on SQLite and on PostgreSQL.

Starts `haetae serve` as its own process on loopback (with a throwaway PostgreSQL
cluster for the second run), sends declares and incident reads from concurrent
clients for a bounded count, and prints requests/s and p50/p95/p99 latency, plus
the PostgreSQL / SQLite ratio measured in the same run.

    .venv/bin/python bench/api.py            # 2,000 declares + 2,000 reads per database
    .venv/bin/python bench/api.py --quick    # 300 + 300, well under a minute
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster  # noqa: E402
from tests.support.server import BOOTSTRAP_KEY as KEY  # noqa: E402
from tests.support.server import HAETAE, serve_env, serve_process  # noqa: E402


def _run(url: str, count: int, clients: int, make_request) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    per_client = count // clients
    latencies: list[float] = []

    def worker(n: int) -> list[float]:
        mine = []
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
        ) as client:
            for i in range(per_client):
                started = time.perf_counter()
                response = make_request(client, n * per_client + i)
                mine.append(time.perf_counter() - started)
                assert response.status_code < 300, response.text
        return mine

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for part in pool.map(worker, range(clients)):
            latencies.extend(part)
    return time.perf_counter() - started, latencies


def _line(name: str, elapsed: float, latencies: list[float]) -> float:
    q = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / elapsed
    print(
        f"  {name:<8} {rate:8.0f} req/s   p50 {q[49] * 1000:6.1f} ms   "
        f"p95 {q[94] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   ({len(latencies)} requests)"
    )
    return rate


def bench(label: str, database_url: str | None, count: int, clients: int) -> dict[str, float]:
    body = {
        "title": "bench",
        "services": ["api"],
        "business_impact": "revenue",
        "user_impact": "some",
    }
    with tempfile.TemporaryDirectory() as data_dir:
        env = serve_env(Path(data_dir))
        if database_url:
            env["DATABASE_URL"] = database_url
            subprocess.run([HAETAE, "db", "upgrade"], env=env, check=True, capture_output=True)
        with serve_process(env) as (_, url):
            elapsed, lat = _run(
                url, count, clients, lambda c, i: c.post("/api/v1/incidents", json=body)
            )
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as c:
                page = c.get("/api/v1/incidents", params={"limit": 200}).json()
            ids = [item["id"] for item in page["items"]]
            assert page["total"] == (count // clients) * clients, f"{page['total']} stored"
            print(f"{label}: {clients} concurrent clients")
            declare = _line("declare", elapsed, lat)
            elapsed, lat = _run(
                url, count, clients, lambda c, i: c.get(f"/api/v1/incidents/{ids[i % len(ids)]}")
            )
            read = _line("read", elapsed, lat)
    return {"declare": declare, "read": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (300 requests each)")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    count = 300 if args.quick else 2000
    sqlite = bench("SQLite", None, count, args.clients)
    cluster = PostgresCluster().start()
    try:
        pg = bench("PostgreSQL", cluster.create_database("bench"), count, args.clients)
    finally:
        cluster.stop()
    print(
        "ratio PostgreSQL / SQLite: "
        f"declare {pg['declare'] / sqlite['declare']:.2f}, read {pg['read'] / sqlite['read']:.2f}"
    )


if __name__ == "__main__":
    main()
