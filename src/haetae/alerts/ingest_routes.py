"""The ingest endpoints, on the paths their senders expect (not under /api/v1).

This is the hot path: async handlers that read the body once, validate it with Pydantic,
and hand it to the group-commit writer. They answer only after the alerts are committed.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import DBAPIError
from starlette.types import Receive, Scope, Send

from haetae.alerts.integrations import Sender, presented_token
from haetae.alerts.pipeline import Job, Outcome
from haetae.alerts.senders import (
    Delivery,
    load_json,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
    parse_pagerduty,
)
from haetae.db import database_fault
from haetae.errors import HaetaeError, error_answer
from haetae.inputs import check_request_text, check_text
from haetae.observability import ROUTE_KEY, request_id_var

router = APIRouter(tags=["ingest"])

_DESCRIPTION = "Authenticated by an integration token (Bearer, or ?token=). See docs/ingest.md."


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _sender(request: Request, token: str | None) -> Sender:
    # An address that has sent too many wrong tokens is refused before the token is looked
    # up: guessing costs no database read (random tokens always miss the token cache).
    limiter = request.app.state.limiter
    client = _client(request)
    wait = limiter.auth_blocked(client)
    # A token that was good before is looked up as usual, so that a misconfigured or hostile
    # neighbour behind the same address cannot lock a working sender out.
    if wait is not None and not (token and request.app.state.tokens.was_valid(token)):
        raise HaetaeError(
            "RATE_LIMITED",
            f"Too many wrong integration tokens from this address; retry in {int(wait)} s.",
            retry_after=int(wait),
        )
    # An unavailable database is a 503 (DatabaseUnavailable, from the session): senders
    # retry it, and nothing was accepted.
    sender = await request.app.state.tokens.lookup(token) if token else None
    if sender is None:
        limiter.auth_failed(client)
        raise HaetaeError(
            "UNAUTHORIZED",
            "Give an integration's token as 'Authorization: Bearer <token>' or '?token='."
            if token is None
            else "The token is not a live integration's token.",
        )
    if sender.type == "changes":
        raise HaetaeError(
            "WRONG_INTEGRATION_TYPE",
            f"{sender.name} is a change feed integration: post changes to /api/v1/changes.",
        )
    return sender


def _limit(request: Request, sender: Sender) -> None:
    wait = request.app.state.limiter.hit(sender.name, _client(request))
    if wait is not None:  # whole seconds, at least 1
        raise HaetaeError(
            "RATE_LIMITED", f"Too many requests; retry in {int(wait)} s.", retry_after=int(wait)
        )


async def _body(request: Request) -> Any:
    body = await request.body()
    data = load_json(body)
    # Cheap test first: a NUL can only come from the escape \u0000 in the JSON text.
    if b"\\u0000" in body:
        try:
            check_text(data)
        except ValueError as exc:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"Text {exc}.",
                fields=[{"field": "body", "message": str(exc)}],
            ) from None
    return data


async def _store(request: Request, sender: Sender, delivery: Delivery) -> list[Outcome]:
    job = Job(sender, delivery.events, delivery.truncated)
    return await request.app.state.writer.submit(job)


def _accepted(outcomes: list[Outcome], truncated: int = 0) -> Response:
    return _json(
        {
            "status": "accepted",
            "accepted": len(outcomes),
            "truncated_alerts": truncated,
            "alerts": [o.as_dict() for o in outcomes],
        },
        202,
    )


async def _ingest_webhook(request: Request, parse: Any) -> Response:
    sender = await _sender(
        request,
        presented_token(request.headers.get("authorization"), request.query_params.get("token")),
    )
    _limit(request, sender)
    delivery = parse(await _body(request), request.app.state.settings.ingest_max_batch_items)
    if not delivery.refused:
        return _accepted(await _store(request, sender, delivery), delivery.truncated)
    # The good alerts are stored before the refusal is answered: Alertmanager drops a
    # delivery answered 4xx, so whatever was good in it must already be kept.
    outcomes = await _store(request, sender, delivery) if delivery.events else []
    raise _refusal(delivery, outcomes)


def _refusal(delivery: Delivery, outcomes: list[Outcome]) -> HaetaeError:
    fields = [f for refused in delivery.refused for f in refused.fields]
    named = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    total = len(delivery.refused) + len(delivery.events)
    return HaetaeError(
        "SOME_ALERTS_REFUSED" if outcomes else "VALIDATION_ERROR",
        f"{len(delivery.refused)} of {total} alerts refused"
        + (f", {len(outcomes)} stored" if outcomes else "")
        + f": {named}",
        fields=fields,
        refused=[refused.as_dict() for refused in delivery.refused],
        accepted=[o.as_dict() for o in outcomes],
        truncated_alerts=delivery.truncated,
    )


@router.post("/ingest/alertmanager", status_code=202, description=_DESCRIPTION)
async def ingest_alertmanager(request: Request) -> Response:
    """Prometheus Alertmanager's webhook (payload version 4)."""
    return await _ingest_webhook(request, parse_alertmanager)


