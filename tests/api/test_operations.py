"""Operating the service (seed 004): health, request ids, body limits, metrics, start-up checks."""

from __future__ import annotations

import json
import socket
import subprocess

import httpx
import pytest

from haetae.app import create_app
from haetae.config import ConfigError, Settings
from tests.support.pg import PostgresCluster, free_port
from tests.support.server import (
    BOOTSTRAP_KEY,
    HAETAE,
    serve_env,
    serve_process,
    start_server,
)


def test_every_answer_carries_the_baseline_security_headers(anon):
    for path in ("/health/live", "/login", "/api/v1/incidents"):
        headers = anon.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path


def test_request_id_is_echoed_or_generated(anon):
    r = anon.get("/health/live", headers={"X-Request-Id": "trace-abc.123"})
    assert r.headers["x-request-id"] == "trace-abc.123"
    generated = anon.get("/health/live").headers["x-request-id"]
    assert len(generated) == 32
    # An id that could forge log lines is replaced, not echoed.
    r = anon.get("/health/live", headers={"X-Request-Id": "x" * 300})
    assert r.headers["x-request-id"] != "x" * 300


def test_oversized_body_is_413_before_it_is_read(api, server):
    limit = server.app.state.settings.max_request_body_bytes
    big = {"title": "x", "summary": "y" * (limit + 10)}
    r = api.post("/api/v1/incidents", json=big)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]

    def chunks():
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000

    r = api.post(
        "/api/v1/incidents", content=chunks(), headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert api.get("/api/v1/incidents").json()["total"] == 0


def test_a_client_that_lies_about_the_length_cannot_exceed_the_limit(server):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
            b"Content-Type: application/json\r\n\r\n{"
        )
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")


def test_metrics_count_requests_by_route(api, anon):
    api.get("/api/v1/incidents")
    api.get("/api/v1/incidents/INC-20990101-001")
    text = anon.get("/metrics").text
    assert 'haetae_http_requests_total{method="GET",route="/api/v1/incidents",status="200"}' in text
    assert 'route="/api/v1/incidents/{incident_id}",status="404"' in text
    assert "haetae_http_request_duration_seconds_bucket" in text


def test_ready_when_the_database_answers(anon):
    r = anon.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == {"ok": True}


def test_readiness_fails_naming_the_database_when_it_is_gone(tmp_path):
    cluster = PostgresCluster().start()
    try:
        settings = Settings(
            DATABASE_URL=cluster.url(), JWT_SECRET="s" * 40, HAETAE_DATA_DIR=tmp_path
        )
        running = start_server(create_app(settings, migrate=True))
        try:
            assert httpx.get(f"{running.url}/health/ready").status_code == 200
            cluster.stop()
            r = httpx.get(f"{running.url}/health/ready", timeout=30)
            assert r.status_code == 503
            assert r.json()["failing"] == ["database", "database_write"]
            assert r.json()["checks"]["database"]["ok"] is False
            assert httpx.get(f"{running.url}/health/live").status_code == 200
        finally:
            running.stop()
    finally:
        cluster.stop()


def test_sqlite_readiness_fails_when_the_file_is_gone(tmp_path):
    settings = Settings(HAETAE_DATA_DIR=tmp_path, JWT_SECRET="s" * 40)
    running = start_server(create_app(settings))
    try:
        assert httpx.get(f"{running.url}/health/ready").status_code == 200
        (tmp_path / "haetae.db").unlink()
        r = httpx.get(f"{running.url}/health/ready")
        assert (r.status_code, r.json()["failing"]) == (503, ["database", "database_write"])
    finally:
        running.stop()


def serve_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`haetae serve` run to its end, for settings it refuses to start with."""
    return subprocess.run(
        [HAETAE, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_short_jwt_secret_refuses_to_start(secret, tmp_path):
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Settings(JWT_SECRET=secret).check()
    env = serve_env(tmp_path, JWT_SECRET=secret)
    proc = serve_once(env)
    assert proc.returncode == 7
    assert "JWT_SECRET" in proc.stderr and "32 bytes" in proc.stderr


def test_logs_are_json_lines_carrying_the_request_id(tmp_path):
    env = serve_env(tmp_path, LOG_LEVEL="INFO")
    with serve_process(env, stderr=subprocess.PIPE) as (proc, url):
        httpx.get(
            f"{url}/api/v1/incidents",
            headers={"X-Request-Id": "req-42", "Authorization": f"Bearer {BOOTSTRAP_KEY}"},
        )
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("request_id") == "req-42"]
    assert access and access[0]["status"] == 200 and access[0]["route"] == "/api/v1/incidents"
    assert BOOTSTRAP_KEY not in stderr


def test_serve_refuses_a_broken_policy_file_naming_its_line(tmp_path):
    broken = tmp_path / "policy.yaml"
    broken.write_text("version: 1\nname: x\nseverities:\n  - id: P1\n    response_target: soon\n")
    env = serve_env(tmp_path, POLICY_FILE=str(broken))
    proc = serve_once(env)
    assert proc.returncode == 3
    assert f"{broken}:5: severities.0.response_target" in proc.stderr.replace("\n", "")
    assert "Traceback" not in proc.stderr


def test_an_unexpected_error_is_a_500_envelope_with_the_request_id(tmp_path, caplog):
    settings = Settings(HAETAE_DATA_DIR=tmp_path, JWT_SECRET="s" * 40)
    app = create_app(settings)

    def broken() -> None:
        raise RuntimeError("secret detail that must not reach the client")

    app.add_api_route("/boom", broken)
    running = start_server(app)
    try:
        r = httpx.get(f"{running.url}/boom", headers={"X-Request-Id": "boom-1"})
    finally:
        running.stop()
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "INTERNAL_ERROR"
    assert r.json()["error"]["request_id"] == "boom-1"
    assert "secret detail" not in r.text
    logged = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
    assert logged and logged[0].exc_info is not None


def test_api_docs_are_served_without_any_cdn(anon):
    page = anon.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert anon.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert anon.get("/static/swagger/swagger-ui.css").status_code == 200
    spec = anon.get("/openapi.json").json()
    assert "/api/v1/incidents/{incident_id}/transitions" in spec["paths"]


def test_serve_with_two_worker_processes_shares_one_database(tmp_path):
    headers = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
    with serve_process(serve_env(tmp_path), "--workers", "2") as (_, url):
        ids = set()
        for n in range(12):  # new connections spread over both processes
            r = httpx.post(
                f"{url}/api/v1/incidents",
                headers=headers,
                json={"title": f"n{n}", "severity": "P3", "severity_reason": "test"},
            )
            assert r.status_code == 201, r.text
            ids.add(r.json()["id"])
        assert len(ids) == 12
        assert httpx.get(f"{url}/api/v1/incidents", headers=headers).json()["total"] == 12
