"""Soak: an alert storm while API and worker processes are killed and PostgreSQL restarts.

Everything runs as its own process on loopback, driven only through Haetae's public
surfaces: a throwaway PostgreSQL cluster, `haetae db upgrade`, an organisation made with
`haetae apply -f` (N people, each the only on-call of a schedule and a service of their
own, each with a json:// contact method to a receiver process here; an escalation policy
paging the service's on-call; an Alertmanager integration), two `haetae serve` processes
without their in-process worker and two `haetae worker` processes.

The storm posts Alertmanager webhook bodies to `/ingest/alertmanager` at a steady rate,
each alert its own group (so each declares an incident that pages the service's on-call),
alternating between the two API processes. A post answered 5xx, or not answered at all, is
retried with backoff (as Alertmanager does); what was answered 2xx is recorded.

Chaos during the storm, from a seeded plan: at random moments one API process or one worker
is SIGKILLed (its whole process group) and started again a few seconds later; once,
PostgreSQL is stopped (`pg_ctl stop -m immediate`, or `fast`) and started again.

After the storm the bench waits (bounded) until every incident was paged, then reads the
database (read-only) and the receiver's log and prints: alerts answered 2xx but not stored,
incidents with no page to their on-call, idempotency keys received more than once (those
in flight at a kill or the database restart told apart), pages per incident, declaration
-> page received p50/p95/p99/max and how many over 60 s, the chaos events with their times,
and each person's most messages in any 60 s. Then PASS/FAIL lines. Exit 0 whatever they
say; 1 when the harness broke (a process or PostgreSQL did not start, a tool is missing).

    .venv/bin/python bench/soak.py            # 3 alerts/s for 4 min over 20 people (~6 min)
    .venv/bin/python bench/soak.py --quick    # 3 alerts/s for 75 s (~2.5 min)
    .venv/bin/python bench/soak.py --seed 7 --rate 5 --duration 120 --people 10
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.receiver import received_log, receiver  # noqa: E402
from tests.support.pg import PostgresCluster, free_port  # noqa: E402
from tests.support.server import HAETAE, serve_env  # noqa: E402

# A duplicate whose first copy arrived at most this long before a worker was killed (or
# PostgreSQL stopped) counts as in flight at it: the send outlived the record of it.
IN_FLIGHT_SECONDS = 15.0
OPEN_STATUSES = ("pending", "sending")  # outbox rows still to be settled
_T0 = time.monotonic()


def note(message: str) -> None:
    """Progress, on stderr: the figures stay alone on stdout."""
    print(f"[{time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


class Broken(Exception):
    """Something the harness needs did not work: no figures can be trusted."""


# -- the receiver -------------------------------------------------------------------


@dataclass
class Receipt:
    at: float  # wall clock, s
    person: str
    key: str
    incidents: list[str]


def receipts(address: str) -> list[Receipt]:
    rows = received_log(address)
    return [
        Receipt(at, path.rstrip("/").rsplit("/", 1)[-1], key, ids) for at, path, key, ids in rows
    ]


# -- PostgreSQL that can be stopped and started again ---------------------------------


class SoakCluster(PostgresCluster):
    """tests/support/pg.py's cluster (stop(remove=False) and start() again for the outage),
    with commits that survive an immediate stop."""

    def durable(self, database: str) -> None:
        """Commits in `database` wait for their WAL to be written. The test cluster turns
        synchronous_commit off for speed; an immediate stop then loses the last commits,
        which is the cluster's loss, not Haetae's (a database-level setting outranks the
        server's command line). fsync stays off: the stop kills PostgreSQL, not the
        machine, so what was written reaches the files."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=haetae dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = on')


# -- Haetae's processes -------------------------------------------------------------


class Proc:
    """One `haetae serve` or `haetae worker`, in a process group of its own so that a kill
    takes all of it, as a crash would; restarted with the same port and log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(args[args.index("--port") + 1]) if "--port" in args else 0

    def start(self) -> None:
        with self.log.open("a") as out:
            out.write(f"--- {self.name} started {datetime.now(UTC).isoformat()}\n")
            out.flush()
            self.proc = subprocess.Popen(
                [HAETAE, *self.args],
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_ready(self, seconds: float) -> float | None:
        """Seconds until ready (an API answers /health/live, a worker says it runs)."""
        started = time.monotonic()
        deadline = started + seconds
        mark = self.log.read_text(errors="replace").rfind(f"--- {self.name} started")
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return None
            if self.port:
                with suppress(httpx.HTTPError):
                    url = f"http://127.0.0.1:{self.port}/health/live"
                    if httpx.get(url, timeout=1).status_code == 200:
                        return time.monotonic() - started
            elif " running" in self.log.read_text(errors="replace")[mark:]:
                return time.monotonic() - started
            time.sleep(0.1)
        return None


def haetae(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [HAETAE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise Broken(f"haetae {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def organisation(people: int, address: str) -> dict[str, Any]:
    """The config file: person pNN is the only on-call of schedule s-NN and service svc-NN."""
    names = [f"p{i:02d}" for i in range(people)]
    return {
        "version": 1,
        "users": [
            {
                "username": name,
                "name": f"Soak {name}",
                "email": f"{name}@example.com",
                "locale": "ko" if i % 2 else "en",
                "contact_methods": [{"name": "pager", "url": f"json://{address}/u/{name}"}],
            }
            for i, name in enumerate(names)
        ],
        "schedules": [
            {
                "id": f"s-{name}",
                "time_zone": "UTC",
                "rotations": [
                    {
                        "name": "primary",
                        "type": "weekly",
                        "handoff": "2026-01-05T09:00",
                        "participants": [name],
                    }
                ],
            }
            for name in names
        ],
        "escalation_policies": [
            {
                "id": "soak-page",
                "steps": [{"notify": [{"oncall": "primary"}], "wait": "1h"}],
            }
        ],
        "services": [
            {
                "id": f"svc-{name}",
                "name": f"Service {name}",
                "schedule": f"s-{name}",
                "escalation": {sev: ["soak-page"] for sev in ("P1", "P2", "P3")},
            }
            for name in names
        ],
        "integrations": [{"name": "soak-am", "type": "alertmanager"}],
    }


# -- the storm ----------------------------------------------------------------------


@dataclass
class Post:
    """One alert and what became of its posts."""

    n: int
    fingerprint: str
    service: str
    first_at: float = 0.0  # wall clock of the first attempt
    ok_at: float | None = None  # wall clock of the 2xx answer
    incident: str | None = None
    attempts: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # "503", "ConnectError" ...
    refused: str = ""  # a 4xx other than 429: Alertmanager would drop it


def alertmanager_body(post: Post) -> dict[str, Any]:
    name = f"SoakDown{post.n:05d}"
    return {
        "receiver": "haetae",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "service": post.service, "severity": "warning"},
                "annotations": {"summary": f"{post.service} is down ({post.n})"},
                "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": post.fingerprint,
            }
        ],
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "service": post.service},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
    }


def send(client: httpx.Client, apis: list[str], token: str, post: Post, give_up: float) -> None:
    """Post until answered 2xx (or refused), alternating API processes, with backoff."""
    headers = {"Authorization": f"Bearer {token}"}
    body = alertmanager_body(post)
    post.first_at = time.time()
    backoff = 0.25
    while True:
        api = apis[(post.n + post.attempts) % len(apis)]
        post.attempts += 1
        try:
            answer = client.post(f"{api}/ingest/alertmanager", json=body, headers=headers)
        except httpx.HTTPError as exc:
            post.answers[type(exc).__name__] += 1
        else:
            post.answers[str(answer.status_code)] += 1
            if answer.is_success:
                post.ok_at = time.time()
                with suppress(ValueError, KeyError, IndexError, TypeError):
                    post.incident = answer.json()["alerts"][0]["incident_id"]
                return
            if 400 <= answer.status_code < 500 and answer.status_code != 429:
                post.refused = f"{answer.status_code} {answer.text[:200]}"
                return
        if time.time() - post.first_at > give_up:
            return
        time.sleep(backoff)
        backoff = min(backoff * 2, 4.0)


# -- chaos ----------------------------------------------------------------------------


@dataclass
class Event:
    at: float  # seconds after the storm started (planned; `done` keeps what happened)
    action: str  # "kill" | "pg"
    target: str  # a process name, or the stop mode for "pg"
    down: float  # seconds before the restart
    done: list[str] = field(default_factory=list)
    killed_at: float = 0.0  # wall clock
    back_at: float = 0.0  # wall clock: restarted (pg: pg_ctl start returned)
    ready_after: float | None = None  # seconds from restart to ready


def chaos_plan(rng: random.Random, duration: float, names: list[str], pg_mode: str) -> list[Event]:
    """Kills every 8-20 s (the first after 5-10 s), each down 2-5 s, and one PostgreSQL
    restart (down 3-8 s) at 35-65 % of the storm. The victims are drawn like cards from a
    shuffled deck of the processes, so every process is killed once before any twice."""
    pg_at = rng.uniform(0.35, 0.65) * duration
    events: list[Event] = []
    deck: list[str] = []
    t = rng.uniform(5, 10)
    pg_done = False
    while t < duration - 5:
        if not pg_done and t >= pg_at:
            events.append(Event(t, "pg", pg_mode, rng.uniform(3, 8)))
            pg_done = True
        else:
            if not deck:
                deck = rng.sample(names, len(names))
            events.append(Event(t, "kill", deck.pop(), rng.uniform(2, 5)))
        t += events[-1].down + rng.uniform(8, 20)
    if not pg_done:
        events.append(Event(min(pg_at, t), "pg", pg_mode, rng.uniform(3, 8)))
    return sorted(events, key=lambda e: e.at)


def run_chaos(
    events: list[Event],
    procs: dict[str, Proc],
    cluster: SoakCluster,
    started: float,
    stop: threading.Event,
) -> None:
    for event in events:
        if stop.wait(max(0.0, started + event.at - time.time())):
            return
        event.killed_at = time.time()
        if event.action == "pg":
            note(f"chaos: PostgreSQL stop -m {event.target} for {event.down:.1f} s")
            try:
                cluster.stop(remove=False, mode=event.target)
                time.sleep(event.down)
            finally:
                cluster.start()
            event.back_at = time.time()
            event.ready_after = event.back_at - event.killed_at - event.down
            note("chaos: PostgreSQL started again")
            continue
        proc = procs[event.target]
        note(f"chaos: SIGKILL {event.target}, restart in {event.down:.1f} s")
        proc.kill()
        time.sleep(event.down)
        proc.start()
        event.back_at = time.time()
        event.ready_after = proc.wait_ready(60)
        if event.ready_after is None:
            note(f"chaos: {event.target} did not come back within 60 s")


# -- accounting -----------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class Database:
    alerts: dict[str, str | None]  # fingerprint -> incident id
    incidents: dict[str, tuple[float, list[str]]]  # id -> (declared_at, services)
    notifications: Counter[tuple[str, str]]  # (kind, status) -> count


def read_database(port: int) -> Database:
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=haetae dbname=soak", connect_timeout=10
    ) as conn:
        conn.read_only = True
        alerts: dict[str, str | None] = dict(
            conn.execute("SELECT dedup_key, incident_id FROM alerts").fetchall()
        )
        incidents = {
            id_: (as_utc(at).timestamp(), services if isinstance(services, list) else [])
            for id_, at, services in conn.execute(
                "SELECT id, declared_at, services FROM incidents"
            ).fetchall()
        }
        notifications = Counter(
            {
                (kind, status): n
                for kind, status, n in conn.execute(
                    "SELECT kind, status, count(*) FROM notifications GROUP BY kind, status"
                ).fetchall()
            }
        )
    return Database(alerts, incidents, notifications)


def settled(posts: list[Post], port: int, address: str) -> tuple[bool, str]:
    """Every incident declared has been received by its on-call, and the outbox holds
    nothing pending or being sent (a send whose record was lost at a kill or the database
    stop is sent again when its lease runs out: wait for that too)."""
    try:
        db = read_database(port)
    except Exception as exc:  # the database may be restarting
        return False, f"database: {type(exc).__name__}"
    paged = {i for r in receipts(address) for i in r.incidents}
    waiting = len(set(db.incidents) - paged)
    busy = sum(n for (_, status), n in db.notifications.items() if status in OPEN_STATUSES)
    open_posts = sum(1 for p in posts if p.ok_at is None and not p.refused)
    done = waiting == 0 and busy == 0 and open_posts == 0
    return done, f"{waiting} incidents not paged yet, {busy} messages pending or sending"


def max_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        best = max(best, bisect.bisect_right(times, t + window - 1e-9) - i)
    return best


def log_lines(work: Path, most: int = 8) -> list[str]:
    """The processes' warnings and errors, most frequent first."""
    counts: Counter[str] = Counter()
    for path in sorted(work.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("---"):
                continue
            try:
                entry = json.loads(line)
                message = f"{entry.get('level')} {entry.get('logger')}: {entry.get('message')}"
                # The fields a log line carries (a job's name, an error's type) tell the
                # lines apart; times, ids and tracebacks do not.
                extra = {
                    k: v
                    for k, v in entry.items()
                    if k not in ("ts", "level", "logger", "message", "request_id", "exc")
                    and isinstance(v, str | int)
                    and not k.endswith(("id", "_at", "key"))
                }
                if extra:
                    message += " " + " ".join(f"{k}={v}" for k, v in sorted(extra.items()))
            except (ValueError, AttributeError):
                message = line.strip()
            if message and "running; Ctrl-C" not in message:
                counts[f"{path.stem.split('-')[0]}: {message[:200]}"] += 1
    return [f"{n} x {message}" for message, n in counts.most_common(most)]


# -- the run --------------------------------------------------------------------------


@dataclass
class Settings:
    rate: float
    duration: float
    people: int
    seed: int
    settle: float
    give_up: float
    pg_mode: str
    receiver_delay: float
    logs: Path | None  # where to copy the processes' logs and the config file
    chaos: bool  # False: the same storm with nothing killed, to tell the two apart


def soak(s: Settings, work: Path) -> int:
    rng = random.Random(s.seed)
    cluster = SoakCluster()
    try:
        cluster.start()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        cluster.stop()
        raise Broken(f"PostgreSQL did not start: {exc}") from exc
    procs: dict[str, Proc] = {}
    try:
        url = cluster.create_database("soak")
        cluster.durable("soak")
        env = serve_env(
            work,
            DATABASE_URL=url,
            PYTHONUNBUFFERED="1",
            PUBLIC_URL="http://127.0.0.1:8000",
            HAETAE_RUN_WORKER="false",
        )
        with receiver(delay=s.receiver_delay, log=True) as address:
            note("haetae db upgrade; haetae apply -f soak.yaml")
            haetae(env, "db", "upgrade")
            config = work / "soak.yaml"
            config.write_text(json.dumps(organisation(s.people, address), indent=1))
            applied = json.loads(haetae(env, "apply", "-f", str(config), "--json"))
            token = applied["tokens"]["soak-am"]
            for n in range(2):
                port = free_port()
                procs[f"api-{n}"] = Proc(
                    f"api-{n}", ["serve", "--port", str(port)], env, work / f"api-{n}.log"
                )
            for n in range(2):
                procs[f"worker-{n}"] = Proc(
                    f"worker-{n}", ["worker"], env, work / f"worker-{n}.log"
                )
            for proc in procs.values():
                proc.start()
            for proc in procs.values():
                if proc.wait_ready(60) is None and (
                    proc.port or proc.proc is None or proc.proc.poll() is not None
                ):
                    raise Broken(f"{proc.name} did not start; see its log:\n{tail(proc.log)}")
            time.sleep(2)  # past start-up work: the first hand-off scan, imports
            return storm(s, rng, cluster, procs, address, token, work)
    finally:
        for proc in procs.values():
            proc.stop()
        cluster.stop()
        if s.logs:
            s.logs.mkdir(parents=True, exist_ok=True)
            for path in [*work.glob("*.log"), work / "soak.yaml", work / "receipts.json"]:
                if path.exists():
                    shutil.copy(path, s.logs / path.name)


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def storm(
    s: Settings,
    rng: random.Random,
    cluster: SoakCluster,
    procs: dict[str, Proc],
    address: str,
    token: str,
    work: Path,
) -> int:
    apis = [f"http://127.0.0.1:{procs[f'api-{n}'].port}" for n in range(2)]
    count = int(s.rate * s.duration)
    people = [f"p{i:02d}" for i in range(s.people)]
    posts = [
        Post(n, f"soak{s.seed:04d}{n:08d}", f"svc-{people[n % s.people]}") for n in range(count)
    ]
    events = chaos_plan(rng, s.duration, list(procs), s.pg_mode) if s.chaos else []
    note(f"storm: {count} alerts over {s.duration:g} s; {len(events)} chaos events planned")
    stop_chaos = threading.Event()
    started = time.time()
    failures: list[BaseException] = []

    def chaos_run() -> None:
        try:
            run_chaos(events, procs, cluster, started, stop_chaos)
        except BaseException as exc:  # reported as a broken harness below
            failures.append(exc)

    chaos = threading.Thread(target=chaos_run, daemon=True)
    chaos.start()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    with (
        httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0), limits=limits) as client,
        ThreadPoolExecutor(max_workers=192) as pool,
    ):
        for post in posts:
            delay = started + post.n / s.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, client, apis, token, post, s.give_up)
        storm_end = time.time()
        note("storm: every alert posted once; waiting for retries and the chaos plan")
        chaos.join(timeout=s.give_up + 60)
        stop_chaos.set()
        # The pool's shutdown waits for the retries, each bounded by give_up.
    if chaos.is_alive():
        raise Broken("the chaos thread did not finish")
    if failures:
        raise Broken(f"chaos failed: {failures[0]!r}")
    # Whatever the plan, everything runs again now (a kill may have come late).
    for proc in procs.values():
        if proc.proc is None or proc.proc.poll() is not None:
            proc.start()
    note("settling: waiting until every incident is paged")
    deadline = time.monotonic() + s.settle
    settled_at = None
    while time.monotonic() < deadline:
        done, why = settled(posts, cluster.port, address)
        if done:
            settled_at = time.time()
            break
        time.sleep(1)
    if settled_at is None:
        note(f"settling: gave up after {s.settle:g} s ({why})")
    time.sleep(5)  # stragglers: a lease running out after a kill re-sends
    got = receipts(address)
    db = read_database(cluster.port)
    (work / "receipts.json").write_text(json.dumps([r.__dict__ for r in got]))
    report(s, posts, events, got, db, started, storm_end, settled_at, work)
    return 0


