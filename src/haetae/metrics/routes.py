"""The metrics API under /api/v1: /metrics (figures, targets, breakdowns and trends) and
/metrics/distribution (one figure's spread per severity), both for viewers."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query

from haetae.deps import Context, viewer
from haetae.errors import HaetaeError
from haetae.inputs import Timestamp
from haetae.metrics import queries
from haetae.metrics.schemas import FIGURES, GROUP_BYS, DistributionReport, MetricsReport

router = APIRouter(prefix="/metrics", tags=["metrics"])
DEFAULT_DAYS = 30


def _window(
    ctx: Context, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    end = end or ctx.now()
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise HaetaeError("VALIDATION_ERROR", "'from' must be before 'to'.")
    return start, end


@router.get("", response_model=MetricsReport, response_model_by_alias=True)
def metrics_report(
    ctx: Context = viewer,
    start: Timestamp | None = Query(default=None, alias="from", description="default: to - 30d"),
    end: Timestamp | None = Query(default=None, alias="to", description="default: now"),
    group_by: str = Query(default="none", description=" | ".join(GROUP_BYS)),
) -> MetricsReport:
    if group_by not in GROUP_BYS:
        raise HaetaeError("VALIDATION_ERROR", f"group_by must be one of: {', '.join(GROUP_BYS)}.")
    start, end = _window(ctx, start, end)
    with ctx.read() as session:
        return queries.report(
            session,
            ctx.policy,
            start=start,
            end=end,
            group_by=group_by,
            locale=ctx.principal.locale,
            now=ctx.now(),
        )


@router.get("/distribution", response_model=DistributionReport, response_model_by_alias=True)
def metrics_distribution(
    ctx: Context = viewer,
    figure: str = Query(default="mttr", description=" | ".join(FIGURES)),
    start: Timestamp | None = Query(default=None, alias="from"),
    end: Timestamp | None = Query(default=None, alias="to"),
) -> DistributionReport:
    if figure not in FIGURES:
        raise HaetaeError("VALIDATION_ERROR", f"figure must be one of: {', '.join(FIGURES)}.")
    start, end = _window(ctx, start, end)
    with ctx.read() as session:
        return queries.distribution(
            session,
            ctx.policy,
            figure=figure,
            start=start,
            end=end,
            locale=ctx.principal.locale,
        )
