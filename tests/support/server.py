"""A real Haetae server on a loopback port, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

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
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
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
