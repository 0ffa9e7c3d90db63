"""Incident figures on /metrics: open incidents, MTT* histograms and overdue status updates."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from haetae.clock import utcnow
from haetae.db import Database
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.metrics.facts import MetricFact, epoch
from haetae.policy.schema import Policy

log = logging.getLogger("haetae.metrics.prometheus")

# Minutes to days: 1m, 5m, 15m, 30m, 1h, 2h, 4h, 12h, 1d, 3d, 7d (then +Inf).
BUCKETS: tuple[float, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    7200,
    14400,
    43200,
    86400,
    259200,
    604800,
)
# The histograms are recomputed at each scrape over the incidents declared this recently, so a
# scrape reads a bounded number of rows and old incidents age out of the distribution.
WINDOW = timedelta(days=90)

# Histogram name -> the metric fact it counts: docs/metrics.md's definitions in whole seconds,
# as metrics/facts.py keeps them for the metrics API.
DURATIONS: dict[str, Any] = {
    "haetae_incident_time_to_detect_seconds": MetricFact.mttd,
    "haetae_incident_time_to_acknowledge_seconds": MetricFact.mtta,
    "haetae_incident_time_to_mitigate_seconds": MetricFact.mttm,
    "haetae_incident_time_to_resolve_seconds": MetricFact.mttr,
}
_HELP = {
    "haetae_incident_time_to_detect_seconds": "detected - started",
    "haetae_incident_time_to_acknowledge_seconds": "acknowledged - detected",
    "haetae_incident_time_to_mitigate_seconds": "mitigated - started",
    "haetae_incident_time_to_resolve_seconds": "resolved - started",
}


class IncidentCollector(Collector):
    """Read at each scrape with two aggregate queries, so every API process reports the same
    figures: open incidents and overdue updates by severity (from the incidents' status
    index), and the MTT* histograms over the metric facts of the incidents declared in the
    last WINDOW. Drills and canceled incidents are left out of the real figures."""

    def __init__(self, db: Database, policy: Callable[[], Policy]) -> None:
        self.db = db
        self.policy = policy

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "haetae_incident_metrics_up", "1 when the incident figures could be read"
        )
        now = utcnow()
        try:
            with self.db.session(write=False) as session:
                open_rows = _open(session, now)
                histogram_rows = _histograms(session, now - WINDOW)
        except Exception as exc:
            # The type only: a driver's message can carry the database URL.
            log.warning("incident figures unreadable", extra={"f_error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        # Every severity of the policy has its series, so a dashboard shows 0, not "no data".
        severities = list(dict.fromkeys(s.id for s in self.policy().severities))
        severities += [s for s in (*open_rows, *histogram_rows) if s not in severities]
        yield from _open_families(open_rows, severities, now)
        yield from _histogram_families(histogram_rows, severities)


def _open(session: Session, now: datetime) -> dict[str, tuple[int, int, int, datetime | None]]:
    """severity -> (open, open drills, updates overdue, the oldest overdue update's due time)."""
    overdue = Incident.next_update_due < now
    real = Incident.drill.is_(False)
    query = (
        select(
            Incident.severity,
            func.sum(case((real, 1), else_=0)),
            func.sum(case((real, 0), else_=1)),
            func.sum(case((real & overdue, 1), else_=0)),
            func.min(case((real & overdue, Incident.next_update_due))),
        )
        .where(Incident.status.in_(lifecycle.ACTIVE))
        .group_by(Incident.severity)
    )
    return {
        row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), row[4])
        for row in session.execute(query)
    }


def _histograms(session: Session, since: datetime) -> dict[str, list[Any]]:
    """severity -> for each histogram in DURATIONS order: the cumulative count at each bucket,
    then the count and the sum of the incidents it measures. One range scan of the facts'
    (declared_s, drill, canceled) index."""
    columns: list[Any] = []
    for seconds in DURATIONS.values():
        columns += [func.sum(case((seconds <= bound, 1), else_=0)) for bound in BUCKETS]
        columns += [func.count(seconds), func.sum(seconds)]
    query = (
        select(MetricFact.severity, *columns)
        .where(
            MetricFact.declared_s >= epoch(since),
            MetricFact.drill.is_(False),
            MetricFact.canceled.is_(False),
        )
        .group_by(MetricFact.severity)
    )
    return {row[0]: list(row[1:]) for row in session.execute(query)}


def _open_families(
    rows: dict[str, tuple[int, int, int, datetime | None]], severities: list[str], now: datetime
) -> Iterator[Any]:
    open_ = GaugeMetricFamily(
        "haetae_incidents_open",
        "Incidents not resolved, closed or canceled, drills excluded",
        labels=["severity"],
    )
    overdue = GaugeMetricFamily(
        "haetae_incident_updates_overdue",
        "Open incidents whose next status update is past due (the policy's update cadence)",
        labels=["severity"],
    )
    waited = GaugeMetricFamily(
        "haetae_incident_update_overdue_seconds",
        "How long the most overdue status update has waited past its due time (0: none)",
        labels=["severity"],
    )
    drills = 0
    for severity in severities:
        count, drill_count, late, oldest = rows.get(severity, (0, 0, 0, None))
        drills += drill_count
        open_.add_metric([severity], count)
        overdue.add_metric([severity], late)
        waited.add_metric([severity], (now - oldest).total_seconds() if oldest else 0.0)
    yield open_
    yield overdue
    yield waited
    drill = GaugeMetricFamily(
        "haetae_drill_incidents_open", "Drill incidents not resolved, closed or canceled"
    )
    drill.add_metric([], drills)
    yield drill


def _histogram_families(rows: dict[str, list[Any]], severities: list[str]) -> Iterator[Any]:
    width = len(BUCKETS) + 2
    empty = [0] * (width * len(DURATIONS))
    for i, name in enumerate(DURATIONS):
        family = HistogramMetricFamily(
            name,
            f"Seconds from {_HELP[name]}, per incident declared in the last "
            f"{WINDOW.days} days (drills and canceled incidents excluded)",
            labels=["severity"],
        )
        for severity in severities:
            values = rows.get(severity, empty)[i * width : (i + 1) * width]
            count = int(values[-2] or 0)
            buckets = [
                (floatToGoString(bound), int(n or 0))
                for bound, n in zip(BUCKETS, values, strict=False)
            ]
            buckets.append(("+Inf", count))
            family.add_metric([severity], buckets, float(values[-1] or 0))
        yield family
