"""The console's Reports page: charts, tables and CSV of the metrics API's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.metrics import queries
from haetae.metrics.schemas import (
    FIGURES,
    GROUP_BYS,
    DistributionReport,
    FigureKey,
    MetricsReport,
)
from haetae.policy.schema import Policy
from haetae.web.console import Console, signed_in
from haetae.web.render import render
from haetae.web.report_tables import (
    ALL,
    CHARTS,
    FIGURE_LABELS,
    MET,
    MISSED,
    UNMEASURED,
    columns,
    target_lines,
    to_csv,
)

router = APIRouter(include_in_schema=False)

Trend = Literal["week", "month"]
PRESETS = (
    ("4w", N_("Last 4 weeks")),
    ("3m", N_("Last 3 months")),
    ("12m", N_("Last 12 months")),
)
# The metrics are sized for a year of 100,000 incidents (docs/metrics.md); a much longer
# period is refused rather than left to run.
LONGEST = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Period:
    """The days a report covers, in the policy's zone (both ends included), and their UTC
    bounds (end exclusive: the midnight after the last day)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def period(policy: Policy, first: date, last: date) -> Period:
    if last < first:
        first, last = last, first
    zone = policy.zone
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return Period(first, last, start, end)


def preset(policy: Policy, name: str, now: datetime) -> Period:
    """Last 4 weeks, 3 months or 12 months, up to and including today in the policy's zone."""
    today = now.astimezone(policy.zone).date()
    back = {"4w": relativedelta(weeks=4), "3m": relativedelta(months=3)}.get(
        name, relativedelta(months=12)
    )
    return period(policy, today - back + timedelta(days=1), today)


