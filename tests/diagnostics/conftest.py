"""Real servers on loopback for the diagnostics tests: an HTTP target that follows a script
(200, 500, hang, redirect) and counts every connection, a TLS server whose certificates
trustme issues with chosen expiry dates, and a closed port."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        target: HttpTarget = self.server.target
        target.requests.append((self.path, dict(self.headers.items())))
        step = target.script.pop(0) if target.script else "200"
        if step == "hang":
            target.release.wait(30)
            return
        if step.startswith("redirect "):
            self.send_response(302)
            self.send_header("Location", step.split(" ", 1)[1])
            self.send_header("Set-Cookie", "session=s3cret; Path=/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        code = int(step)
        body = target.body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    target: HttpTarget

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.target.connections += 1
        return True


@dataclass
class HttpTarget:
    """Answers each GET with the next step of `script` ("200", "500", "hang",
    "redirect URL"), then 200; `connections` counts every connection accepted."""

    script: list[str] = field(default_factory=list)
    body: str = "service healthy\n"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def serve_http() -> Iterator[HttpTarget]:
    target = HttpTarget()
    server = _HttpServer(("127.0.0.1", 0), _Handler)
    server.target = target
    target.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        target.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_target() -> Iterator[HttpTarget]:
    with serve_http() as target:
        yield target


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TlsServer:
    port: int
    ca: trustme.CA


@pytest.fixture
def tls_server() -> Iterator[tuple[TlsServer, dict[str, ssl.SSLContext]]]:
    """A TLS server that picks its certificate by SNI from `contexts` (name -> context);
    the test fills it with certificates from `server.ca`."""
    ca = trustme.CA()
    contexts: dict[str, ssl.SSLContext] = {}
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("default.test").configure_cert(default)

    def choose(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        if name in contexts:
            sock.context = contexts[name]

    default.sni_callback = choose  # type: ignore[assignment]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        try:
            with default.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # until the client closes
        except (OSError, ssl.SSLError):
            pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield TlsServer(listener.getsockname()[1], ca), contexts
    stop.set()
    thread.join(2)
    listener.close()


def leaf_context(ca: trustme.CA, name: str, not_after: datetime) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    not_before = min(datetime.now(UTC), not_after).replace(year=not_after.year - 1)
    ca.issue_cert(name, not_before=not_before, not_after=not_after).configure_cert(context)
    return context
