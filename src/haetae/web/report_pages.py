"""The console's Reports page: charts, tables and CSV of the metrics API's figures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents.export import _csv_cell as csv_text
from haetae.metrics import queries
from haetae.metrics.schemas import (
    FIGURES,
    GROUP_BYS,
    DistributionReport,
    FigureKey,
    MetricsReport,
    TargetCheck,
)
from haetae.policy.measures import FigureName
from haetae.policy.schema import Policy
from haetae.web.console import Console, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

Trend = Literal["week", "month"]
FIGURE_LABELS: dict[str, str] = {
    "mttd": N_("Time to detect (MTTD)"),
    "mtta": N_("Time to acknowledge (MTTA)"),
    "mttm": N_("Time to mitigate (MTTM)"),
    "mttr": N_("Time to resolve (MTTR)"),
    "mttr_from_detect": N_("Detection to resolution"),
    "communicate": N_("Time to first update"),
    "mtbf": N_("Mean time between failures (MTBF)"),
    "recurrence_rate": N_("Recurrence rate"),
}
# Which of the policy's targets each figure is held to (Policy.figure_target); MTTM has none,
# and the resolve target belongs to the MTTR that metrics.mttr_from names.
_TARGET_OF: dict[str, FigureName] = {
    "mttd": "detect",
    "mtta": "acknowledge",
    "communicate": "communicate",
}
PRESETS = (
    ("4w", N_("Last 4 weeks")),
    ("3m", N_("Last 3 months")),
    ("12m", N_("Last 12 months")),
)
# A year of 100,000 incidents answers within the API's budget; much longer asks are refused
# rather than left to run.
LONGEST = timedelta(days=3 * 366)

# Each chart's columns: (key, heading). The page's table view (reports.js fills the rows by
# these keys) and the CSV share them, so both say the same thing under the same names.
_STAT_COLUMNS = [
    ("n", N_("Number of incidents")),
    ("mean", N_("Mean (min)")),
    ("median", N_("Median (min)")),
    ("p90", N_("90th percentile (min)")),
]
_BOX_COLUMNS = [
    ("n", N_("Number of incidents")),
    ("min", N_("Minimum (min)")),
    ("q1", N_("First quartile (min)")),
    ("median", N_("Median (min)")),
    ("q3", N_("Third quartile (min)")),
    ("p90", N_("90th percentile (min)")),
    ("max", N_("Maximum (min)")),
]
_COUNT_COLUMNS = [("count", N_("Counted")), ("canceled", N_("Canceled"))]
_TARGET_COLUMNS = [
    ("scope", N_("Scope")),
    ("figure", N_("Figure")),
    ("unit", N_("Unit")),
    ("target", N_("Target")),
    ("actual", N_("Actual (mean)")),
    ("median", N_("Median")),
    ("p90", N_("90th percentile")),
    ("met", N_("Result")),
]
CHARTS = ("trend", "distribution", "category", "service", "targets")
MET = N_("Target met")
MISSED = N_("Target missed")
UNMEASURED = N_("Not measured")
ALL = N_("All incidents")
DURATION_UNIT = "min"
SHARE_UNIT = "%"


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


def target_lines(console: Console, figure: str) -> list[dict[str, Any]]:
    """The policy's targets a figure's trend is drawn against: one line per severity that
    sets one, in the policy's order."""
    policy = console.policy
    held_to = _TARGET_OF.get(figure)
    if figure == ("mttr" if policy.metrics.mttr_from == "started" else "mttr_from_detect"):
        held_to = "resolve"
    if held_to is None:
        return []
    lines = []
    for severity in policy.severities:
        target = policy.figure_target(severity.id, held_to)
        if target is not None:
            lines.append({"scope": severity.id, "seconds": target.total_seconds()})
    return lines


def columns(console: Console, chart: str, figure: str) -> list[tuple[str, str]]:
    """A chart's table columns: (key, heading in the reader's language)."""
    t = console.gettext
    if chart == "trend":
        targets = [
            (f"target:{line['scope']}", t(N_("Target %(scope)s (min)")) % line)
            for line in target_lines(console, figure)
        ]
        keyed = [(k, t(v)) for k, v in _STAT_COLUMNS] + targets
        return [("label", t(N_("Period"))), *keyed]
    if chart == "distribution":
        return [("label", t(N_("Severity"))), *[(k, t(v)) for k, v in _BOX_COLUMNS]]
    if chart in ("category", "service"):
        first = N_("Category") if chart == "category" else N_("Service")
        return [("label", t(first)), *[(k, t(v)) for k, v in _COUNT_COLUMNS]]
    return [(k, t(v)) for k, v in _TARGET_COLUMNS]


def _minutes(seconds: float | None) -> float | str:
    return "" if seconds is None else round(seconds / 60, 2)


def chart_rows(
    console: Console, chart: str, figure: str, data: MetricsReport | DistributionReport
) -> list[list[Any]]:
    """A chart's rows as the CSV holds them: durations in minutes (2 decimals), shares in
    percent, counts as they are; what is not measured is empty."""
    keys = [key for key, _ in columns(console, chart, figure)]
    if isinstance(data, DistributionReport):
        return [
            [d.label, d.n, *[_minutes(getattr(d, k)) for k in keys[2:]]] for d in data.severities
        ]
    if chart == "targets":
        return [_target_row(console, check) for check in data.targets]
    rows = []
    targets = {f"target:{line['scope']}": line["seconds"] for line in target_lines(console, figure)}
    for group in data.groups:
        figures = group.figures
        if chart == "trend":
            stat = getattr(figures, figure)
            row: list[Any] = [group.label, stat.n]
            row += [_minutes(getattr(stat, k)) for k in ("mean", "median", "p90")]
            row += [_minutes(targets[k]) for k in keys if k.startswith("target:")]
        else:
            row = [group.label, figures.count, figures.canceled]
        rows.append(row)
    return rows


def _target_row(console: Console, check: TargetCheck) -> list[Any]:
    t = console.gettext
    share = check.figure == "recurrence_rate"

    def value(number: float | None) -> float | str:
        if number is None:
            return ""
        return round(number * 100, 2) if share else _minutes(number)

    met = UNMEASURED if check.met is None else MET if check.met else MISSED
    return [
        t(ALL) if check.scope == "all" else check.scope,
        t(FIGURE_LABELS.get(check.figure, check.figure)),
        SHARE_UNIT if share else DURATION_UNIT,
        value(check.target),
        value(check.actual),
        value(check.median),
        value(check.p90),
        t(met),
    ]


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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([heading for _, heading in columns(console, chart, figure)])
    for row in chart_rows(console, chart, figure, data):
        writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
    named = f"-{figure}" if chart in ("trend", "distribution") else ""
    filename = f"haetae-{chart}{named}-{chosen.first.isoformat()}-{chosen.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
