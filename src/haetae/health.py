"""Liveness, readiness and the Prometheus scrape endpoint (public by design)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
def ready(request: Request) -> Response:
    checks: dict[str, dict[str, Any]] = {}
    try:
        request.app.state.db.ping()
        checks["database"] = {"ok": True}
    except Exception as exc:  # any driver error means "not ready"
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["policy"] = {"ok": True, "name": request.app.state.policy.name}
    limiter = getattr(request.app.state, "limiter", None)
    if limiter is not None:
        checks["rate_limiter"] = limiter.health()
    # A failing check makes Haetae unready (503); a degraded one (the rate limiter counting
    # in memory because Redis is down) keeps it serving (200) and says why.
    failing = [name for name, check in checks.items() if not check["ok"]]
    degraded = [name for name, check in checks.items() if check["ok"] and check.get("degraded")]
    status = "unavailable" if failing else "degraded" if degraded else "ok"
    body = {"status": status, "failing": failing, "degraded": degraded, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
