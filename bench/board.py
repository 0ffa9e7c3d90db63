"""The follow-up board with 5,000 open action items: how long `GET /api/v1/board` and the
console's /board page take, on SQLite and on PostgreSQL.

Starts `haetae serve` as its own process on loopback (and a throwaway PostgreSQL cluster for
the second run), declares incidents through the API, writes post-mortems and 5,000 open
action items (plus done ones) straight into the database, then times N sequential requests
of each and prints the median and p95 in milliseconds, with the size of the page.

    .venv/bin/python bench/board.py              # 5,000 items, 30 requests each
    .venv/bin/python bench/board.py --items 1000 --requests 10
    .venv/bin/python bench/board.py --only sqlite
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster  # noqa: E402
from tests.support.server import BOOTSTRAP_KEY as KEY  # noqa: E402
from tests.support.server import HAETAE, serve_env, serve_process  # noqa: E402
from tests.web.console_client import sign_in  # noqa: E402

from haetae import models  # noqa: E402  (every table registered, for the foreign keys)
from haetae.actions.models import ActionItem, ActionItemCounter  # noqa: E402
from haetae.auth import service as auth  # noqa: E402
from haetae.db import Database  # noqa: E402
from haetae.postmortems.models import Postmortem  # noqa: E402

assert models
OPEN_COLUMNS = ("backlog", "in_progress", "review")
CLASSES = ("expedite", "fixed_date", "standard")
PASSWORD = "correct-horse-battery"


def seed(url: str, api: httpx.Client, items: int, incidents: int) -> None:
    declared = []
    for n in range(incidents):
        severity = ("P1", "P2", "P3", "P4")[n % 4]
        body = {
            "title": f"bench incident {n}",
            "severity": severity,
            "severity_reason": "bench",
            "services": [f"svc-{n % 10}"],
        }
        response = api.post("/api/v1/incidents", json=body)
        assert response.status_code == 201, response.text
        declared.append(response.json())
    now = datetime.now(UTC)
    rng = random.Random(11)
    db = Database(url)
    try:
        with db.session() as session:
            auth.create_user(
                session,
                username="bench",
                password=PASSWORD,
                role="responder",
                display_name="",
                email=None,
                locale="en",
                now=now,
            )
            for n, incident in enumerate(declared[: incidents // 2]):
                status = ("draft", "in_review", "published")[n % 3]
                session.add(
                    Postmortem(
                        incident_id=incident["id"],
                        status=status,
                        title=f"PM {incident['id']}",
                        author="bench",
                        started_by="bench",
                        started_at=now,
                        updated_at=now,
                        clock_start=now,
                        published_at=now if status == "published" else None,
                    )
                )
            rows = []
            total = items + items // 10  # and a tenth more, done recently
            for n in range(1, total + 1):
                column = "done" if n > items else OPEN_COLUMNS[n % 3]
                cls = CLASSES[n % 3]
                rows.append(
                    {
                        "number": n,
                        "incident_id": declared[n % len(declared)]["id"],
                        "title": f"Follow-up {n}: add an alert for the queue depth",
                        "description": "",
                        "owner": "bench" if n % 2 else None,
                        "due_date": date.today() + timedelta(days=rng.randint(-20, 40)),
                        "priority": ("high", "medium", "low")[n % 3],
                        "class_of_service": cls,
                        "column": column,
                        "position": float(n),
                        "created_by": "bench",
                        "created_at": now,
                        "updated_at": now,
                        "done_at": now if column == "done" else None,
                    }
                )
            session.execute(insert(ActionItem), rows)
            session.execute(insert(ActionItemCounter), [{"id": 1, "last": total}])
    finally:
        db.dispose()


def timed(client: httpx.Client, path: str, count: int) -> tuple[list[float], int]:
    client.get(path)  # warm: templates compiled, caches filled
    latencies = []
    size = 0
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
        size = len(response.content)
    return latencies, size


def line(name: str, latencies: list[float], size: int) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"  {name:<22} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms"
        f"   ({size / 1024:,.0f} KiB)"
    )


def bench(label: str, database_url: str | None, items: int, incidents: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        env = serve_env(Path(data_dir))
        url = database_url or f"sqlite:///{data_dir}/bench.db"
        env["DATABASE_URL"] = url
        subprocess.run([HAETAE, "db", "upgrade"], env=env, check=True, capture_output=True)
        with serve_process(env) as (_, base):
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
            ) as api:
                seed(url, api, items, incidents)
                board = api.get("/api/v1/board").json()
                cards = sum(c["count"] for lane in board["lanes"] for c in lane["columns"])
                print(
                    f"{label}: {items:,} open items, {incidents} incidents, {cards:,} cards "
                    f"on the board, {count} sequential requests each"
                )
                print(line("GET /api/v1/board", *timed(api, "/api/v1/board", count)))
            with httpx.Client(base_url=base, timeout=60) as browser:
                assert sign_in(browser, "bench", PASSWORD).status_code == 303
                print(line("GET /board (console)", *timed(browser, "/board", count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--incidents", type=int, default=80)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    if args.only != "postgresql":
        bench("SQLite", None, args.items, args.incidents, args.requests)
    if args.only != "sqlite":
        cluster = PostgresCluster().start()
        try:
            url = cluster.create_database("haetae_bench_board")
            bench("PostgreSQL", url, args.items, args.incidents, args.requests)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