def report(
    s: Settings,
    posts: list[Post],
    events: list[Event],
    got: list[Receipt],
    db: Database,
    started: float,
    storm_end: float,
    settled_at: float | None,
    work: Path,
) -> None:
    def rel(at: float) -> str:
        return f"{at - started:7.1f} s"

    print(
        f"storm: {len(posts)} alerts at {s.rate:g}/s for {s.duration:g} s to {s.people} people; "
        f"seed {s.seed}; "
        + (
            f"PostgreSQL restart -m {s.pg_mode} (synchronous_commit on); "
            if s.chaos
            else "no chaos; "
        )
        + f"receiver delay {s.receiver_delay:g} s"
    )
    settle_text = (
        f"settled {settled_at - storm_end:.1f} s after the last first post"
        if settled_at
        else f"NOT settled within {s.settle:g} s"
    )
    print(f"  {settle_text}")

    print("\nchaos (seconds after the storm began):" + ("" if events else " none"))
    for e in events:
        if not e.killed_at:
            print(f"  {e.at:7.1f} s  (planned, not run) {e.action} {e.target}")
            continue
        ready = f"ready {e.ready_after:.1f} s after restart" if e.ready_after is not None else ""
        if e.action == "pg":
            first_ok = min((p.ok_at for p in posts if p.ok_at and p.ok_at > e.back_at), default=0)
            after = f"; first 2xx {first_ok - e.back_at:.2f} s after start" if first_ok else ""
            print(
                f"  {rel(e.killed_at)}  PostgreSQL stop -m {e.target}, down {e.down:.1f} s, "
                f"started at {rel(e.back_at)}{after}"
            )
        else:
            print(
                f"  {rel(e.killed_at)}  SIGKILL {e.target}, restarted at {rel(e.back_at)}"
                f"{', ' + ready if ready else ''}"
            )

    # Alerts.
    answered = [p for p in posts if p.ok_at is not None]
    lost_alerts = [p for p in answered if p.fingerprint not in db.alerts]
    unanswered = [p for p in posts if p.ok_at is None and not p.refused]
    refused = [p for p in posts if p.refused]
    stored_unanswered = [p for p in unanswered if p.fingerprint in db.alerts]
    retried = [p for p in answered if p.attempts > 1]
    answers: Counter[str] = Counter()
    for p in posts:
        answers.update(p.answers)
    print("\nalerts:")
    print(f"  posted {len(posts)}, answered 2xx {len(answered)}, retried {len(retried)}")
    print(f"  answers: {', '.join(f'{k} x{n}' for k, n in sorted(answers.items()))}")
    print(f"  answered 2xx but not stored (LOST): {len(lost_alerts)}")
    for p in lost_alerts[:5]:
        print(f"    lost: {p.fingerprint} answered at {rel(p.ok_at or 0)}")
    print(
        f"  never answered 2xx within {s.give_up:g} s: {len(unanswered)} "
        f"({len(stored_unanswered)} of them stored anyway)"
    )
    if refused:
        print(
            f"  refused with 4xx (Alertmanager drops those): {len(refused)}, "
            f"e.g. {refused[0].refused}"
        )
    mismatched = [
        p
        for p in answered
        if p.incident and p.fingerprint in db.alerts and db.alerts[p.fingerprint] != p.incident
    ]
    if mismatched:
        print(f"  stored under another incident than answered: {len(mismatched)}")

    # Pages: what the receiver got.
    by_key: dict[str, list[Receipt]] = defaultdict(list)
    for r in got:
        by_key[r.key].append(r)
    first_page: dict[str, float] = {}
    messages_per_incident: dict[str, set[str]] = defaultdict(set)
    wrong_person: set[str] = set()
    for r in sorted(got, key=lambda r: r.at):
        for incident in r.incidents:
            services = db.incidents.get(incident, (0.0, []))[1]
            if services and f"svc-{r.person}" not in services:
                wrong_person.add(incident)  # a page to someone else pages nobody on call
                continue
            messages_per_incident[incident].add(r.key)
            first_page.setdefault(incident, r.at)
    expected = set(db.incidents)
    lost_pages = sorted(expected - set(first_page))
    strays = sorted(set(first_page) - expected)
    incidents_of_answered = {p.incident for p in answered if p.incident}
    unstored_incidents = incidents_of_answered - expected

    # Doubled: a key received more than once; in flight when a copy straddles a kill of a
    # worker (or the database stop) that came soon after the first copy.
    crashes = [e.killed_at for e in events if e.killed_at and e.target.startswith("worker")]
    crashes += [e.killed_at for e in events if e.killed_at and e.action == "pg"]
    doubled_keys = {k: rs for k, rs in by_key.items() if len(rs) > 1}
    in_flight, beyond = [], []
    for key, rs in doubled_keys.items():
        first, last = rs[0].at, rs[-1].at
        if any(first <= c + 0.5 and c - first <= IN_FLIGHT_SECONDS and c <= last for c in crashes):
            in_flight.append(key)
        else:
            beyond.append(key)
    multi = {i: ks for i, ks in messages_per_incident.items() if i in expected and len(ks) > 1}
    spread = Counter(len(messages_per_incident[i]) for i in expected if i in first_page)

    print("\npages (what the receiver got):")
    print(
        f"  messages received {len(got)}, distinct idempotency keys {len(by_key)}, "
        f"incidents {len(expected)}, incidents paged {len(expected) - len(lost_pages)}"
    )
    print(f"  incidents with no page to their on-call (LOST): {len(lost_pages)}")
    for incident in lost_pages[:5]:
        print(f"    lost: {incident} declared at {rel(db.incidents[incident][0])}")
    if unstored_incidents:
        print(f"  incidents named in a 2xx answer but not stored: {len(unstored_incidents)}")
    print(
        f"  keys received more than once: {len(doubled_keys)} "
        f"({len(in_flight)} in flight at a worker kill or the database stop, "
        f"{len(beyond)} beyond that)"
    )
    for key in beyond[:5]:
        times = ", ".join(rel(r.at).strip() for r in doubled_keys[key])
        print(f"    doubled: {key} at {times}")
    # A receiver that drops a repeat by its key is right only if the repeat says the same.
    changed = [k for k, rs in doubled_keys.items() if len({tuple(r.incidents) for r in rs}) > 1]
    if doubled_keys:
        print(f"  re-sent keys whose copies name different incidents: {len(changed)}")
    for key in changed[:3]:
        print(f"    {key}: " + " then ".join(str(r.incidents) for r in doubled_keys[key]))
    print(
        "  messages per incident: "
        + ", ".join(f"{n} message(s): {c}" for n, c in sorted(spread.items()))
    )
    if multi:
        sample = ", ".join(sorted(multi)[:3])
        print(f"  incidents in more than one message (different keys): {len(multi)}, e.g. {sample}")
    if wrong_person:
        print(f"  incidents paged to someone not their service's on-call: {len(wrong_person)}")
    if strays:
        print(f"  pages naming incidents not in the database: {len(strays)}")
    print(
        "  database outbox: "
        + ", ".join(f"{k}/{st} {n}" for (k, st), n in sorted(db.notifications.items()))
    )

    # Spread: declaration -> first page received.
    from_declared = [first_page[i] - db.incidents[i][0] for i in expected if i in first_page]
    post_of = {p.incident: p for p in answered if p.incident}
    from_post = [
        first_page[i] - post_of[i].first_at for i in expected if i in first_page and i in post_of
    ]
    print("\ndeclaration -> page received:")
    for label, values in (
        ("from incident declared_at", from_declared),
        ("from the alert's first post", from_post),
    ):
        if not values:
            print(f"  {label}: no figures")
            continue
        over = sum(1 for v in values if v > 60)
        print(
            f"  {label}: p50 {pct(values, 50):.2f} s, p95 {pct(values, 95):.2f} s, "
            f"p99 {pct(values, 99):.2f} s, max {max(values):.2f} s, over 60 s: {over} "
            f"(of {len(values)})"
        )

    # When in the storm the late ones were declared: a slow stretch after a kill or the
    # database stop reads differently from lateness that grows with the backlog.
    if from_declared:
        buckets: dict[int, list[float]] = defaultdict(list)
        for i in expected:
            if i in first_page:
                declared = db.incidents[i][0]
                buckets[int((declared - started) // 30)].append(first_page[i] - declared)
        print("  by when declared (s after the storm began: count, p50, max):")
        for b, values in sorted(buckets.items()):
            print(
                f"    {b * 30:4d}-{b * 30 + 30:<4d} {len(values):4d}  "
                f"{pct(values, 50):6.2f} s  {max(values):6.2f} s"
            )
    # The slowest, each with the chaos event just before its page: a page claimed by a
    # worker that was then killed waits for its lease to run out.
    slowest = sorted(
        ((first_page[i] - db.incidents[i][0], i) for i in expected if i in first_page),
        reverse=True,
    )[:5]
    if slowest and slowest[0][0] > 15:
        print("  the slowest (declared, paged, the chaos event before the page):")
        for late, i in slowest:
            if late <= 15:
                break
            paged = first_page[i]
            before = [e for e in events if e.killed_at and e.killed_at <= paged]
            what = "no chaos before it"
            if before:
                e = before[-1]
                name = f"SIGKILL {e.target}" if e.action == "kill" else "PostgreSQL stop"
                what = f"{name} at {rel(e.killed_at).strip()}"
            print(
                f"    {i}: {late:.1f} s, declared at {rel(db.incidents[i][0]).strip()}, "
                f"paged at {rel(paged).strip()}; {what}"
            )
    # Overtaken: a person's incident paged after one of theirs declared later.
    overtaken = 0
    mine: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for i in expected:
        services = db.incidents[i][1]
        if i in first_page and services:
            mine[services[0]].append((db.incidents[i][0], first_page[i]))
    for pairs in mine.values():
        pairs.sort()
        overtaken += sum(
            1 for a, (_, paged) in enumerate(pairs) for _, later in pairs[a + 1 :] if later < paged
        )
    print(
        f"  pairs where a later incident was paged before an earlier one to the same person: "
        f"{overtaken}"
    )

    per_person: dict[str, list[float]] = defaultdict(list)
    for r in got:
        per_person[r.person].append(r.at)
    windows = {person: max_in_window(times) for person, times in per_person.items()}
    print("\nmessages per person in any 60 s (most; every receipt, a re-sent key too):")
    print("  " + ", ".join(f"{p} {n}" for p, n in sorted(windows.items())))
    if windows:
        print(f"  max {max(windows.values())} (the cap: one message per 12 s = 5 a minute)")
    # The cap is kept when messages leave; they arrive with the send's own jitter, so a
    # gap a little under 12 s is not a breach, and a first copy and its re-send are one.
    firsts: dict[str, list[float]] = defaultdict(list)
    for rs in by_key.values():
        firsts[rs[0].person].append(rs[0].at)
    gaps = []
    for moments in firsts.values():
        moments.sort()
        gaps += [b - a for a, b in pairwise(moments)]
    if gaps:
        print(
            f"  gaps between one person's messages (distinct keys): min {min(gaps):.2f} s, "
            f"under 11.5 s: {sum(1 for g in gaps if g < 11.5)} of {len(gaps)}"
        )

    lines = log_lines(work)
    if lines:
        print("\nprocess logs (most frequent lines):")
        for line in lines:
            print(f"  {line}")

    def verdict(ok: bool, what: str, detail: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")

    print()
    verdict(not lost_alerts, "no alert lost", f"{len(lost_alerts)} answered 2xx and not stored")
    verdict(not lost_pages, "no page lost", f"{len(lost_pages)} incidents never paged")
    verdict(
        not beyond and not multi and not changed,
        "no page doubled beyond in-flight",
        f"{len(beyond)} keys doubled beyond in-flight, {len(multi)} incidents in 2+ messages, "
        f"{len(changed)} re-sent keys with other content",
    )
    p95 = pct(from_declared, 95) if from_declared else math.inf
    worst = max(from_declared) if from_declared else math.inf
    verdict(p95 < 15, "declaration -> page p95 < 15 s", f"{p95:.2f} s")
    verdict(
        worst <= 60 and not lost_pages,
        "none over 60 s",
        f"max {worst:.2f} s, {sum(1 for v in from_declared if v > 60)} over, "
        f"{len(lost_pages)} never",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="75 s of storm instead of 240 s")
    parser.add_argument("--rate", type=float, default=3.0, help="alerts per second")
    parser.add_argument("--duration", type=float, help="seconds of storm (240; 75 with --quick)")
    parser.add_argument("--people", type=int, default=20, help="on-call people (and services)")
    parser.add_argument("--seed", type=int, default=1, help="the chaos plan's seed")
    parser.add_argument("--settle", type=float, default=180.0, help="most seconds to settle")
    parser.add_argument(
        "--give-up", type=float, default=120.0, help="seconds a client retries one alert"
    )
    parser.add_argument("--pg-stop", choices=("immediate", "fast"), default="immediate")
    parser.add_argument("--receiver-delay", type=float, default=0.0, help="s per answer")
    parser.add_argument("--no-chaos", action="store_true", help="the storm alone")
    parser.add_argument("--logs", type=Path, help="copy the processes' logs to this folder")
    args = parser.parse_args()
    if not 1 <= args.people <= 99:
        parser.error("--people: 1 to 99")
    s = Settings(
        rate=args.rate,
        duration=args.duration or (75.0 if args.quick else 240.0),
        people=args.people,
        seed=args.seed,
        settle=args.settle,
        give_up=args.give_up,
        pg_mode=args.pg_stop,
        receiver_delay=args.receiver_delay,
        logs=args.logs,
        chaos=not args.no_chaos,
    )
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"Haetae {revision or '?'}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs\n"
    )
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="haetae-soak-") as tmp:
            code = soak(s, Path(tmp))
    except (Broken, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"the soak broke: {exc}")
        return 1
    print(f"\n({math.ceil(time.monotonic() - began)} s in all)")
    return code


if __name__ == "__main__":
    sys.exit(main())
