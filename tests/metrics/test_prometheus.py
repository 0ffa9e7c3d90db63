"""The incident figures on /metrics (open incidents, MTT* histograms, overdue updates), scraped
over real HTTP, and the Grafana dashboard that reads them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.incidents import roles, service, transitions
from haetae.incidents.schemas import IncidentDeclare
from haetae.metrics.prometheus import BUCKETS, IncidentCollector
from haetae.policy.schema import Policy

DASHBOARD = Path(__file__).parents[2] / "examples" / "grafana-dashboard.json"
HISTOGRAMS = ("detect", "acknowledge", "mitigate", "resolve")


def _declare(
    session: Any,
    policy: Policy,
    severity: str,
    *,
    started: datetime,
    detected: datetime,
    declared: datetime,
) -> str:
    data = IncidentDeclare(
        title=f"{severity} at {started:%H:%M:%S}",
        severity=severity,
        severity_reason="set by the test",
        started_at=started,
        detected_at=detected,
    )
    return service.declare_incident(session, policy, data, actor="alice", now=declared).id


def _move(session: Any, policy: Policy, incident_id: str, to: str, at: datetime) -> None:
    if to == "resolved":
        # Resolving with the policy's manual conditions unmet takes the IC's override.
        roles.assign_role(
            session, policy, incident_id, role="ic", assignee="alice", actor="alice", now=at
        )
    transitions.transition(
        session,
        policy,
        incident_id,
        to=to,
        reason="checked by hand",
        actor="alice",
        now=at,
        override_conditions=to == "resolved",
        summary="fixed" if to == "resolved" else None,
    )


def _seed(db: Database, policy: Policy, t0: datetime) -> str:
    """The incidents below; returns G's id."""
    base = t0 - timedelta(days=2)
    m = timedelta(minutes=1)
    with db.session() as session:
        # A, P1: detect 120 s, acknowledge 180 s, mitigate 1200 s, resolve 3000 s.
        a = _declare(
            session, policy, "P1", started=base, detected=base + 2 * m, declared=base + 2 * m
        )
        transitions.acknowledge(session, a, by="alice", now=base + 5 * m)
        _move(session, policy, a, "investigating", base + 6 * m)
        _move(session, policy, a, "monitoring", base + 20 * m)
        _move(session, policy, a, "resolved", base + 50 * m)
        # B, P1: detect 30 s, never acknowledged, open; its 5-minute update is long overdue.
        s30 = timedelta(seconds=30)
        _declare(session, policy, "P1", started=base, detected=base + s30, declared=base + s30)
        # C, P2: detect 600 s, acknowledge 3000 s, mitigated and resolved after 26 h.
        c = _declare(
            session, policy, "P2", started=base, detected=base + 10 * m, declared=base + 10 * m
        )
        _move(session, policy, c, "investigating", base + 60 * m)
        _move(session, policy, c, "resolved", base + timedelta(hours=26))
        # D, P2, canceled: in no figure (its 1 s would fall in P2's le=60 bucket).
        d = _declare(
            session, policy, "P2", started=base, detected=base + timedelta(seconds=1), declared=base
        )
        _move(session, policy, d, "canceled", base + m)
        # E, P1, a drill still open: counted apart only (its 10 s would fall in P1's le=60).
        e = _declare(
            session,
            policy,
            "P1",
            started=base,
            detected=base + timedelta(seconds=10),
            declared=base,
        )
        service.get_incident(session, e).drill = True
        # F, P2, declared 100 days ago: outside the histograms' 90-day window.
        old = t0 - timedelta(days=100)
        f = _declare(
            session, policy, "P2", started=old, detected=old + timedelta(seconds=5), declared=old
        )
        _move(session, policy, f, "resolved", old + 10 * m)
        # G, P2, open: detect exactly 300 s (the le="300" bound), acknowledge 360 s; its next
        # update is due in 5 minutes, so not overdue.
        g = _declare(
            session, policy, "P2", started=t0 - 20 * m, detected=t0 - 15 * m, declared=t0 - 10 * m
        )
        _move(session, policy, g, "investigating", t0 - 9 * m)
        # H, P3, open: detected as it started; P3 has no update cadence.
        _declare(
            session, policy, "P3", started=t0 - 60 * m, detected=t0 - 60 * m, declared=t0 - 60 * m
        )
    return g


def _scrape(anon: Any) -> dict[str, Any]:
    response = anon.get("/metrics")
    assert response.status_code == 200
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _values(family: Any, suffix: str = "") -> dict[str, float]:
    return {s.labels["severity"]: s.value for s in family.samples if s.name == family.name + suffix}


def _buckets(family: Any, severity: str) -> dict[str, float]:
    return {
        s.labels["le"]: s.value
        for s in family.samples
        if s.name.endswith("_bucket") and s.labels["severity"] == severity
    }


