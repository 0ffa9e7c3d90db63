"""The probes against real servers on loopback (a TLS server with trustme certificates, a real
Prometheus scraping a target), and the allow-list's rules. No database: the runner's tests
cover the rows and the timeline."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from haetae.diagnostics import allow, probes
from haetae.diagnostics.service import parse_spec
from tests.diagnostics.conftest import leaf_context

pytestmark = pytest.mark.no_database

NOW = datetime.now(UTC)


def run(spec: dict[str, Any], **kwargs: Any) -> probes.ProbeResult:
    return asyncio.run(probes.probe(parse_spec(spec), now=kwargs.pop("now", NOW), **kwargs))


def test_tls_expiry_warns_at_30_days_and_fails_at_7_or_when_expired(tls_server) -> None:
    server, contexts = tls_server
    for name, days in (("far.test", 90), ("soon.test", 20), ("close.test", 3)):
        contexts[name] = leaf_context(server.ca, name, NOW + timedelta(days=days, hours=12))
    contexts["gone.test"] = leaf_context(server.ca, "gone.test", NOW - timedelta(days=2))

    def check(name: str) -> probes.ProbeResult:
        return run({"kind": "tls", "host": "127.0.0.1", "port": server.port, "server_name": name})

    far, soon, close, gone = (
        check(n) for n in ("far.test", "soon.test", "close.test", "gone.test")
    )
    assert (far.status, soon.status, close.status, gone.status) == (
        "ok",
        "warning",
        "failed",
        "failed",
    )
    assert (far.detail["days_left"], soon.detail["days_left"], close.detail["days_left"]) == (
        90,
        20,
        3,
    )
    assert soon.detail["not_after"].startswith(
        (NOW + timedelta(days=20, hours=12)).date().isoformat()
    )
    assert gone.detail["days_left"] < 0 and "expired" in gone.summary
    # trustme's CA is in no system store: the date is still read, the failure reported.
    assert soon.detail["verified"] is False and soon.detail["verify_error"]
    assert "does not verify" in soon.summary and "20 days" in soon.summary
    assert soon.detail["names"] == ["soon.test"] and "trustme" in soon.excerpt
    # The same certificate, a month later by the caller's clock: now within 7 days.
    later = run(
        {"kind": "tls", "host": "127.0.0.1", "port": server.port, "server_name": "far.test"},
        now=NOW + timedelta(days=85),
    )
    assert (later.status, later.detail["days_left"]) == ("failed", 5)


# -- Prometheus ------------------------------------------------------------------------


class _Metrics(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        body = b"# TYPE haetae_test_queue_depth gauge\nhaetae_test_queue_depth 42\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's Prometheus on a free loopback port, scraping a /metrics this test serves
    every second; yields its URL once the first sample is in."""
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        pytest.fail("prometheus is not installed (scripts/system-deps)")
    metrics = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    threading.Thread(target=metrics.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: target\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{metrics.server_address[1]}']}}]\n"
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited: {(folder / 'prometheus.log').read_text()[-2000:]}")
            try:
                answer = httpx.get(
                    f"{url}/api/v1/query", params={"query": "haetae_test_queue_depth"}, timeout=2
                ).json()
                if answer["data"]["result"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("prometheus scraped nothing within 60 s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        metrics.shutdown()
        metrics.server_close()


def test_prometheus_query_compared_with_its_threshold_both_ways(prometheus: str) -> None:
    query = "haetae_test_queue_depth"

    def check(**fields: Any) -> probes.ProbeResult:
        return run({"kind": "prometheus", "query": query, **fields}, prometheus_url=prometheus)

    high = check(op=">", threshold=10)
    assert high.status == "failed"  # the condition (the bad state) holds
    assert high.detail["value"] == 42 and high.detail["series"] == 1
    assert high.summary == f"{query} = 42, which is > 10"
    assert check(op=">", threshold=100).status == "ok"
    assert check(op="<", threshold=10).status == "ok"
    assert check(op="==", threshold=42).status == "failed"
    assert check().status == "ok"  # no threshold: the value is reported

    # The spec's own url wins over the setting.
    assert (
        run(
            {"kind": "prometheus", "query": query, "url": prometheus, "threshold": 1},
            prometheus_url="http://127.0.0.1:9",
        ).status
        == "failed"
    )

    absent = {"query": "haetae_test_missing_metric"}
    assert check(**absent).status == "ok"
    missing = check(**absent, absent_fails=True)
    assert missing.status == "failed" and "no samples" in missing.summary

    broken = check(query="sum(")
    assert broken.status == "error" and "bad_data" in broken.summary

    none = run({"kind": "prometheus", "query": query})
    assert none.status == "error" and "No Prometheus" in none.summary


# -- the allow-list --------------------------------------------------------------------

ALLOWED = [
    "api.example.com",
    "*.internal.example.com",
    "db.example.com:5432",
    "10.1.0.0/16",
    "192.168.7.7:443",
    "[2001:db8::1]:443",
    "https://status.example.com/health",
    "not a valid entry ::: x",
]


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ({"kind": "tcp", "host": "api.example.com", "port": 443}, True),
        ({"kind": "tcp", "host": "API.Example.com.", "port": 80}, True),
        ({"kind": "tcp", "host": "evilapi.example.com", "port": 443}, False),
        ({"kind": "tcp", "host": "api.example.com.evil.net", "port": 443}, False),
        ({"kind": "dns", "name": "a.b.internal.example.com"}, True),
        ({"kind": "dns", "name": "internal.example.com"}, False),  # subdomains only
        ({"kind": "dns", "name": "xinternal.example.com"}, False),
        ({"kind": "tcp", "host": "db.example.com", "port": 5432}, True),
        ({"kind": "tcp", "host": "db.example.com", "port": 22}, False),
        ({"kind": "tcp", "host": "10.1.200.3", "port": 22}, True),
        ({"kind": "tcp", "host": "10.2.0.1", "port": 22}, False),
        ({"kind": "tls", "host": "192.168.7.7"}, True),
        ({"kind": "tls", "host": "192.168.7.7", "port": 8443}, False),
        ({"kind": "tls", "host": "2001:db8::1"}, True),
        # An IP-looking name is not resolved or reinterpreted: it is refused.
        ({"kind": "tcp", "host": "10.1.0.1.nip.io", "port": 80}, False),
        ({"kind": "http", "url": "https://api.example.com/anything?x=1"}, True),
        ({"kind": "http", "url": "https://status.example.com/health"}, True),
        ({"kind": "http", "url": "https://status.example.com/health/db"}, True),
        ({"kind": "http", "url": "https://status.example.com/healthz"}, False),
        ({"kind": "http", "url": "https://status.example.com/admin"}, False),
        ({"kind": "http", "url": "http://status.example.com/health"}, False),  # the scheme
        ({"kind": "http", "url": "https://status.example.com:8443/health"}, False),
        ({"kind": "http", "url": "https://user:pw@10.1.2.3/x"}, True),
        ({"kind": "prometheus", "query": "up", "url": "http://10.1.0.9:9090"}, True),
        ({"kind": "prometheus", "query": "up", "url": "http://prom.example.net:9090"}, False),
    ],
)
def test_allow_list_matches_names_addresses_ports_and_url_prefixes(
    spec: dict[str, Any], allowed: bool
) -> None:
    verdict = allow.is_allowed(ALLOWED, parse_spec(spec))
    assert bool(verdict) is allowed
    if not allowed:
        assert "allow-list" in verdict.reason and verdict.target in verdict.reason


def test_an_empty_allow_list_allows_nothing_and_prometheus_from_the_setting_is_checked() -> None:
    assert not allow.is_allowed([], parse_spec({"kind": "dns", "name": "localhost"}))
    spec = parse_spec({"kind": "prometheus", "query": "up"})
    assert not allow.is_allowed(["10.0.0.0/8"], spec, prometheus_url="http://127.0.0.1:9090")
    assert allow.is_allowed(["127.0.0.1:9090"], spec, prometheus_url="http://127.0.0.1:9090")
    with pytest.raises(ValueError, match="wildcard"):
        allow.parse_entry("api.*.example.com")


def test_shown_urls_carry_no_credentials_or_tokens() -> None:
    shown = probes.redact_url("https://ops:hunter2@api.example.com/h?token=abc&page=2&api_key=k")
    assert shown == "https://api.example.com/h?token=***&page=2&api_key=***"
