"""A throwaway HTTP receiver on loopback that records webhook calls and can fail on request."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.started import Started


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

    def setup(self) -> None:
        super().setup()
        receiver = self.server.receiver
        if receiver.keep_alive:
            # HTTP/1.1: the connection stays open for the client's next request.
            self.protocol_version = "HTTP/1.1"
        receiver._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.receiver._closed(self.connection)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        receiver = self.server.receiver
        if receiver._next_drop():
            # Read, then closed without an answer: what a client sees when it reuses a
            # kept-alive connection just as the receiver closes it.
            self.close_connection = True
            return
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
            if receiver.cookie:
                self.send_header("Set-Cookie", receiver.cookie)
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
    request_queue_size = 128  # many senders connecting at once are not made to retry
    receiver: WebhookReceiver


class WebhookReceiver(Started):
    """`with WebhookReceiver() as hook:` or start()/stop(). `.requests` holds every call
    (failed ones too, with the status answered); `.received` only those answered 2xx.

    `keep_alive=True` answers in HTTP/1.1 and keeps connections open between requests (by
    default each answer closes its connection, HTTP/1.0); `stop()` then closes the open
    ones, as a stopped process would. `port` binds a given port (a restarted receiver).
    `.connections` counts the TCP connections accepted."""

    def __init__(self, *, keep_alive: bool = False, port: int = 0) -> None:
        self.keep_alive = keep_alive
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.receiver = self
        self.port = int(self._server.server_address[1])
        self.requests: list[ReceivedRequest] = []
        self.connections = 0  # TCP connections accepted
        self.dropped = 0  # requests read and closed without an answer (drop_next)
        self.cookie: str | None = None  # a Set-Cookie value to answer with
        self._open: set[socket.socket] = set()
        self._cond = threading.Condition()
        self._failures: list[int] = []
        self._hangs: list[float] = []
        self._drops = 0
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
        if self.keep_alive:
            self.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status` (they are still recorded)."""
        with self._cond:
            self._failures.extend([status] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        """Hold the next `n` requests for `seconds` before answering (a sender's timeout)."""
        with self._cond:
            self._hangs.extend([seconds] * n)

    def drop_next(self, n: int) -> None:
        """Read the next `n` requests and close their connections without answering."""
        with self._cond:
            self._drops += n

    def close_connections(self) -> None:
        """Close every open connection now (a receiver's keep-alive timeout, or its exit)."""
        with self._cond:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)

    def _opened(self, sock: socket.socket) -> None:
        with self._cond:
            self.connections += 1
            self._open.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._cond:
            self._open.discard(sock)

    def _next_drop(self) -> bool:
        with self._cond:
            if self._drops:
                self._drops -= 1
                self.dropped += 1
                return True
            return False

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
