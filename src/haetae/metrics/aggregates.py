"""The SQL aggregates a metric report reads over the per-incident facts, grouped: counts and
compliance, nearest-rank percentiles, pages, recurrences matched, and MTBF."""

from __future__ import annotations

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
from haetae.incidents.models import IncidentService
from haetae.metrics import sql
from haetae.metrics.facts import MetricFact, epoch
from haetae.metrics.schemas import FigureKey, GroupBy, Mtbf, Share
from haetae.notify.models import Notification
from haetae.people.models import Service, Team
from haetae.policy.measures import FigureName
from haetae.policy.schema import Policy

F = MetricFact.__table__.c
PAGE_KINDS = ("page", "escalation")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def fail(message: str) -> HaetaeError:
    return HaetaeError("VALIDATION_ERROR", message)


class Aggregates:
    """One report's window and policy, and the SQL over it."""

    def __init__(
        self, session: Session, policy: Policy, start: datetime, end: datetime, now: datetime | None
    ) -> None:
        if end <= start:
            raise fail("'from' must be before 'to'.")
        if start < EARLIEST or end > LATEST:
            # Unix seconds outside these years overflow the databases' integer arithmetic.
            raise fail("'from' and 'to' must lie between 1970-01-01 and 2100-01-01.")
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
                raise fail(str(exc)) from exc
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
                "response": share(row[4], row[5]),
                "recovery": share(row[6], row[7]),
                "updates": share(row[8], row[9]),
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
        if self.dialect == "postgresql":
            return self._stats_ordered(long)
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
        return self._stat_rows(stmt)

    def _stats_ordered(self, long: Any) -> dict[tuple[str, str], dict[str, Any]]:
        """PostgreSQL's ordered-set aggregates give the same nearest rank without ranking
        every row: percentile_disc(p) is the first value whose position is at least p * n,
        that is position ceil(p * n)."""
        v = long.c.v

        def at(fraction: float) -> Any:
            return func.percentile_disc(fraction).within_group(v)

        stmt = select(
            long.c.grp,
            long.c.fig,
            func.count(),
            func.avg(v),
            func.min(v),
            at(0.25),
            at(0.5),
            at(0.75),
            at(0.9),
            func.max(v),
        ).group_by(long.c.grp, long.c.fig)
        return self._stat_rows(stmt)

    def _stat_rows(self, stmt: Any) -> dict[tuple[str, str], dict[str, Any]]:
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


def share(n: Any, met: Any) -> Share:
    total, good = int(n or 0), int(met or 0)
    return Share(n=total, met=good, rate=good / total if total else None)
