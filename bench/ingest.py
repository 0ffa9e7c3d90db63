"""Alert ingest throughput of a running Haetae, against Alertmanager and a bare FastAPI app.

Four concurrent senders (`wrk -t2 -c4`, a Lua script building each body) post batches of
1 and of 100 alerts for a fixed time after a short warm-up, to:

- a bare FastAPI app (bench/ingest_bare_app.py: parse the JSON, answer 202), served with
  the uvicorn settings `haetae serve` uses: the floor for one alert per request;
- Alertmanager's own `POST /api/v2/alerts` (Debian's prometheus-alertmanager, no
  gossip, no notification due during the run);
- `haetae serve` on SQLite, then on a throwaway PostgreSQL cluster, each as its own
  process, receiving Alertmanager webhook (version 4) bodies on /ingest/alertmanager.

Alerts come from K distinct keys (fingerprints) in G groups (alertnames), sent over and
over, so that deduplication is exercised and incidents are few. A batch of 100 is one
group's alerts, as Alertmanager sends them. After each Haetae run the database is read:
every key sent must be one open alert, no two open alerts may share a key, and the
receipts counted must be the alerts accepted.

Printed: requests/s, alerts/s, p50/p95/p99 latency per target and batch size, the ratios
Haetae / bare FastAPI and Haetae / Alertmanager measured in the same run, and the targets
as PASS/FAIL lines. Exit 0 whatever the targets say; 1 when something broke.

    .venv/bin/python bench/ingest.py               # 5 s per run after 1 s warm-up
    .venv/bin/python bench/ingest.py --quick       # 2 s per run, under 45 s in all
    .venv/bin/python bench/ingest.py --workers 2   # haetae serve --workers 2 (and the bare app)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.alertmanager import Alertmanager, AlertmanagerError, rfc3339  # noqa: E402
from tests.support.pg import PostgresCluster, free_port  # noqa: E402
from tests.support.server import BOOTSTRAP_KEY as KEY  # noqa: E402
from tests.support.server import HAETAE, serve_env, serve_process  # noqa: E402

THREADS = 2  # wrk -t2 -c4: four concurrent senders, two per wrk thread
CONNECTIONS = 4
RAISED_LIMIT = "100000000/minute"  # the ingest rate limits, out of the way
TARGETS = ("bare", "alertmanager", "sqlite", "postgresql")

# The wrk script. Arguments after `--`: mode (webhook | am), batch, keys, groups,
# startsAt, threads, token, path, tag, first request index.
# Request p of the run (p = (start + n) * threads + thread id) carries keys
# (p * batch + a) % keys, a < batch: consecutive keys, so a batch of `keys / groups`
# alerts is exactly one group; every key is sent once `keys / batch` requests are made.
LUA = r"""
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local severities = {"critical", "warning", "info"}

function init(args)
  mode = args[1]
  batch = tonumber(args[2])
  keys = tonumber(args[3])
  groups = tonumber(args[4])
  local starts = args[5]
  nthreads = tonumber(args[6])
  local token = args[7]
  path = args[8]
  local tag = args[9]
  start = tonumber(args[10])
  headers = {["Content-Type"] = "application/json"}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  per_group = math.ceil(keys / groups)
  heads, tails, envelope_heads, envelope_tails = {}, {}, {}, {}
  for k = 0, keys - 1 do
    local g = math.floor(k / per_group)
    local labels = string.format(
      '{"alertname":"BenchGroup%d","bench":"%s","instance":"host-%d:9100","job":"node",' ..
      '"service":"svc-%d","severity":"%s"}', g, tag, k, g, severities[(k % 3) + 1])
    local summary
    if k % 2 == 0 then
      summary = string.format("Disk almost full on host-%d", k)
    else
      summary = string.format("host-%d 디스크 사용량 95%% 초과", k)
    end
    heads[k] = '{"labels":' .. labels .. ',"annotations":{"summary":"' .. summary ..
      '","runbook_url":"http://wiki.example/runbooks/disk","value":"'
    local tail = '"},"startsAt":"' .. starts ..
      '","generatorURL":"http://127.0.0.1:9090/graph?g0.expr=node_filesystem_avail_bytes"'
    if mode == "am" then
      tails[k] = tail .. "}"
    else
      heads[k] = '{"status":"firing",' .. string.sub(heads[k], 2)
      tails[k] = tail .. string.format(
        ',"endsAt":"0001-01-01T00:00:00Z","fingerprint":"bench%011d"}', k)
    end
  end
  for g = 0, groups - 1 do
    envelope_heads[g] = '{"receiver":"haetae","status":"firing","alerts":['
    envelope_tails[g] = string.format(
      '],"groupLabels":{"alertname":"BenchGroup%d"},' ..
      '"commonLabels":{"alertname":"BenchGroup%d","bench":"%s","job":"node"},' ..
      '"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","version":"4",' ..
      '"groupKey":"{}:{alertname=\\"BenchGroup%d\\"}","truncatedAlerts":0}', g, g, tag, g)
  end
  counter = 0
  statuses = {}
  acked = {}