def _day(console: Console, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        message = console.gettext(N_("Dates look like 2026-11-30."))
        raise HaetaeError("INVALID_QUERY", message) from exc


def asked_period(console: Console, request: Request) -> Period:
    """The period of the query string (from, to), else the last 3 months; INVALID_QUERY for a
    date that is not one or a period longer than LONGEST."""
    given_from = request.query_params.get("from", "").strip()
    given_to = request.query_params.get("to", "").strip()
    if not given_from and not given_to:
        return preset(console.policy, "3m", console.now())
    today = console.now().astimezone(console.policy.zone).date()
    last = _day(console, given_to) if given_to else today
    first = _day(console, given_from) if given_from else last - timedelta(days=27)
    chosen = period(console.policy, first, last)
    if chosen.end - chosen.start > LONGEST:
        raise HaetaeError("INVALID_QUERY", console.gettext(N_("Choose at most three years.")))
    return chosen


def _trend(request: Request, chosen: Period) -> Trend:
    asked = request.query_params.get("group_by")
    if asked in ("week", "month"):
        return asked  # type: ignore[return-value]
    return natural_trend(chosen)


def natural_trend(chosen: Period) -> Trend:
    """Weeks up to about three months, months beyond: a dozen or so points either way."""
    return "week" if chosen.last - chosen.first <= timedelta(days=100) else "month"


def _figure(request: Request) -> FigureKey:
    asked = request.query_params.get("figure", "mttr")
    return asked if asked in FIGURES else "mttr"


def _words(console: Console) -> dict[str, Any]:
    """What reports.js shows, in the reader's language (it has no strings of its own)."""
    t = console.gettext
    return {
        "mean": t(N_("Mean")),
        "median": t(N_("Median")),
        "p90": t(N_("90th percentile")),
        "target": t(N_("Target %(scope)s")),
        "q1q3": t(N_("First to third quartile")),
        "count": t(N_("Counted")),
        "canceled": t(N_("Canceled")),
        "minutes": t(N_("Minutes")),
        "hours": t(N_("Hours")),
        "days": t(N_("Days")),
        "incidents": t(N_("Number of incidents")),
        "min": t(N_("%(n)s min")),
        "h": t(N_("%(n)s h")),
        "d": t(N_("%(n)s d")),
        "met": t(MET),
        "missed": t(MISSED),
        "unmeasured": t(UNMEASURED),
        "figures": {k: t(v) for k, v in FIGURE_LABELS.items()},
        "summary": t(
            N_(
                "%(count)s incidents counted; %(canceled)s canceled, counted apart; "
                "%(drills)s drills left out."
            )
        ),
        "empty": t(N_("No incidents in this period.")),
        "failed": t(N_("The figures could not be loaded. Reload the page and try again.")),
        "all": t(ALL),
    }


@router.get("/reports")
def reports_page(request: Request, console: Console = Depends(signed_in)) -> Response:
    problem = None
    try:
        chosen = asked_period(console, request)
    except HaetaeError as exc:
        problem = exc.message
        chosen = preset(console.policy, "3m", console.now())
    trend = _trend(request, chosen)
    figure = _figure(request)
    now = console.now()
    presets = [(preset(console.policy, key, now), label) for key, label in PRESETS]
    trend_query = f"{chosen.query}&group_by={trend}"
    return render(
        console,
        "reports.html",
        active="reports",
        period=chosen,
        trend=trend,
        figure=figure,
        figures=FIGURES,
        presets=[(p, label, natural_trend(p)) for p, label in presets],
        problem=problem,
        trend_query=trend_query,
        trends=[
            {
                "figure": f,
                "label": console.gettext(FIGURE_LABELS[f]),
                "targets": target_lines(console, f),
                "columns": columns(console, "trend", f),
            }
            for f in FIGURES
        ],
        columns={c: columns(console, c, figure) for c in CHARTS if c != "trend"},
        figure_labels={k: console.gettext(v) for k, v in FIGURE_LABELS.items()},
        words=_words(console),
    )


def _report(console: Console, chosen: Period, group_by: str) -> MetricsReport:
    with console.read() as session:
        return queries.report(
            session,
            console.policy,
            start=chosen.start,
            end=chosen.end,
            group_by=group_by,  # type: ignore[arg-type]
            locale=console.locale,
            now=console.now(),
        )


def _distribution(console: Console, chosen: Period, figure: FigureKey) -> DistributionReport:
    with console.read() as session:
        return queries.distribution(
            session,
            console.policy,
            figure=figure,
            start=chosen.start,
            end=chosen.end,
            locale=console.locale,
        )


def _json(model: BaseModel) -> JSONResponse:
    # As /api/v1/metrics answers (by alias: "from"); never cached, it is a signed-in reader's.
    answer = JSONResponse(model.model_dump(mode="json", by_alias=True))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("/reports/data/metrics.json")
def metrics_data(request: Request, console: Console = Depends(signed_in)) -> Response:
    """The metrics API's answer for the console's session (the API itself takes a bearer
    token, which the page does not hold)."""
    chosen = asked_period(console, request)
    asked = request.query_params.get("group_by", "none")
    return _json(_report(console, chosen, asked if asked in GROUP_BYS else "none"))


@router.get("/reports/data/distribution.json")
def distribution_data(request: Request, console: Console = Depends(signed_in)) -> Response:
    chosen = asked_period(console, request)
    return _json(_distribution(console, chosen, _figure(request)))


@router.get("/reports/{chart}.csv")
def chart_csv(chart: str, request: Request, console: Console = Depends(signed_in)) -> Response:
    """One chart's data as CSV, from the same query as the page's JSON."""
    if chart not in CHARTS:
        raise HaetaeError("NOT_FOUND", console.gettext(N_("No such chart.")))
    chosen = asked_period(console, request)
    figure = _figure(request)
    data: MetricsReport | DistributionReport
    if chart == "distribution":
        data = _distribution(console, chosen, figure)
    else:
        grouped = {"trend": _trend(request, chosen), "targets": "none"}.get(chart, chart)
        data = _report(console, chosen, grouped)
    named = f"-{figure}" if chart in ("trend", "distribution") else ""
    filename = f"haetae-{chart}{named}-{chosen.first.isoformat()}-{chosen.last.isoformat()}.csv"
    return Response(
        to_csv(console, chart, figure, data),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
