"""A client that goes away before its answer is a disconnect (499), not a server error."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import httpx


def _count(metrics: str, route: str, status: str) -> float:
    labels = rf'route="{re.escape(route)}"[^}}]*status="{status}"'
    pattern = rf"^haetae_http_requests_total\{{[^}}]*{labels}[^}}]*\}} (\S+)$"
    return sum(float(m.group(1)) for m in re.finditer(pattern, metrics, re.M))


def test_a_client_that_sends_half_a_body_and_leaves_is_counted_as_499(server, make_sender):
    sender = make_sender("generic")
    address = urlsplit(server.url)
    for _ in range(2):
        with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
            raw.sendall(
                b"POST /ingest/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {sender.token}\r\n".encode()
                + b"Content-Length: 1000\r\n\r\n"
                + b'{"summary": "half'
            )
            time.sleep(0.3)  # the handler is reading the body when the client leaves
    deadline = time.monotonic() + 10
    while True:
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        if _count(metrics, "/ingest/generic", "499") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert _count(metrics, "/ingest/generic", "499") == 2, metrics
    assert _count(metrics, "/ingest/generic", "500") == 0
    # The server goes on answering.
    assert sender.generic({"summary": "after"}).status_code == 202