def _cumulative(values: Sequence[float]) -> dict[str, float]:
    """The le -> count a histogram of these values shows."""
    counts = {str(float(bound)): float(sum(v <= bound for v in values)) for bound in BUCKETS}
    counts["+Inf"] = float(len(values))
    return counts


def test_scrape_counts_open_incidents_histograms_and_overdue_updates_without_drills(
    anon, db, policy
):
    t0 = utcnow().replace(microsecond=0)
    clock.freeze(t0)
    g = _seed(db, policy, t0)

    families = _scrape(anon)
    assert families["haetae_incident_metrics_up"].samples[0].value == 1
    assert _values(families["haetae_incidents_open"]) == {"P1": 1, "P2": 1, "P3": 1, "P4": 0}
    assert families["haetae_drill_incidents_open"].samples[0].value == 1
    assert _values(families["haetae_incident_updates_overdue"]) == {
        "P1": 1,
        "P2": 0,
        "P3": 0,
        "P4": 0,
    }
    # B's first update was due 5 minutes after its declaration, two days ago.
    waited = _values(families["haetae_incident_update_overdue_seconds"])
    assert waited == {"P1": 2 * 86400 - 330, "P2": 0, "P3": 0, "P4": 0}

    expected = {
        "detect": {"P1": [120, 30], "P2": [600, 300], "P3": [0], "P4": []},
        "acknowledge": {"P1": [180], "P2": [3000, 360], "P3": [], "P4": []},
        "mitigate": {"P1": [1200], "P2": [93600], "P3": [], "P4": []},
        "resolve": {"P1": [3000], "P2": [93600], "P3": [], "P4": []},
    }
    for figure, by_severity in expected.items():
        family = families[f"haetae_incident_time_to_{figure}_seconds"]
        assert family.type == "histogram"
        counts = _values(family, "_count")
        sums = _values(family, "_sum")
        for severity, seen in by_severity.items():
            where = f"{figure} {severity}"
            assert _buckets(family, severity) == _cumulative(seen), where
            assert counts[severity] == len(seen), where
            assert sums[severity] == sum(seen), where

    # Half an hour later G resolves: it leaves the open gauge for P2's resolve histogram
    # (50 minutes from its start), and nothing new is overdue.
    clock.freeze(t0 + timedelta(minutes=30))
    with db.session() as session:
        _move(session, policy, g, "resolved", utcnow())
    families = _scrape(anon)
    assert _values(families["haetae_incidents_open"])["P2"] == 0
    assert _values(families["haetae_incident_updates_overdue"])["P2"] == 0
    resolve = families["haetae_incident_time_to_resolve_seconds"]
    assert _buckets(resolve, "P2") == _cumulative([93600, 3000])
    assert _values(resolve, "_sum")["P2"] == 96600


def test_an_unreadable_database_sets_up_to_zero_and_logs_no_url(fresh_database_url, policy, caplog):
    # No migrations applied: the incidents table is missing, as on a half-restored database.
    database = Database(fresh_database_url)
    try:
        with caplog.at_level(logging.WARNING, logger="haetae.metrics.prometheus"):
            families = list(IncidentCollector(database, lambda: policy).collect())
    finally:
        database.dispose()
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [
        ("haetae_incident_metrics_up", [0])
    ]
    assert "incident figures unreadable" in caplog.text
    assert fresh_database_url not in caplog.text


def _sample_names(families: dict[str, Any]) -> set[str]:
    """Every series name a query may use, including a family's that has no sample yet (no
    worker has reported here, but its HELP and TYPE are scraped all the same)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    names = set()
    for family in families.values():
        names.add(family.name)
        names.update(family.name + s for s in suffixes.get(family.type, ()))
        names.update(s.name for s in family.samples)
    return names


def _exprs(panels: list[dict[str, Any]]) -> list[str]:
    found = []
    for panel in panels:
        found += [t["expr"] for t in panel.get("targets", [])]
        found += _exprs(panel.get("panels", []))
    return found


def test_the_grafana_dashboard_reads_only_series_the_app_serves(anon):
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    assert dashboard["schemaVersion"] >= 39
    exprs = _exprs(dashboard["panels"])
    exprs += [v["definition"] for v in dashboard["templating"]["list"]]
    served = _sample_names(_scrape(anon))
    used = set()
    for expr in exprs:
        names = set(re.findall(r"\bhaetae_[a-z0-9_]+", expr))
        assert names, expr
        assert names <= served, f"{expr}: {sorted(names - served)} not on /metrics"
        used |= names
    # The panels the issue asks for are there.
    for figure in HISTOGRAMS:
        assert f"haetae_incident_time_to_{figure}_seconds_bucket" in used
    for name in (
        "haetae_incidents_open",
        "haetae_incident_updates_overdue",
        "haetae_notification_oldest_overdue_seconds",
        "haetae_worker_heartbeat_age_seconds",
    ):
        assert name in used
