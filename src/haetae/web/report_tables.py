"""What each chart of the Reports page holds as a table: its columns, and its rows as the CSV
writes them, from the metrics API's answer. The page's table view (reports.js) fills the same
columns by their keys, so the table and the CSV say the same thing under the same names."""

from __future__ import annotations

import csv
import io
from typing import Any

from haetae.i18n import N_
from haetae.incidents.export import _csv_cell as csv_text
from haetae.metrics.schemas import DistributionReport, MetricsReport, TargetCheck
from haetae.policy.measures import FigureName
from haetae.web.console import Console

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


def to_csv(
    console: Console, chart: str, figure: str, data: MetricsReport | DistributionReport
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([heading for _, heading in columns(console, chart, figure)])
    for row in chart_rows(console, chart, figure, data):
        writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()
