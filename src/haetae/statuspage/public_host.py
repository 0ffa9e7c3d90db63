"""The status page on its own host name: that host gets the page at `/` and only the public
paths; the console and the API answer 404 there."""

from __future__ import annotations

import ipaddress
import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from haetae.clock import utcnow
from haetae.errors import ERROR_CODES, envelope
from haetae.observability import request_id_var
from haetae.statuspage.public import page_cache

log = logging.getLogger("haetae.statuspage")

# What a status page host answers besides `/`: the page, its JSON, feeds, styles, the
# subscribe links, and the health checks a load balancer in front of it reads.
PUBLIC_PATHS = ("/status", "/api/v2/", "/static/", "/subscribe", "/unsubscribe", "/health/")


class StatusPageHost:
    """Pure ASGI, inside OperationsMiddleware (request ids and security headers still apply).
    A request by IP address or to localhost is never the status page's host, so it costs
    nothing; another name is compared with the page's host from the page's cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _host(scope) if scope["type"] == "http" else ""
        if not host or await self._other_host(scope, host):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/":
            scope = {**scope, "path": "/status", "raw_path": b"/status"}
        elif not path.startswith(PUBLIC_PATHS):
            await _not_found(send)
            return
        await self.app(scope, receive, send)

    async def _other_host(self, scope: Scope, host: str) -> bool:
        app = scope.get("app")
        if app is None:
            return True
        cached = page_cache(app)
        model = cached.fresh()
        if model is None:
            try:
                model = await run_in_threadpool(
                    cached.refresh, app.state.db, app.state.policy.zone, utcnow()
                )
            except Exception:  # the database's faults are answered by the routes themselves
                log.debug("status page host check skipped", exc_info=True)
                return True
        wanted = model.page.host
        return not (model.page.enabled and wanted and wanted.lower() == host)


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return ""  # an IPv6 literal
            host = host.rsplit(":", 1)[0] if ":" in host else host
            if host == "localhost":
                return ""
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return host
            return ""
    return ""


async def _not_found(send: Send) -> None:
    status, message = ERROR_CODES["NOT_FOUND"]
    body = json.dumps(envelope("NOT_FOUND", message, request_id_var.get()))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
