"""The metric reports (docs/metrics.md): figures, targets, breakdowns and trends, and the
distribution of one figure, aggregated in SQL over the per-incident facts (metrics/facts.py).

The API route, the console's Reports page, the review reports and the CLI all call `report`
and `distribution`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import (
    case,
    false,
    func,
    select,
)
from sqlalchemy.orm import Session

from haetae.i18n import N_, gettext_for
from haetae.metrics import sql
from haetae.metrics.aggregates import Aggregates, F, fail, share
from haetae.metrics.facts import refresh_pending
from haetae.metrics.schemas import (
    FIGURES,
    GROUP_BYS,
    Bucket,
    Distribution,
    DistributionReport,
    FigureKey,
    Figures,
    Group,
    GroupBy,
    Load,
    MetricsReport,
    Mtbf,
    Recurrence,
    Stat,
    TargetCheck,
)
from haetae.people.models import Service, Team
from haetae.policy.measures import FigureName
from haetae.policy.schema import Policy
from haetae.policy.terms import localized, parse_duration

# Histogram bucket tops, in seconds: minutes to days (the last bucket is open).
BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800)
NONE_LABEL = N_("(none)")
SOURCE_LABELS = {"alert": N_("Alert"), "manual": N_("Manual")}
# The figures a severity target is checked for, and the policy's name for each.
TARGET_FIGURES: tuple[tuple[str, FigureName], ...] = (
    ("mttd", "detect"),
    ("mtta", "acknowledge"),
    ("mttr", "resolve"),
    ("communicate", "communicate"),
)
CACHE_SECONDS = 60.0  # a backstop for what the facts' version does not see (team ownership)
# Key -> (the minute of `now` it was built for, or None; when built; the report).
_cache: dict[tuple[Any, ...], tuple[int | None, float, Any]] = {}
# Key -> set when the build under way ends.
_building: dict[tuple[Any, ...], threading.Event] = {}
_cache_lock = threading.Lock()
# How long a request waits for another's build before looking again (and building itself if
# that build failed).
BUILD_WAIT_SECONDS = 30.0


def _stat(found: dict[str, Any] | None) -> Stat:
    if found is None:
        return Stat(n=0)
    return Stat(n=found["n"], mean=found["mean"], median=found["median"], p90=found["p90"])


def _figures(
    key: str,
    agg: dict[str, dict[str, Any]],
    stats: dict[tuple[str, str], dict[str, Any]],
    pages: dict[str, tuple[int, int, int]],
    matched: dict[str, int],
    policy: Policy,
) -> Figures:
    a = agg.get(key) or {
        "count": 0,
        "canceled": 0,
        "response": share(0, 0),
        "recovery": share(0, 0),
        "updates": share(0, 0),
        "marked": 0,
        "role_seconds": 0,
    }
    sent, people, late = pages.get(key, (0, 0, 0))
    hours = a["role_seconds"] / 3600
    rate = policy.metrics.hourly_cost
    return Figures(
        count=a["count"],
        canceled=a["canceled"],
        **{name: _stat(stats.get((key, name))) for name in FIGURES},
        response=a["response"],
        recovery=a["recovery"],
        updates=a["updates"],
        recurrences=a["marked"] + matched.get(key, 0),
        load=Load(
            pages=sent,
            people_paged=people,
            pages_out_of_hours=late,
            role_hours=round(hours, 2),
            cost=None if rate is None else round(hours * rate, 2),
            currency=None if rate is None else policy.metrics.currency,
        ),
    )


def _labels(session: Session, policy: Policy, group_by: GroupBy, keys: list[str], locale: str):
    none = gettext_for(locale, NONE_LABEL)
    names: dict[str, str] = {}
    if group_by == "severity":
        names = {s.id: localized(s.name, locale) for s in policy.severities}
    elif group_by == "category":
        names = {c.id: localized(c.name, locale) for c in policy.categories}
    elif group_by == "source":
        names = {k: gettext_for(locale, v) for k, v in SOURCE_LABELS.items()}
    elif group_by == "team" and keys:
        names = dict(session.execute(select(Team.slug, Team.name).where(Team.slug.in_(keys))).all())
    elif group_by == "service" and keys:
        names = dict(
            session.execute(select(Service.slug, Service.name).where(Service.slug.in_(keys))).all()
        )
    return {k: (names.get(k, k) if k else none) for k in keys}


def _order(policy: Policy, group_by: GroupBy, keys: set[str]) -> list[str]:
    if group_by == "severity":
        known = [s.id for s in policy.severities if s.id in keys]
        return known + sorted(keys - set(known))
    return sorted(keys, key=lambda k: (k == "", k))


def _version(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(select(func.count(), func.max(F.revision))).one())


def _cached(key: tuple[Any, ...], session: Session, build: Any, minute: int | None = None) -> Any:
    """A report is kept until the facts change (their count or newest revision), a minute
    passes, or, for a report measured against `now`, the minute it was built in is over; with
    the facts it was built from unchanged, the same report is right.

    One request builds a given report at a time: the others asking for it meanwhile wait for
    that build when there is nothing kept, or are answered the report kept before (at most a
    minute or two old) while it is built again. Without this, a build slower than the gap
    between requests had every request building it at once, each slower for the others."""
    refresh_pending(session)
    full = (*key, _version(session))
    while True:
        with _cache_lock:
            hit = _cache.get(full)
            if hit is not None and hit[0] == minute and time.monotonic() - hit[1] < CACHE_SECONDS:
                return hit[2]
            building = _building.get(full)
            if building is None:
                mine = _building[full] = threading.Event()
                break
            if hit is not None:
                return hit[2]
        building.wait(timeout=BUILD_WAIT_SECONDS)
    try:
        value = build()
        with _cache_lock:
            if len(_cache) > 256:
                _cache.clear()
            _cache[full] = (minute, time.monotonic(), value)
        return value
    finally:
        with _cache_lock:
            _building.pop(full, None)
        mine.set()


def _policy_key(policy: Policy) -> str:
    return policy.model_dump_json(
        include={"timezone", "severities", "categories", "metrics", "business_hours"}
    )


def report(
    session: Session,
    policy: Policy,
    *,
    start: datetime,
    end: datetime,
    group_by: GroupBy = "none",
    locale: str = "en",
    now: datetime | None = None,
) -> MetricsReport:
    """The figures of incidents declared in [start, end), overall and per group, with the
    targets checked, MTBF and recurrence. `now` (optional) lets open work count: an incident
    not acknowledged or not resolved by its target before `now` counts as missing it."""
    if group_by not in GROUP_BYS:
        raise fail(f"group_by must be one of {', '.join(GROUP_BYS)}.")
    key = (
        "report",
        id(session.get_bind()),
        _policy_key(policy),
        start,
        end,
        group_by,
        locale,
        now is None,
    )
    minute = None if now is None else int(now.timestamp()) // 60
    return _cached(
        key, session, lambda: _report(session, policy, start, end, group_by, locale, now), minute
    )


def _report(
    session: Session,
    policy: Policy,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    locale: str,
    now: datetime | None,
) -> MetricsReport:
    q = Aggregates(session, policy, start, end, now)

    def figures_by(grouping: GroupBy) -> tuple[dict[str, Figures], dict[str, Any]]:
        rows = q.rows(grouping)
        agg = q.aggregates(rows)
        stats = q.stats(rows, FIGURES)
        pages = q.pages(rows)
        matched = q.matched(rows)
        return {k: _figures(k, agg, stats, pages, matched, policy) for k in agg}, agg

    totals_by, total_agg = figures_by("none")
    totals = totals_by.get("") or _figures("", {}, {}, {}, {}, policy)
    drills = total_agg.get("", {}).get("drills", 0)
    groups: list[Group] = []
    by_group: dict[str, Figures] = {}
    if group_by != "none":
        by_group, _ = figures_by(group_by)
        if group_by in ("week", "month"):
            # Every period of the window is shown, an empty one too, so a trend has no holes.
            keys = set(by_group) | {k for _, k in sql.periods(policy, start, end, group_by)}
        else:  # a group holding only drills is left out
            keys = {k for k, f in by_group.items() if f.count or f.canceled}
        labels = _labels(session, policy, group_by, sorted(keys), locale)
        empty = _figures("", {}, {}, {}, {}, policy)
        groups = [
            Group(key=k, label=labels[k], figures=by_group.get(k, empty))
            for k in _order(policy, group_by, keys)
        ]
    per_severity = by_group if group_by == "severity" else figures_by("severity")[0]
    mtbf = q.mtbf()
    checks = _targets(policy, per_severity, totals, mtbf)
    count = totals.count
    matched_total = totals.recurrences - (total_agg.get("", {}).get("marked", 0))
    marked = totals.recurrences - matched_total
    rate = totals.recurrences / count if count else None
    target = policy.metrics.recurrence_rate
    return MetricsReport(
        from_=start,
        to=end,
        timezone=policy.timezone,
        group_by=group_by,
        totals=totals,
        groups=groups,
        drills=drills,
        targets=checks,
        mtbf=mtbf,
        recurrence=Recurrence(
            count=count,
            marked=marked,
            matched=matched_total,
            rate=rate,
            target=target,
            met=None if rate is None else rate <= target,
        ),
    )


def _targets(
    policy: Policy, per_severity: dict[str, Figures], totals: Figures, mtbf: list[Mtbf]
) -> list[TargetCheck]:
    checks: list[TargetCheck] = []
    for sev in policy.severities:
        figures = per_severity.get(sev.id)
        for name, target_name in TARGET_FIGURES:
            target = policy.figure_target(sev.id, target_name)
            if target is None:
                continue
            stat_name = name
            if name == "mttr" and policy.metrics.mttr_from == "detected":
                stat_name = "mttr_from_detect"
            stat: Stat = getattr(figures, stat_name) if figures is not None else Stat(n=0)
            seconds = target.total_seconds()
            checks.append(
                TargetCheck(
                    scope=sev.id,
                    figure=name,
                    target=seconds,
                    actual=stat.mean,
                    median=stat.median,
                    p90=stat.p90,
                    met=None if stat.mean is None else stat.mean <= seconds,
                )
            )
    if policy.metrics.mtbf is not None:
        seconds = parse_duration(policy.metrics.mtbf).total_seconds()
        overall = next((m for m in mtbf if m.scope == "all"), None)
        actual = overall.seconds if overall is not None else None
        checks.append(
            TargetCheck(
                scope="all",
                figure="mtbf",
                target=seconds,
                actual=actual,
                met=None if actual is None else actual >= seconds,
            )
        )
    count = totals.count
    rate = totals.recurrences / count if count else None
    checks.append(
        TargetCheck(
            scope="all",
            figure="recurrence_rate",
            target=policy.metrics.recurrence_rate,
            actual=rate,
            met=None if rate is None else rate <= policy.metrics.recurrence_rate,
        )
    )
    return checks


def distribution(
    session: Session,
    policy: Policy,
    *,
    figure: FigureKey,
    start: datetime,
    end: datetime,
    locale: str = "en",
) -> DistributionReport:
    """One figure's spread per severity over incidents declared in [start, end): the box's
    numbers (nearest rank) and a histogram with buckets from a minute to a week."""
    if figure not in FIGURES:
        raise fail(f"figure must be one of {', '.join(FIGURES)}.")
    key = ("distribution", id(session.get_bind()), _policy_key(policy), figure, start, end, locale)
    return _cached(key, session, lambda: _distribution(session, policy, figure, start, end, locale))


def _distribution(
    session: Session,
    policy: Policy,
    figure: FigureKey,
    start: datetime,
    end: datetime,
    locale: str,
) -> DistributionReport:
    q = Aggregates(session, policy, start, end, None)
    rows = q.rows("severity")
    stats = q.stats(rows, [figure])
    r = rows.c
    value = getattr(r, figure)
    bucket = case(*[(value <= top, i) for i, top in enumerate(BUCKETS)], else_=len(BUCKETS))
    counts: dict[str, dict[int, int]] = {}
    for sev, index, n in session.execute(
        select(r.grp, bucket, func.count())
        .where(r.drill == false(), r.canceled == false(), value.is_not(None))
        .group_by(r.grp, bucket)
    ):
        counts.setdefault(sev, {})[int(index)] = int(n)
    keys = {k for k, _ in stats}
    names = {s.id: localized(s.name, locale) for s in policy.severities}
    out = []
    for sev in _order(policy, "severity", keys):
        found = stats[(sev, figure)]
        mine = counts.get(sev, {})
        out.append(
            Distribution(
                severity=sev,
                label=names.get(sev, sev),
                n=found["n"],
                min=found["min"],
                q1=found["q1"],
                median=found["median"],
                q3=found["q3"],
                p90=found["p90"],
                max=found["max"],
                buckets=[
                    Bucket(upper=float(top), count=mine.get(i, 0)) for i, top in enumerate(BUCKETS)
                ]
                + [Bucket(upper=None, count=mine.get(len(BUCKETS), 0))],
            )
        )
    return DistributionReport(figure=figure, from_=start, to=end, severities=out)
