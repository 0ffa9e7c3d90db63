"""scripts/check_runtime_health.py against a real running server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from haetae.app import create_app
from haetae.config import Settings
from tests.support.server import start_server

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_runtime_health.py"


def _check(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", url, *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_passes_on_a_healthy_server(server):
    limit = str(server.app.state.settings.max_request_body_bytes)
    result = _check(server.url, "--max-body-bytes", limit)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("ok  ") == 5


def test_readiness_failure_fails_unless_degraded_mode_is_allowed(tmp_path):
    settings = Settings(HAETAE_DATA_DIR=tmp_path, JWT_SECRET="s" * 40)
    running = start_server(create_app(settings))
    try:
        (tmp_path / "haetae.db").unlink()
        result = _check(running.url)
        assert result.returncode == 1
        assert "FAIL ready: HTTP 503, failing: database" in result.stdout
        assert _check(running.url, "--allow-ready-degraded").returncode == 0
    finally:
        running.stop()


def test_an_unreachable_server_fails_clearly():
    result = _check("http://127.0.0.1:9")
    assert result.returncode == 1 and "cannot reach" in result.stdout