end

function request()
  local p = (start + counter) * nthreads + id
  counter = counter + 1
  local first = (p * batch) % keys
  local value = tostring(p)
  local parts = {}
  for a = 1, batch do
    local k = (first + a - 1) % keys
    parts[a] = heads[k] .. value .. tails[k]
  end
  local alerts = table.concat(parts, ",")
  local body
  if mode == "am" then
    body = "[" .. alerts .. "]"
  else
    local g = math.floor(first / per_group)
    body = envelope_heads[g] .. alerts .. envelope_tails[g]
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    -- Haetae names each alert it took: the keys it acknowledged, checked against its tables.
    for k in string.gmatch(body, '"dedup_key":%s*"bench(%d+)"') do acked[tonumber(k)] = true end
  elseif not refusal then
    refusal = status .. " " .. string.gsub(string.sub(body, 1, 400), "%s+", " ")
  end
end

function done(summary, latency, requests)
  local counters, merged, parts, keys_acked = {}, {}, {}, {}
  for _, t in ipairs(threads) do
    table.insert(counters, tostring(t:get("counter")))
    for s, n in pairs(t:get("statuses")) do merged[s] = (merged[s] or 0) + n end
    for k, _ in pairs(t:get("acked")) do table.insert(keys_acked, tostring(k)) end
    local refusal = t:get("refusal")
    if refusal then io.write("WRK-REFUSAL ", refusal, "\n") end
  end
  for s, n in pairs(merged) do table.insert(parts, string.format('"%d":%d', s, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"counters":[%s],"statuses":{%s},"acked":[%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(counters, ","), table.concat(parts, ","), table.concat(keys_acked, ",")))
end
"""


class Broken(Exception):
    """Something the bench needs did not work: no figures can be trusted."""


@dataclass
class Run:
    """One wrk invocation's figures."""

    requests: int
    seconds: float
    batch: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    counters: list[int]  # request() calls per wrk thread: requests built and sent
    statuses: dict[int, int]
    socket_errors: int
    acked: set[int]  # keys named in 2xx answers (Haetae lists each alert's dedup_key)
    refusals: list[str]  # the first answer other than 2xx of each wrk thread
    start: int  # the first request index of each thread (the Lua script's `start`)

    @property
    def rps(self) -> float:
        """Requests accepted (2xx) per second."""
        return self.ok / self.seconds

    @property
    def alerts_per_s(self) -> float:
        return self.rps * self.batch

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def failed(self) -> int:
        """Answers other than 2xx, and socket errors (connect, read, write, timeout)."""
        return self.requests - self.ok + self.socket_errors

    @property
    def refused(self) -> int:
        return self.requests - self.ok

    def status_note(self) -> str:
        bad = {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s < 300}
        notes = [f"{n} x {s}" for s, n in bad.items()]
        if self.socket_errors:
            notes.append(f"{self.socket_errors} socket errors")
        return ", ".join(notes) or "none"


@dataclass
class Result:
    label: str
    runs: dict[int, Run] = field(default_factory=dict)  # batch size -> measured run
    checks: dict[int, tuple[bool, str]] = field(default_factory=dict)  # batch -> (ok, text)
    log: list[str] = field(default_factory=list)  # what the server logged (warnings and up)


@dataclass
class Settings:
    seconds: int
    warmup: int
    keys: int
    groups: int
    batches: tuple[int, ...]
    workers: int
    wrk: str
    script: Path
    starts_at: str
    quick: bool

    def warm_up(self, batch: int) -> bool:
        """Before each batch size; when quick, only before a target's first."""
        return not self.quick or batch == self.batches[0]


def run_wrk(
    s: Settings,
    url: str,
    path: str,
    *,
    mode: str,
    batch: int,
    token: str,
    tag: str,
    seconds: int,
    start: int = 0,
) -> Run:
    cmd = [
        s.wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(s.script),
        f"{url}{path}",
        "--",
        mode,
        str(batch),
        str(s.keys),
        str(s.groups),
        s.starts_at,
        str(THREADS),
        token or "-",
        path,
        tag,
        str(start),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise Broken(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRK-RESULT "))
    if data["requests"] == 0:
        raise Broken(f"wrk made no request to {url}{path}:\n{done.stdout}")
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        batch=batch,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        counters=[int(c) for c in data["counters"]],
        statuses={int(k): v for k, v in data["statuses"].items()},
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        acked=set(data["acked"]),
        refusals=[
            ln.removeprefix("WRK-REFUSAL ")
            for ln in done.stdout.splitlines()
            if ln.startswith("WRK-REFUSAL ")
        ],
        start=start,
    )


def keys_sent(s: Settings, batch: int, runs: list[Run]) -> set[int]:
    """The key indexes the Lua script put in the requests these runs built."""
    sent: set[int] = set()
    for run in runs:
        for thread, count in enumerate(run.counters):
            for n in range(run.start, run.start + count):
                first = ((n * THREADS + thread) * batch) % s.keys
                sent.update((first + a) % s.keys for a in range(batch))
                if len(sent) == s.keys:
                    return sent
    return sent


def measure(
    s: Settings,
    url: str,
    path: str,
    *,
    mode: str,
    batch: int,
    token: str,
    tag: str,
    warm_up: bool = True,
) -> list[Run]:
    """A warm-up (unless told) then the measured run, last; each carries on the keys."""
    runs: list[Run] = []
    for seconds in [s.warmup] * warm_up + [s.seconds]:
        runs.append(
            run_wrk(
                s,
                url,
                path,
                mode=mode,
                batch=batch,
                token=token,
                tag=tag,
                seconds=seconds,
                start=max(runs[-1].counters) + runs[-1].start if runs else 0,
            )
        )
    return runs


# -- the bare FastAPI app ---------------------------------------------------------


@contextmanager
def bare_app(workers: int) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "ingest_bare_app.py"),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.post(f"{url}/ingest/alertmanager", json={}, timeout=1).status_code == 202:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise Broken(f"the bare FastAPI app did not start:\n{proc.communicate()[1]}")
            time.sleep(0.05)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def bench_bare(s: Settings) -> Result:
    result = Result("bare FastAPI")
    with bare_app(s.workers) as url:
        # Its batches of 100 are for the reader; no target needs them, --quick skips them.
        for batch in s.batches[:1] if s.quick else s.batches:
            runs = measure(
                s,
                url,
                "/ingest/alertmanager",
                mode="webhook",
                batch=batch,
                token="",
                tag="bare",
                warm_up=s.warm_up(batch),
            )
            result.runs[batch] = runs[-1]
    return result


# -- Alertmanager -----------------------------------------------------------------


def bench_alertmanager(s: Settings) -> Result:
    result = Result("Alertmanager")
    # Its one receiver posts to a closed port, but not during the run: the first
    # notification of a group waits an hour. The storage is a fresh temporary folder.
    am = Alertmanager(
        f"http://127.0.0.1:{free_port()}/",
        group_wait="1h",
        group_interval="1h",
        repeat_interval="1h",
        log_level="warn",
    )
    try:
        am.start()
    except AlertmanagerError as exc:
        raise Broken(f"Alertmanager did not start: {exc}") from exc
    try:
        for batch in s.batches:
            tag = f"am-{batch}"
            runs = measure(
                s,
                am.url,
                "/api/v2/alerts",
                mode="am",
                batch=batch,
                token="",
                tag=tag,
                warm_up=s.warm_up(batch),
            )
            result.runs[batch] = runs[-1]
            held = len(am.alerts(filter=f'bench="{tag}"'))
            sent = len(keys_sent(s, batch, runs))
            # A request in flight when wrk stopped may have been dropped.
            result.checks[batch] = (
                sent - CONNECTIONS * batch <= held <= sent,
                f"Alertmanager holds {held} alerts for {sent} keys sent",
            )
    finally:
        am.stop()
    return result


# -- Haetae -----------------------------------------------------------------------


def persisted(
    s: Settings, engine_url: str, name: str, batch: int, runs: list[Run]
) -> tuple[bool, str]:
    """Every alert Haetae took is stored once, open, and counted; nothing else is."""
    engine = create_engine(engine_url)
    query = text(
        "SELECT a.dedup_key, a.open_key, a.receipts, a.incident_id FROM alerts a "
        "JOIN integrations i ON i.id = a.integration_id WHERE i.name = :name"
    )
    try:
        # Requests in flight when wrk stopped may still be committing: wait until calm.
        previous = None
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                rows = conn.execute(query, {"name": name}).all()
            receipts = sum(r.receipts for r in rows)
            if receipts == previous or time.monotonic() > deadline:
                break
            previous = receipts
            time.sleep(0.2)
    finally:
        engine.dispose()

    def fingerprints(indexes: set[int]) -> set[str]:
        return {f"bench{k:011d}" for k in indexes}

    sent = fingerprints(keys_sent(s, batch, runs))
    acked = fingerprints(set().union(*(run.acked for run in runs)))
    open_keys = [r.open_key for r in rows if r.open_key is not None]
    stored = {r.dedup_key for r in rows}
    duplicates = len(open_keys) - len(set(open_keys))
    accepted = sum(run.ok for run in runs) * batch
    # Requests built minus those refused: counts the requests in flight when wrk stopped,
    # which the server may or may not have taken.
    at_most = sum(sum(run.counters) - run.refused for run in runs) * batch
    incidents = len({r.incident_id for r in rows if r.incident_id})
    problems = []
    if accepted and not acked:
        problems.append("the answers name no dedup_key: keys checked by count only")
    if not acked <= stored:
        problems.append(f"{len(acked - stored)} keys accepted but not stored")
    if not stored <= sent:
        problems.append(f"{len(stored - sent)} keys stored but never sent")
    if len(open_keys) != len(rows):
        problems.append(f"{len(rows) - len(open_keys)} alerts not open")
    if duplicates:
        problems.append(f"{duplicates} open alerts share a key")
    if not accepted <= receipts <= at_most:
        problems.append(f"{receipts} receipts, not within [{accepted}, {at_most}]")
    summary = (
        f"{len(open_keys)} open alerts for {len(stored)} keys ({len(acked)} named in 2xx "
        f"answers, {len(sent)} of {s.keys} sent); {duplicates} duplicates; {receipts} receipts "
        f"for {accepted} alerts accepted; {incidents} incidents"
    )
    if problems:
        summary += ". " + "; ".join(problems)
    return not problems, summary


def bench_haetae(s: Settings, label: str, database_url: str | None) -> Result:
    result = Result(f"Haetae {label}")
    with tempfile.TemporaryDirectory() as data_dir:
        env = serve_env(
            Path(data_dir),
            INGEST_RATE_LIMIT_PER_INTEGRATION=RAISED_LIMIT,
            INGEST_RATE_LIMIT_PER_CLIENT=RAISED_LIMIT,
        )
        engine_url = database_url or f"sqlite:///{Path(data_dir) / 'haetae.db'}"
        if database_url:
            env["DATABASE_URL"] = database_url
            upgrade = subprocess.run([HAETAE, "db", "upgrade"], env=env, capture_output=True)
            if upgrade.returncode != 0:
                raise Broken(f"haetae db upgrade failed:\n{upgrade.stderr.decode()}")
        log_path = Path(data_dir) / "serve.log"
        with log_path.open("w") as log:
            try:
                with serve_process(env, "--workers", str(s.workers), stderr=log.fileno()) as (
                    _,
                    url,
                ):
                    for batch in s.batches:
                        name = f"bench-{batch}"
                        created = httpx.post(
                            f"{url}/api/v1/integrations",
                            headers={"Authorization": f"Bearer {KEY}"},
                            json={"name": name, "type": "alertmanager"},
                        )
                        if created.status_code != 201:
                            raise Broken(
                                f"creating the integration answered {created.status_code}: "
                                f"{created.text}"
                            )
                        token = created.json()["token"]
                        runs = measure(
                            s,
                            url,
                            "/ingest/alertmanager",
                            mode="webhook",
                            batch=batch,
                            token=token,
                            tag=name,
                            warm_up=s.warm_up(batch),
                        )
                        result.runs[batch] = runs[-1]
                        result.checks[batch] = persisted(s, engine_url, name, batch, runs)
            except RuntimeError as exc:
                raise Broken(f"{exc}\n{log_path.read_text()[-3000:]}") from exc
        result.log = server_errors(log_path)
    return result


def server_errors(log_path: Path, most: int = 5) -> list[str]:
    """The server's distinct warning and error messages (JSON log lines), most frequent first."""
    counts: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            message = f"{entry['level']} {entry['logger']}: {entry['message']}"
        except (ValueError, KeyError, TypeError):
            message = line.strip()
        if message:
            counts[message[:300]] = counts.get(message[:300], 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:most]
    return [f"{n} x {message}" for message, n in ranked]


# -- report -----------------------------------------------------------------------


def table(results: list[Result], s: Settings) -> None:
    print(
        f"{'target':<20} {'batch':>5} {'req/s':>8} {'alerts/s':>9} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'requests':>9}  not 2xx"
    )
    for result in results:
        for batch, run in result.runs.items():
            print(
                f"{result.label:<20} {batch:>5} {run.rps:>8.0f} {run.alerts_per_s:>9.0f} "
                f"{run.p50_ms:>7.1f} {run.p95_ms:>7.1f} {run.p99_ms:>7.1f} {run.max_ms:>7.1f} "
                f"{run.requests:>9}  {run.status_note()}"
            )
    refusals = [
        (result.label, batch, text_)
        for result in results
        for batch, run in result.runs.items()
        for text_ in run.refusals
    ]
    for label, batch, text_ in refusals:
        print(f"  refused, {label} batch {batch}: {text_}")
    for result in results:
        for line in result.log:
            print(f"  {result.label} logged {line}")
    print("(req/s and alerts/s count 2xx answers only; latency counts every answer)")


def verdicts(results: dict[str, Result], s: Settings) -> None:
    bare, am = results.get("bare"), results.get("alertmanager")
    small, large = min(s.batches), max(s.batches)

    def line(ok: bool | None, what: str, detail: str) -> None:
        word = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"{word}  {what}: {detail}")

    for key in ("alertmanager", "sqlite", "postgresql"):
        result = results.get(key)
        if result:
            for batch, (_, text_) in result.checks.items():
                print(f"stored: {result.label}, batch {batch}: {text_}")
    print()
    if bare or am:
        print(f"{'ratio, same run':<44}" + "".join(f"{f'batch {b}':>10}" for b in s.batches))
    for key in ("sqlite", "postgresql"):
        haetae = results.get(key)
        for other, unit in ((bare, "req/s"), (am, "alerts/s")):
            if not haetae or not other:
                continue
            cells = []
            for batch in s.batches:
                if batch in other.runs:
                    mine, theirs = haetae.runs[batch], other.runs[batch]
                    cells.append(f"{mine.rps / theirs.rps:>10.2f}")  # same batch: same ratio
                else:
                    cells.append(f"{'-':>10}")
            print(f"{f'{haetae.label} / {other.label} {unit}':<44}" + "".join(cells))
    print()
    for key in ("sqlite", "postgresql"):
        haetae = results.get(key)
        if not haetae:
            continue
        one, many = haetae.runs[small], haetae.runs[large]
        clean = (one.failed == 0, many.failed == 0)
        if bare:
            ratio = one.rps / bare.runs[small].rps
            line(
                ratio >= 0.5 and clean[0],
                f"{haetae.label} {small} alert/request >= 0.5 x bare FastAPI req/s",
                f"{one.rps:.0f} / {bare.runs[small].rps:.0f} = {ratio:.2f}"
                + ("" if clean[0] else f" ({one.status_note()})"),
            )
        else:
            line(
                None, f"{haetae.label} {small} alert/request >= 0.5 x bare FastAPI req/s", "not run"
            )
        if am:
            ratio = many.alerts_per_s / am.runs[large].alerts_per_s
            line(
                ratio >= 0.5 and clean[1],
                f"{haetae.label} batches of {large} >= 0.5 x Alertmanager alerts/s",
                f"{many.alerts_per_s:.0f} / {am.runs[large].alerts_per_s:.0f} = {ratio:.2f}"
                + ("" if clean[1] else f" ({many.status_note()})"),
            )
        else:
            line(
                None, f"{haetae.label} batches of {large} >= 0.5 x Alertmanager alerts/s", "not run"
            )
        worst = max(run.p95_ms for run in haetae.runs.values())
        line(
            worst < 50 and all(clean),
            f"{haetae.label} p95 < 50 ms",
            ", ".join(f"batch {b}: {r.p95_ms:.1f} ms" for b, r in haetae.runs.items()),
        )
        line(
            all(ok for ok, _ in haetae.checks.values()),
            f"{haetae.label} every alert persisted and deduplicated",
            ", ".join(
                f"batch {b}: {'ok' if ok else 'NOT'}" for b, (ok, _) in haetae.checks.items()
            ),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs: under 45 s in all")
    parser.add_argument("--workers", type=int, default=1, help="haetae serve --workers")
    parser.add_argument("--seconds", type=int, help="length of each measured run")
    parser.add_argument("--keys", type=int, default=500, help="distinct alert keys")
    parser.add_argument("--groups", type=int, default=5, help="alertnames the keys fall in")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"comma-separated subset of {','.join(TARGETS)}",
    )
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk was not found; install Debian's wrk (scripts/system-deps does).")
        return 1
    batches = (1, 100)
    if args.keys < max(batches) or args.groups < 1:
        parser.error("--keys must be at least 100 and --groups at least 1")

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "ingest.lua"
        script.write_text(LUA)
        s = Settings(
            seconds=args.seconds or (2 if args.quick else 5),
            warmup=1,
            keys=args.keys,
            groups=args.groups,
            batches=batches,
            workers=args.workers,
            wrk=wrk,
            script=script,
            starts_at=rfc3339(datetime.now(UTC) - timedelta(minutes=10)),
            quick=args.quick,
        )
        warm = "a target's first" if s.quick else "each"
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        print(
            f"wrk -t{THREADS} -c{CONNECTIONS} ({CONNECTIONS} concurrent senders), {s.seconds} s "
            f"per run, a {s.warmup} s warm-up before {warm}; {s.keys} alert keys in "
            f"{s.groups} groups; {s.workers} server worker(s); Haetae {revision or '?'}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
        )
        results: dict[str, Result] = {}
        try:
            if "bare" in targets:
                results["bare"] = bench_bare(s)
            if "alertmanager" in targets:
                results["alertmanager"] = bench_alertmanager(s)
            if "sqlite" in targets:
                results["sqlite"] = bench_haetae(s, "SQLite", None)
            if "postgresql" in targets:
                cluster = PostgresCluster()
                try:
                    cluster.start()
                except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                    with suppress(OSError, subprocess.CalledProcessError):
                        cluster.stop()  # whatever start left behind
                    raise Broken(f"PostgreSQL did not start: {exc}") from exc
                try:
                    results["postgresql"] = bench_haetae(
                        s, "PostgreSQL", cluster.create_database("bench")
                    )
                finally:
                    cluster.stop()
        except Broken as exc:
            print(f"the bench broke: {exc}")
            return 1
        table(list(results.values()), s)
        print()
        verdicts(results, s)
    print(f"\n({math.ceil(time.monotonic() - started)} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
