#!/usr/bin/env python3
"""Runtime health check of a running Haetae (seed 004's operations check).

    python scripts/check_runtime_health.py --base-url http://localhost:8000
    python scripts/check_runtime_health.py --base-url http://localhost:8000 --allow-ready-degraded

Checks liveness, readiness (a 503 passes only with --allow-ready-degraded, during a
known degraded mode), that every answer carries an X-Request-Id, that an oversized body
is refused with 413 PAYLOAD_TOO_LARGE, and that /metrics answers. Prints one line per
check and exits 1 if any failed. Uses only the standard library.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

Result = tuple[int, dict[str, str], bytes]


def call(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Result:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def announce_oversized_body(url: str, length: int, timeout: float = 10) -> tuple[int, bytes]:
    """POST headers announcing a body of `length` bytes, then read the answer.

    The body itself is never sent: a server that enforces its limit answers from the
    Content-Length alone. Sending it would race the server closing the connection after
    its 413 (the client then sees a broken pipe instead of the answer).
    """
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.netloc, timeout=timeout)
    try:
        connection.putrequest("POST", parts.path or "/")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://localhost:8000")
    parser.add_argument(
        "--allow-ready-degraded",
        action="store_true",
        help="accept a 503 from /health/ready (a known degraded mode)",
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=1_048_576, help="the server's MAX_REQUEST_BODY_BYTES"
    )
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    failures = 0

    def report(ok: bool, name: str, detail: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")

    try:
        status, headers, _ = call(f"{base}/health/live")
    except OSError as exc:
        report(False, "live", f"cannot reach {base}: {exc}")
        return 1
    report(status == 200, "live", f"HTTP {status}")

    rid = f"health-check-{uuid.uuid4().hex[:8]}"
    status, headers, body = call(f"{base}/health/ready", headers={"X-Request-Id": rid})
    try:
        answer = json.loads(body)
        failing = answer.get("failing", [])
        degraded = [
            f"{name} ({answer['checks'][name].get('reason') or 'degraded'})"
            for name in answer.get("degraded", [])
        ]
    except (ValueError, KeyError, AttributeError):
        failing, degraded = ["(unreadable answer)"], []
    if status == 200:
        report(
            True, "ready", "HTTP 200" + (f", degraded: {'; '.join(degraded)}" if degraded else "")
        )
    else:
        report(
            status == 503 and args.allow_ready_degraded,
            "ready",
            f"HTTP {status}, failing: {', '.join(failing) or '-'}",
        )
    echoed = {k.lower(): v for k, v in headers.items()}.get("x-request-id")
    report(echoed == rid, "request id", f"sent {rid}, got {echoed}")

    status, body = announce_oversized_body(f"{base}/api/v1/incidents", args.max_body_bytes + 1)
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "(no error envelope)"
    report(status == 413 and code == "PAYLOAD_TOO_LARGE", "body limit", f"HTTP {status} {code}")

    status, _, body = call(f"{base}/metrics")
    report(status == 200 and b"haetae_http_requests_total" in body, "metrics", f"HTTP {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
