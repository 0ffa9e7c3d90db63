"""The public status page, without authentication: /status (HTML), /api/v2/*.json in the hosted
status page API's shape, and the Atom and RSS feeds; mounted at the root by app.py."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from haetae import i18n
from haetae.clock import utcnow
from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)
from haetae.errors import HaetaeError
from haetae.statuspage import public_feeds
from haetae.statuspage.public import SEVERITY, PublicModel, page_cache, text_in
from haetae.statuspage.public_api import Shape
from haetae.statuspage.public_feeds import STATUS_WORDS

router = APIRouter(tags=["status page (public)"])
# The public paths answered by app.py's fast path (HaetaeApp.__call__) before FastAPI's
# middleware, dependencies and router: path -> the route's own function, called with the
# request's `lang`. Only a cached 200 or 304 is answered there; anything else (the page off,
# a database fault) goes the ordinary way, so answers are the same either way.
FAST: dict[str, Callable[[Request, str | None], Awaitable[Response]]] = {}

CACHE_CONTROL = "public, max-age=30"
COMPONENT_WORDS = {
    "operational": i18n.N_("Operational"),
    "degraded_performance": i18n.N_("Degraded performance"),
    "partial_outage": i18n.N_("Partial outage"),
    "major_outage": i18n.N_("Major outage"),
    "under_maintenance": i18n.N_("Under maintenance"),
}
IMPACT_WORDS = {
    "none": i18n.N_("No impact"),
    "minor": i18n.N_("Minor"),
    "major": i18n.N_("Major"),
    "critical": i18n.N_("Critical"),
    "maintenance": i18n.N_("Maintenance"),
}


async def current_model(request: Request) -> PublicModel:
    """The public model; 404 when the page is off. Database work only when the cache's
    version check is due, and then in the thread pool."""
    cached = page_cache(request.app)
    model = cached.fresh()
    if model is None:
        policy = request.app.state.policy
        model = await run_in_threadpool(cached.refresh, request.app.state.db, policy.zone, utcnow())
    if not model.page.enabled:
        raise HaetaeError("NOT_FOUND")
    return model


def page_url(request: Request, model: PublicModel) -> str:
    host = request.headers.get("host", "").split(":", 1)[0].lower()
    if model.page.host and host == model.page.host.lower():
        return f"{request.url.scheme}://{request.headers['host']}"
    return request.app.state.settings.base_url_for(request.base_url) + "/status"


async def _answer(
    request: Request,
    kind: tuple[Any, ...],
    media_type: str,
    make: Callable[[PublicModel, str], bytes],
    *,
    locale: str,
    vary: bool = False,
) -> Response:
    """A cached answer with its ETag (the page's version and the language), or a 304 when the
    reader already has it."""
    model = await current_model(request)
    url = page_url(request, model)
    etag = f'"{model.version}-{locale}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if vary:
        headers["Vary"] = "Accept-Language"
    asked = request.headers.get("if-none-match", "")
    if etag in {tag.strip().removeprefix("W/") for tag in asked.split(",")} or asked == "*":
        return Response(status_code=304, headers=headers)
    body = page_cache(request.app).answer((*kind, locale, url), lambda: make(model, url))
    return Response(body, media_type=media_type, headers=headers)


def _json_locale(lang: str | None) -> str:
    return i18n.supported(lang) or i18n.DEFAULT_LOCALE


def _reader_locale(request: Request, lang: str | None) -> str:
    return (
        i18n.supported(lang)
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or i18n.DEFAULT_LOCALE
    )


# -- JSON ----------------------------------------------------------------------------------


def _json(endpoint: str) -> Callable[[PublicModel, str, str], bytes]:
    def make(model: PublicModel, url: str, locale: str) -> bytes:
        doc = Shape(model, locale=locale, url=url).document(endpoint)
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    return make


def _json_route(path: str, endpoint: str, summary: str) -> None:
    make = _json(endpoint)

    async def answer(request: Request, lang: str | None = None) -> Response:
        locale = _json_locale(lang)
        return await _answer(
            request,
            ("json", endpoint),
            "application/json",
            lambda model, url: make(model, url, locale),
            locale=locale,
        )

    answer.__name__ = "status_" + endpoint.replace("/", "_").replace("-", "_")
    router.add_api_route(path, answer, methods=["GET"], summary=summary, response_class=Response)
    FAST[path] = answer


_json_route("/api/v2/summary.json", "summary", "The page, components, open incidents, maintenance")
_json_route("/api/v2/status.json", "status", "The overall status indicator")
_json_route("/api/v2/components.json", "components", "Components and their groups")
_json_route("/api/v2/incidents.json", "incidents", "The 50 most recent public incidents")
_json_route("/api/v2/incidents/unresolved.json", "incidents/unresolved", "Open public incidents")
_json_route("/api/v2/scheduled-maintenances.json", "scheduled-maintenances", "Maintenance windows")
_json_route(
    "/api/v2/scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/upcoming",
    "Maintenance windows not yet begun",
)
_json_route(
    "/api/v2/scheduled-maintenances/active.json",
    "scheduled-maintenances/active",
    "Maintenance windows in progress",
)


# -- feeds ---------------------------------------------------------------------------------


@router.get("/status/history.atom", response_class=Response)
async def history_atom(request: Request, lang: str | None = None) -> Response:
    """Public incidents and maintenance windows as an Atom feed."""
    locale = _json_locale(lang)
    return await _answer(
        request,
        ("atom",),
        "application/atom+xml",
        lambda model, url: public_feeds.atom(
            Shape(model, locale=locale, url=url), self_url=str(request.url)
        ),
        locale=locale,
    )


@router.get("/status/history.rss", response_class=Response)
async def history_rss(request: Request, lang: str | None = None) -> Response:
    """Public incidents and maintenance windows as an RSS 2.0 feed."""
    locale = _json_locale(lang)
    return await _answer(
        request,
        ("rss",),
        "application/rss+xml",
        lambda model, url: public_feeds.rss(
            Shape(model, locale=locale, url=url), self_url=str(request.url)
        ),
        locale=locale,
    )


# -- HTML ----------------------------------------------------------------------------------


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("haetae.statuspage", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _html(template: str, **extra: Any) -> Callable[[PublicModel, str, str], bytes]:
    def make(model: PublicModel, url: str, locale: str) -> bytes:
        shape = Shape(model, locale=locale, url=url)
        say = i18n.translations(locale).gettext

        def word(table: dict[str, str], key: str) -> str:
            return say(table.get(key, key))

        indicator, _description = model.indicator()
        page = (
            _templates()
            .get_template(template)
            .render(
                _=say,
                locale=locale,
                languages=i18n.LANGUAGE_NAMES,
                model=model,
                shape=shape,
                title=shape.title(),
                indicator=indicator,
                overall=shape.status()["description"],
                base=shape.url.removesuffix("/status"),
                text=lambda value: text_in(value, locale),
                when=shape_time(shape),
                component_word=lambda key: word(COMPONENT_WORDS, key),
                status_word=lambda key: word(STATUS_WORDS, key),
                impact_word=lambda key: word(IMPACT_WORDS, key),
                severity=SEVERITY,
                **extra,
            )
        )
        return page.encode()

    return make


def shape_time(shape: Shape) -> Callable[[Any], str]:
    def when(value: Any) -> str:
        if value is None:
            return "—"
        return value.astimezone(shape.zone).strftime("%Y-%m-%d %H:%M %Z")

    return when


async def _page(
    request: Request, lang: str | None, template: str, kind: tuple[Any, ...], **extra: Any
) -> Response:
    locale = _reader_locale(request, lang)
    make = _html(template, **extra)
    return await _answer(
        request,
        ("html", template, *kind),
        "text/html; charset=utf-8",
        lambda model, url: make(model, url, locale),
        locale=locale,
        vary=lang is None,
    )


@router.get("/status", response_class=Response, include_in_schema=False)
async def status_page(request: Request, lang: str | None = None) -> Response:
    return await _page(request, lang, "public/status.html", ())


@router.get("/status/history", response_class=Response, include_in_schema=False)
async def status_history(request: Request, lang: str | None = None) -> Response:
    return await _page(request, lang, "public/history.html", ())


@router.get("/status/incidents/{code}", response_class=Response, include_in_schema=False)
async def status_incident(request: Request, code: str, lang: str | None = None) -> Response:
    model = await current_model(request)
    if model.incident(code) is None and model.maintenance(code) is None:
        raise HaetaeError("NOT_FOUND")
    return await _page(request, lang, "public/incident.html", (code,), code=code)


FAST.update(
    {
        "/status": status_page,
        "/status/history": status_history,
        "/status/history.atom": history_atom,
        "/status/history.rss": history_rss,
    }
)
FAST_PATHS = frozenset(FAST)


async def cached_answer(request: Request) -> Response | None:
    """The fast path (app.py): the route's own answer for a plain GET of a public path (no
    query but `lang`), made before FastAPI's middleware stack, dependencies and router, which
    cost several times the answer itself; None for anything else (the page turned off, a
    database fault, another query), which the ordinary app then answers as it always has."""
    handler = FAST.get(request.url.path)
    params = request.query_params
    lang = params.get("lang")
    if handler is None or set(params.keys()) - {"lang"}:
        return None
    if lang is not None and not (len(lang) <= 16 and lang.isascii()):
        return None
    try:
        return await handler(request, lang)
    except Exception:
        return None
