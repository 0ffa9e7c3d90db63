"""The public status page's speed: /api/v2/summary.json and /status (HTML) of a running
`haetae serve` (SQLite), at 16 connections, against a bare FastAPI app answering the same
summary.json bytes, measured in the same run.

A page with 3 groups, 12 components (90 days of state changes), an open public incident with
updates and two maintenance windows is written first. Each target gets a 1 s warm-up then a
timed `wrk -t2 -c16` run. Printed: requests/s, p50 and p95 per target, the ratio to the bare
app, and the targets (p95 < 10 ms; at least 0.5 x the bare app's requests/s) as PASS/FAIL.
Exit 0 whatever the targets say; 1 when something broke. Bounded: under 60 s.

    .venv/bin/python bench/statuspage.py            # 5 s per run
    .venv/bin/python bench/statuspage.py --seconds 3
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import free_port  # noqa: E402
from tests.support.server import serve_env, serve_process  # noqa: E402

from haetae.db import Database  # noqa: E402
from haetae.migrations import upgrade_to_head  # noqa: E402
from haetae.statuspage.models import (  # noqa: E402
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)

CONNECTIONS = 16
THREADS = 2
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""
BARE = """
import sys
from pathlib import Path
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

body = Path(sys.argv[2]).read_bytes()
app = FastAPI()

@app.get("/api/v2/summary.json")
async def summary() -> Response:
    return Response(body, media_type="application/json")

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
"""


def seed(url: str) -> None:
    upgrade_to_head(url)
    db = Database(url)
    now = datetime.now(UTC)
    start = now - timedelta(days=90)
    with db.session() as s:
        s.add(StatusPageSettings(title={"en": "Bench", "ko": "벤치"}, updated_at=now))
        for g in range(3):
            group = ComponentGroup(
                slug=f"g{g}",
                name={"en": f"Group {g}"},
                position=g,
                created_at=start,
                updated_at=start,
            )
            s.add(group)
            s.flush()
            for n in range(4):
                c = Component(
                    slug=f"c{g}-{n}",
                    name={"en": f"Component {g}.{n}", "ko": f"구성 {g}.{n}"},
                    group_id=group.id,
                    position=n,
                    created_at=start,
                    updated_at=start,
                )
                s.add(c)
                s.flush()
                since = start
                for day in range(0, 90, 7):  # an outage a week
                    down = start + timedelta(days=day, hours=3)
                    s.add(
                        ComponentState(
                            component_id=c.id, status="operational", since=since, until=down
                        )
                    )
                    since = down + timedelta(minutes=40)
                    s.add(
                        ComponentState(
                            component_id=c.id, status="partial_outage", since=down, until=since
                        )
                    )
                s.add(ComponentState(component_id=c.id, status="operational", since=since))
        incident = PublicIncident(
            code="bench001",
            title={"en": "Slow checkout", "ko": "결제 지연"},
            impact="minor",
            status="identified",
            components={},
            started_at=now,
            published_at=now,
            created_by="bench",
            created_at=now,
            updated_at=now,
        )
        s.add(incident)
        s.flush()
        for n in range(3):
            s.add(
                PublicUpdate(
                    public_incident_id=incident.id,
                    status="identified",
                    body={"en": f"Update {n}", "ko": f"업데이트 {n}"},
                    state="published",
                    created_by="bench",
                    created_at=now,
                    published_by="bench",
                    published_at=now,
                )
            )
        for n in range(2):
            s.add(
                Maintenance(
                    code=f"m{n}",
                    title={"en": f"Window {n}"},
                    body={"en": "Work"},
                    scheduled_for=now + timedelta(days=n + 1),
                    scheduled_until=now + timedelta(days=n + 1, hours=2),
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
    db.dispose()


def run_wrk(wrk: str, script: Path, url: str, seconds: int) -> dict[str, float]:
    cmd = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    requests, micros, p50, p95, bad, socket = (int(v) for v in line.split()[1:])
    if bad or socket:
        raise RuntimeError(f"{url}: {bad} non-2xx/3xx answers, {socket} socket errors")
    return {"rps": requests / (micros / 1e6), "p50": p50 / 1000, "p95": p95 / 1000}


@contextmanager
def bare_app(body: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE, str(port), str(body)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/summary.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bare app did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk was not found; install Debian's wrk (scripts/system-deps does).")
        return 1
    started = time.monotonic()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "done.lua"
        script.write_text(LUA)
        url = f"sqlite:///{folder / 'haetae.db'}"
        seed(url)
        env = serve_env(folder, DATABASE_URL=url)
        with serve_process(env) as (_proc, base):
            body = httpx.get(f"{base}/api/v2/summary.json").content
            (folder / "summary.json").write_bytes(body)
            for name, path in (
                ("haetae summary.json", "/api/v2/summary.json"),
                ("haetae /status", "/status?lang=en"),
            ):
                run_wrk(wrk, script, base + path, 1)
                results[name] = run_wrk(wrk, script, base + path, args.seconds)
        with bare_app(folder / "summary.json") as bare:
            run_wrk(wrk, script, bare + "/api/v2/summary.json", 1)
            results["bare FastAPI"] = run_wrk(
                wrk, script, bare + "/api/v2/summary.json", args.seconds
            )
    bare_rps = results["bare FastAPI"]["rps"]
    print(f"wrk -t{THREADS} -c{CONNECTIONS}, {args.seconds} s per run after 1 s warm-up")
    print(f"{'target':24} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>7}")
    for name, r in results.items():
        print(
            f"{name:24} {r['rps']:9.0f} {r['p50']:8.2f} {r['p95']:8.2f} {r['rps'] / bare_rps:7.2f}"
        )
    for name in ("haetae summary.json", "haetae /status"):
        r = results[name]
        print(f"{'PASS' if r['p95'] < 10 else 'FAIL'}  {name}: p95 {r['p95']:.2f} ms < 10 ms")
        ratio = r["rps"] / bare_rps
        print(f"{'PASS' if ratio >= 0.5 else 'FAIL'}  {name}: {ratio:.2f} x the bare app's req/s")
    print(f"took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
