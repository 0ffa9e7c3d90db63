"""The metric reports (docs/metrics.md): figures, targets, breakdowns and trends, and the
distribution of one figure, aggregated in SQL over the per-incident facts (metrics/facts.py).

The API route, the console's Reports page, the review reports and the CLI all call `report`
and `distribution`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from haetae.alerts.models import Alert
from haetae.errors import HaetaeError
from haetae.i18n import N_, gettext_for
from haetae.incidents.models import IncidentService
from haetae.metrics import sql
from haetae.metrics.facts import MetricFact, epoch, refresh_pending
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
    Share,
    Stat,
    TargetCheck,
)
from haetae.notify.models import Notification
from haetae.people.models import Service, Team
from haetae.policy.measures import FigureName
from haetae.policy.schema import Policy
from haetae.policy.terms import localized, parse_duration

F = MetricFact.__table__.c
PAGE_KINDS = ("page", "escalation")
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
_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def _fail(message: str) -> HaetaeError:
    return HaetaeError("VALIDATION_ERROR", message)


class _Query:
    """One report's window and policy, and the SQL over it."""

    def __init__(
        self, session: Session, policy: Policy, start: datetime, end: datetime, now: datetime | None
    ) -> None:
        if end <= start:
            raise _fail("'from' must be before 'to'.")
        self.session = session
        self.policy = policy
        self.dialect = session.get_bind().dialect.name
        self.start = epoch(start) or 0
        self.end = epoch(end) or 0
        # Open work (an unacknowledged incident, a role still held) is measured up to here.
        self.until = self.end if now is None else min(self.end, epoch(now) or self.end)
        self.now = None if now is None else epoch(now)
        self.counted = and_(F.drill == false(), F.canceled == false())

    # The rows a grouping reads: facts in the window, with a group key.
    def rows(self, group_by: GroupBy) -> Any:
        window = and_(F.declared_s >= self.start, F.declared_s < self.end)
        source: Any = MetricFact.__table__
        key: ColumnElement[str]
        if group_by in ("none", "severity", "category", "source"):
            key = {
                "none": literal(""),
                "severity": F.severity,
                "category": func.coalesce(F.category, ""),
                "source": F.source,
            }[group_by]
        elif group_by in ("week", "month"):
            try:
                bounds = sql.periods(
                    self.policy, self._dt(self.start), self._dt(self.end), group_by
                )
            except ValueError as exc:
                raise _fail(str(exc)) from exc
            key = sql.period_key(F.declared_s, bounds)
        elif group_by == "service":
            services = IncidentService.__table__
            source = source.outerjoin(services, services.c.incident_id == F.incident_id)
            key = func.coalesce(services.c.service, "")
        else:
            teams = (
                select(IncidentService.incident_id, Team.slug)
                .join(Service, Service.slug == IncidentService.service)
                .join(Team, Team.id == Service.team_id)
                .distinct()
                .subquery()
            )
            source = source.outerjoin(teams, teams.c.incident_id == F.incident_id)
            key = func.coalesce(teams.c.slug, "")
        return select(*F, key.label("grp")).select_from(source).where(window).subquery("rows")

    @staticmethod
    def _dt(seconds: int) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    def _severity_seconds(self, severity: Any, figure: FigureName) -> ColumnElement[Any]:
        """CASE severity WHEN ... THEN the target in seconds END (NULL: no target)."""
        whens = []
        for sev in self.policy.severities:
            target = self.policy.figure_target(sev.id, figure)
            if target is not None:
                whens.append((sev.id, int(target.total_seconds())))
        return null() if not whens else case(dict(whens), value=severity)

    def recovery_column(self, r: Any) -> Any:
        return r.mttr_from_detect if self.policy.metrics.mttr_from == "detected" else r.mttr

    def aggregates(self, rows: Any) -> dict[str, dict[str, Any]]:
        """Counts, compliance shares, recurrences marked and role time per group."""
        r = rows.c
        counted = and_(r.drill == false(), r.canceled == false())
        one = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
        ack_target = self._severity_seconds(r.severity, "acknowledge")
        res_target = self._severity_seconds(r.severity, "resolve")
        recovery = self.recovery_column(r)
        recovery_start = (
            r.detected_s if self.policy.metrics.mttr_from == "detected" else (r.detected_s - r.mttd)
        )
        if self.now is None:
            ack_late: Any = false()
            res_late: Any = false()
        else:
            ack_late = r.detected_s + ack_target < self.now
            res_late = recovery_start + res_target < self.now
        open_role = r.role_open_n * self.until - r.role_open_start_sum
        stmt = select(
            r.grp,
            one(counted),
            one(and_(r.canceled == true(), r.drill == false())),
            one(r.drill == true()),
            one(and_(counted, ack_target.is_not(None), or_(r.mtta.is_not(None), ack_late))),
            one(and_(counted, r.mtta <= ack_target)),
            one(and_(counted, res_target.is_not(None), or_(recovery.is_not(None), res_late))),
            one(and_(counted, recovery <= res_target)),
            func.sum(case((counted, r.updates_n), else_=0)),
            func.sum(case((counted, r.updates_met), else_=0)),
            one(and_(counted, r.marked == true())),
            func.sum(
                case((counted, r.role_s + case((open_role > 0, open_role), else_=0)), else_=0)
            ),
        ).group_by(r.grp)
        out: dict[str, dict[str, Any]] = {}
        for row in self.session.execute(stmt):
            out[row[0]] = {
                "count": int(row[1] or 0),
                "canceled": int(row[2] or 0),
                "drills": int(row[3] or 0),
                "response": _share(row[4], row[5]),
                "recovery": _share(row[6], row[7]),
                "updates": _share(row[8], row[9]),
                "marked": int(row[10] or 0),
                "role_seconds": int(row[11] or 0),
            }
        return out

    def stats(
        self, rows: Any, figures: Sequence[FigureKey]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Per (group, figure): n, mean, min, q1, median, q3, p90, max (nearest rank)."""
        r = rows.c
        counted = and_(r.drill == false(), r.canceled == false())
        parts = [
            select(
                r.grp.label("grp"),
                literal(name).label("fig"),
                getattr(r, name).label("v"),
            ).where(counted, getattr(r, name).is_not(None))
            for name in figures
        ]
        long = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("long")
        part = (long.c.grp, long.c.fig)
        ranked = select(
            long.c.grp,
            long.c.fig,
            long.c.v,
            func.row_number().over(partition_by=part, order_by=long.c.v).label("rn"),
            func.count().over(partition_by=part).label("cnt"),
        ).subquery("ranked")
        q = ranked.c

        def at(num: int, den: int) -> Any:
            return func.min(case((q.rn == sql.rank(num, den, q.cnt), q.v)))

        stmt = select(
            q.grp,
            q.fig,
            func.count(),
            func.avg(q.v),
            func.min(q.v),
            at(1, 4),
            at(1, 2),
            at(3, 4),
            at(9, 10),
            func.max(q.v),
        ).group_by(q.grp, q.fig)
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.session.execute(stmt):
            values = [None if v is None else float(v) for v in row[3:]]
            out[(row[0], row[1])] = dict(
                zip(("mean", "min", "q1", "median", "q3", "p90", "max"), values, strict=True)
            ) | {"n": int(row[2])}
        return out

    def pages(self, rows: Any) -> dict[str, tuple[int, int, int]]:
        """Per group: pages sent, distinct people paged, pages sent out of hours."""
        r = rows.c
        n = Notification.__table__.c
        sent = sql.epoch_of(n.sent_at, self.dialect)
        late = sql.out_of_hours(self.policy, sent, self.start - sql.DAY, self.until + 90 * sql.DAY)
        stmt = (
            select(
                r.grp,
                func.count(),
                func.count(distinct(n.user_id)),
                func.sum(case((late, 1), else_=0)),
            )
            .select_from(rows.join(Notification.__table__, n.incident_id == r.incident_id))
            .where(
                r.drill == false(),
                r.canceled == false(),
                n.kind.in_(PAGE_KINDS),
                n.sent_at.is_not(None),
            )
            .group_by(r.grp)
        )
        return {
            row[0]: (int(row[1]), int(row[2]), int(row[3] or 0))
            for row in self.session.execute(stmt)
        }

    def matched(self, rows: Any) -> dict[str, int]:
        """Per group: incidents not marked as a recurrence that match an earlier incident,
        resolved within the policy's recurrence window before this one was declared, by the
        post-mortem's root cause or by an alert (same dedup key, or the same alert group)."""
        r = rows.c
        window = int(self.policy.metrics.recurrence_window_delta.total_seconds())
        earlier = aliased(MetricFact)

        def is_earlier() -> Any:
            return and_(
                earlier.incident_id != r.incident_id,
                earlier.declared_s < r.declared_s,
                earlier.resolved_s >= r.declared_s - window,
                earlier.resolved_s <= r.declared_s,
                earlier.drill == false(),
                earlier.canceled == false(),
            )

        by_cause = exists().where(earlier.root_cause == r.root_cause, is_earlier())
        mine, theirs = aliased(Alert), aliased(Alert)
        by_key = exists().where(
            mine.incident_id == r.incident_id,
            theirs.dedup_key == mine.dedup_key,
            theirs.integration_id == mine.integration_id,
            earlier.incident_id == theirs.incident_id,
            is_earlier(),
        )
        by_group = exists().where(
            mine.incident_id == r.incident_id,
            mine.group_id.is_not(None),
            theirs.group_id == mine.group_id,
            earlier.incident_id == theirs.incident_id,
            is_earlier(),
        )
        stmt = (
            select(r.grp, func.count())
            .where(
                r.drill == false(),
                r.canceled == false(),
                r.marked == false(),
                or_(and_(r.root_cause != "", by_cause), by_key, by_group),
            )
            .group_by(r.grp)
        )
        return {row[0]: int(row[1]) for row in self.session.execute(stmt)}

    def mtbf(self) -> list[Mtbf]:
        """Seed 000: (last resolution - first resolution) / (n - 1), overall and per service."""
        window = and_(
            F.declared_s >= self.start,
            F.declared_s < self.end,
            self.counted,
            F.resolved_s.is_not(None),
        )
        services = IncidentService.__table__.c
        overall: Select[Any] = select(
            literal("all"), func.count(), func.max(F.resolved_s) - func.min(F.resolved_s)
        ).where(window)
        per_service = (
            select(
                services.service,
                func.count(),
                func.max(F.resolved_s) - func.min(F.resolved_s),
            )
            .join(IncidentService.__table__, services.incident_id == F.incident_id)
            .where(window)
            .group_by(services.service)
            .order_by(services.service)
        )
        out = []
        for stmt in (overall, per_service):
            for scope, n, span in self.session.execute(stmt):
                seconds = float(span) / (n - 1) if n > 1 and span is not None else None
                out.append(Mtbf(scope=scope, incidents=int(n), seconds=seconds))
        return out


def _share(n: Any, met: Any) -> Share:
    total, good = int(n or 0), int(met or 0)
    return Share(n=total, met=good, rate=good / total if total else None)


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
        "response": _share(0, 0),
        "recovery": _share(0, 0),
        "updates": _share(0, 0),
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


def _cached(key: tuple[Any, ...], session: Session, build: Any) -> Any:
    """A report is kept until the facts change (their count or newest revision) or a minute
    passes; with the facts it was built from unchanged, the same report is right."""
    refresh_pending(session)
    full = (*key, _version(session))
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(full)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = build()
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[full] = (now, value)
    return value


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
        raise _fail(f"group_by must be one of {', '.join(GROUP_BYS)}.")
    key = (
        "report",
        id(session.get_bind()),
        _policy_key(policy),
        start,
        end,
        group_by,
        locale,
        None if now is None else int(now.timestamp()) // 60,
    )
    return _cached(
        key, session, lambda: _report(session, policy, start, end, group_by, locale, now)
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
    q = _Query(session, policy, start, end, now)

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
        raise _fail(f"figure must be one of {', '.join(FIGURES)}.")
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
    q = _Query(session, policy, start, end, None)
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