@router.post("/ingest/grafana", status_code=202, description=_DESCRIPTION)
async def ingest_grafana(request: Request) -> Response:
    """Grafana alerting's webhook contact point."""
    return await _ingest_webhook(request, parse_grafana)


@router.post("/ingest/generic", status_code=202, description=_DESCRIPTION)
async def ingest_generic(request: Request) -> Response:
    """One alert object, or {"alerts": [...]}, in the shape docs/ingest.md describes."""
    return await _ingest_webhook(request, parse_generic)


@router.post("/v2/enqueue", status_code=202)
async def pagerduty_enqueue(request: Request) -> Response:
    """The PagerDuty Events API v2: `routing_key` is the integration's token."""
    try:
        routing_key, event = parse_pagerduty(await _body(request))
        sender = await _sender(request, routing_key)
        _limit(request, sender)
    except HaetaeError as exc:
        return _pagerduty_error(exc)
    outcomes = await _store(request, sender, Delivery([event]))
    return _json(
        {"status": "success", "message": "Event processed", "dedup_key": outcomes[0].dedup_key},
        202,
    )


INGEST_HANDLERS = {
    "/ingest/alertmanager": ingest_alertmanager,
    "/ingest/grafana": ingest_grafana,
    "/ingest/generic": ingest_generic,
    "/v2/enqueue": pagerduty_enqueue,
}


class IngestFastPath:
    """Answers ingest posts straight from their handlers, with the same error envelope.

    The app (HaetaeApp) sends them here, inside OperationsMiddleware, so request ids, the
    body limit, metrics and logs apply as to every request.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        route = scope.get(ROUTE_KEY)
        if route is not None:
            route["route"] = path
        request = Request(scope, receive)
        try:
            try:
                check_request_text(path, request.query_params.multi_items())
                response = await INGEST_HANDLERS[path](request)
            except DBAPIError as exc:
                # FastAPI's handlers (app.py) do not run here: the same mapping, once more.
                fault = database_fault(exc)
                if fault is None:
                    raise
                raise fault from exc
        except HaetaeError as exc:
            status, body, headers = error_answer(exc, request_id_var.get())
            response = _json(body, status, headers)
        await response(scope, receive, send)


def _pagerduty_error(exc: HaetaeError) -> Response:
    """PagerDuty's error shape, so its clients understand it, with Haetae's envelope too."""
    status, answer, headers = error_answer(exc, request_id_var.get())
    throttled = exc.code == "RATE_LIMITED"
    fields = exc.details.get("fields") or []
    body = {
        "status": "throttle event" if throttled else "invalid event",
        "message": exc.message if throttled else "Event object is invalid",
        "errors": [f"{f['field']}: {f['message']}" for f in fields] or [exc.message],
        **answer,
    }
    # PagerDuty answers 400 for an invalid event; Haetae keeps its 401 for a wrong key.
    return _json(body, 400 if status == 422 else status, headers)
