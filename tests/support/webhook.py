"""A throwaway HTTP receiver on loopback that records webhook calls and can fail on request."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    status: int  # what the receiver answered
    json: Any = field(default=None)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        receiver = self.server.receiver
        status, hang = receiver._next_behaviour()
        if hang:
            receiver._hang(hang)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        request = ReceivedRequest(
            method=self.command,
            path=self.path,
            headers={k: v for k, v in self.headers.items()},
            raw=raw,
            status=status,
            json=parsed,
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            body = b'{"ok": true}' if status < 400 else b'{"error": "simulated"}'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (a hang longer than its timeout)
        receiver._record(request)

    do_POST = _handle
    do_PUT = _handle
    do_GET = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver


class WebhookReceiver:
    """`with WebhookReceiver() as hook:` or start()/stop(). `.requests` holds every call
    (failed ones too, with the status answered); `.received` only those answered 2xx."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self.port = int(self._server.server_address[1])
        self.requests: list[ReceivedRequest] = []
        self._cond = threading.Condition()
        self._failures: list[int] = []
        self._hangs: list[float] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"webhook-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # release any hanging handler
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status` (they are still recorded)."""
        with self._cond:
            self._failures.extend([status] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        """Hold the next `n` requests for `seconds` before answering (a sender's timeout)."""
        with self._cond:
            self._hangs.extend([seconds] * n)

    def _next_behaviour(self) -> tuple[int, float]:
        with self._cond:
            status = self._failures.pop(0) if self._failures else 200
            hang = self._hangs.pop(0) if self._hangs else 0.0
            return status, hang

    def _hang(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _record(self, request: ReceivedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    @property
    def received(self) -> list[ReceivedRequest]:
        with self._cond:
            return [r for r in self.requests if r.status < 400]

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedRequest]:
        """Wait until `count` requests were answered 2xx; return those (AssertionError if not)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                ok = [r for r in self.requests if r.status < 400]
                if len(ok) >= count:
                    return ok
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} successful webhook call(s), got {len(ok)} "
                        f"({len(self.requests)} in all)"
                    )
                self._cond.wait(left)

    def url(self, path: str = "/hook", scheme: str = "json") -> str:
        """The Apprise URL that posts to this receiver (json://, form:// or xml://)."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"
