"""The FastAPI app factory: middleware, routers, error envelope, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from haetae import __version__
from haetae.alerts.ingest_routes import INGEST_HANDLERS, IngestFastPath
from haetae.alerts.ingest_routes import router as ingest_router
from haetae.alerts.integrations import TokenCache
from haetae.alerts.writer import IngestWriter
from haetae.auth.keys import KeyUse
from haetae.comms import templates as comms_templates
from haetae.config import Settings
from haetae.db import Database, database_fault
from haetae.errors import ERROR_CODES, HaetaeError, envelope, error_answer
from haetae.health import router as health_router
from haetae.inputs import check_request_text
from haetae.inputs import validation_error as invalid
from haetae.migrations import upgrade_to_head
from haetae.observability import Metrics, OperationsMiddleware, request_id_var, route_label
from haetae.policy.loader import load_policy
from haetae.policy.schema import Policy
from haetae.proxy import TrustedProxies
from haetae.ratelimit import IngestLimiter
from haetae.statuspage import public_routes as status_public
from haetae.statuspage.public_host import StatusPageHost
from haetae.web.console import visitor
from haetae.web.render import render
from haetae.worker import Worker, config_from

log = logging.getLogger("haetae")


def create_app(
    settings: Settings,
    *,
    policy: Policy | None = None,
    database: Database | None = None,
    migrate: bool | None = None,
) -> FastAPI:
    """Build the app. Settings are checked here; nothing connects until start-up."""
    settings.check()
    policy = policy or load_policy(settings.policy_file)
    # The worker's jobs and the change hooks render templates with only a session at hand.
    comms_templates.configure(
        templates_dir=settings.comms_templates_dir,
        policy_file=settings.policy_file,
        public_url=settings.base_url,
    )
    db = database or Database(settings.resolved_database_url)
    should_migrate = settings.is_sqlite if migrate is None else migrate

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if should_migrate:
            upgrade_to_head(db.url)
        log.info("haetae started", extra={"f_policy": policy.name, "f_version": __version__})
        worker = None
        if settings.run_worker:
            worker = Worker(db, lambda: _app.state.policy, config_from(settings)).start()
        yield
        if worker is not None:
            worker.stop()
        _app.state.writer.close()
        _app.state.limiter.close()
        db.dispose()

    app = HaetaeApp(
        title="Haetae",
        version=__version__,
        description="Self-hosted incident response. Errors use the envelope "
        '`{"error": {"code", "message", "request_id"}}`; see docs/api.md for the codes.',
        lifespan=lifespan,
        docs_url=None,  # served below from vendored assets: no CDN on an air-gapped host
        redoc_url=None,
        dependencies=[Depends(_label_route)],
    )
    app.proxies = TrustedProxies.from_setting(settings.trusted_proxies)
    app.state.settings = settings
    app.state.policy = policy
    app.state.db = db
    app.state.metrics = Metrics()
    app.state.tokens = TokenCache(db)
    app.state.key_use = KeyUse()
    app.state.limiter = IngestLimiter(settings)
    app.state.writer = IngestWriter(db, lambda: app.state.policy)
    # Inside OperationsMiddleware: the status page's own host name gets only the public paths.
    app.add_middleware(StatusPageHost)
    app.add_middleware(
        OperationsMiddleware,
        max_body=settings.max_request_body_bytes,
        metrics=app.state.metrics,
    )
    _install_error_handlers(app)
    # Ingest posts skip FastAPI's own middleware and router (see HaetaeApp), but not ours.
    app.ingest = OperationsMiddleware(
        IngestFastPath(), max_body=settings.max_request_body_bytes, metrics=app.state.metrics
    )
    # The status page's cached answers skip FastAPI's stack too, but not ours.
    app.status_fast = lambda answer: OperationsMiddleware(
        _Labelled(answer), max_body=settings.max_request_body_bytes, metrics=app.state.metrics
    )

    from haetae.api import router as api_router
    from haetae.oncall.routes import feeds as ical_feeds
    from haetae.oncall.routes import router as oncall_router
    from haetae.statuspage.public_routes import router as status_public_router
    from haetae.statuspage.subscriber_routes import public as subscribe_router
    from haetae.web.routes import mount as mount_web
    from haetae.web.swagger import router as swagger_router

    app.include_router(swagger_router)
    app.include_router(health_router)
    app.include_router(ingest_router)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(oncall_router, prefix="/api/v1")
    app.include_router(ical_feeds)
    # The public status page (no authentication): /status, /api/v2/*.json, feeds, subscribe.
    app.include_router(status_public_router)
    app.include_router(subscribe_router)
    mount_web(app)
    return app


class HaetaeApp(FastAPI):
    """FastAPI, with ingest posts answered before its middleware stack and router.

    For a one-alert post these cost more than storing the alert. The ingest routes stay
    registered for the OpenAPI document and answer other methods (405).
    """

    ingest: ASGIApp | None = None
    # Sends an answer the status page's fast path made through our own middleware.
    status_fast: Callable[[ASGIApp], ASGIApp] | None = None
    # Set from TRUSTED_PROXIES; applied before anything else, the ingest fast path included,
    # so that rate limits, cookies and logs all see the real client and scheme.
    proxies: TrustedProxies | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxies is not None and scope["type"] != "lifespan":
            self.proxies.apply(scope)
        if (
            self.ingest is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in INGEST_HANDLERS
        ):
            scope["app"] = self
            await self.ingest(scope, receive, send)
            return
        if (
            self.status_fast is not None
            and scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"] in status_public.FAST_PATHS
        ):
            scope["app"] = self
            answer = await status_public.cached_answer(Request(scope, receive))
            if answer is not None:
                await self.status_fast(answer)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class _Labelled:
    """An answer made before the router: its path is its route label (it has no parameters)."""

    def __init__(self, answer: ASGIApp) -> None:
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route_label(scope)
        await self.answer(scope, receive, send)


def app_from_environment() -> FastAPI:
    """The app as `haetae serve --workers N` builds it in each worker process."""
    from haetae.config import load_settings
    from haetae.observability import configure_logging, tune_gc

    settings = load_settings()
    configure_logging(settings.log_level)
    application = create_app(settings, migrate=False)
    tune_gc()
    return application


async def _label_route(request: Request) -> None:
    # async: it does no I/O, and a plain def would cost a thread-pool hop per request.
    route_label(request.scope)
    check_request_text(request.url.path, request.query_params.multi_items())


# Paths whose callers are programs: they get the JSON envelope even when they accept HTML.
_MACHINE_PATHS = ("/api/", "/ingest/", "/v2/", "/health/", "/metrics", "/openapi.json")


def _wants_console_page(request: Request) -> bool:
    path = request.url.path
    accepts = request.headers.get("accept", "")
    return "text/html" in accepts and not path.startswith(_MACHINE_PATHS)


def _unavailable_page(
    request: Request, exc: HaetaeError, headers: dict[str, str]
) -> Response | None:
    """The console's error page for a database fault, or None if even that cannot be made."""
    try:
        console = visitor(request)
        return render(
            console,
            "error.html",
            status_code=exc.status,
            headers=headers,
            title=console.gettext("Try again shortly"),
            message=console.gettext(
                "The database cannot take changes right now, so nothing was saved. "
                "Try again in a few seconds."
            ),
        )
    except Exception:  # the database may be too far gone to read the visitor's session
        log.warning("console error page unavailable", exc_info=True)
        return None


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse(
        envelope(code, message, request_id_var.get(), **details), status_code=status
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HaetaeError)
    async def haetae_error(request: Request, exc: HaetaeError) -> Response:
        status, body, headers = error_answer(exc, request_id_var.get())
        if exc.code == "NOT_READY" and _wants_console_page(request):
            # In a thread: the console page reads the caller's session from the database.
            page = await run_in_threadpool(_unavailable_page, request, exc, headers)
            if page is not None:
                return page
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        # Driver errors that escaped a Database.session (which maps them itself): a database
        # that is unavailable is a 503 the caller can retry; anything else is a bug (500).
        fault = database_fault(exc)
        if fault is None:
            raise exc
        return await haetae_error(request, fault)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        refusal = invalid(exc.errors())
        return _error(422, refusal.code, refusal.message, **refusal.details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "UNAUTHORIZED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            413: "PAYLOAD_TOO_LARGE",
        }.get(exc.status_code)
        if code is None:
            code = "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR"
        message = exc.detail if isinstance(exc.detail, str) else ERROR_CODES[code][1]
        return _error(exc.status_code, code, message)
