"""A real Haetae server on a loopback port, in a thread of the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.pg import free_port


@dataclass
class RunningServer:
    app: FastAPI
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(app: FastAPI) -> RunningServer:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # As in `haetae serve`: only TRUSTED_PROXIES decides whose X-Forwarded-* count.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"haetae-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.started:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    return RunningServer(app, url, server, thread)
            except httpx.HTTPError:
                pass
        if not thread.is_alive():
            break
        time.sleep(0.05)
    raise RuntimeError("the test server did not start")


HAETAE = str(Path(sys.executable).parent / "haetae")
BOOTSTRAP_KEY = "a-bootstrap-key-123456"
BOOTSTRAP = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}  # the admin's headers, before any user
# Settings a developer's shell may carry that would change what the server does.
_SCRUBBED = ("DATABASE_URL", "POLICY_FILE", "API_KEY", "JWT_SECRET", "HAETAE_DATA_DIR")


def serve_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a `haetae` process: the test's own settings and nothing else's."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        JWT_SECRET="k" * 40,
        API_KEY=BOOTSTRAP_KEY,
        HAETAE_DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
    )
    env.update(settings)
    return env


@contextmanager
def serve_process(
    env: dict[str, str], *args: str, stderr: int = subprocess.DEVNULL
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`haetae serve` as its own process on a free port, ready when this yields; stopped after."""
    port = free_port()
    proc = subprocess.Popen(
        [HAETAE, "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haetae serve did not start (exit {proc.poll()})")
            time.sleep(0.1)
        yield proc, url
    finally:
        stop_process(proc, timeout=30)


def stop_process(proc: subprocess.Popen[str], timeout: float) -> None:
    """Terminate a child process as a service manager would; kill it after `timeout` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def logged_serve(env: dict[str, str], log: Path) -> Iterator[tuple[str, httpx.Client]]:
    """A real `haetae serve` whose stderr (its JSON log) goes to `log`: its URL and an admin
    client (the bootstrap API key) for it."""
    with (
        log.open("w") as stderr,
        serve_process(env, stderr=stderr.fileno()) as (_proc, url),
        httpx.Client(base_url=url, headers=BOOTSTRAP, timeout=30) as api,
    ):
        yield url, api
