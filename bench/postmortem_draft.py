"""Drafting and viewing a post-mortem of an incident with 2,000 timeline entries.

Builds one resolved P1 with N timeline events (a realistic mix: status updates, notes,
notifications, escalation steps, role changes), 50 alerts, decisions and updates, then times
`drafting.draft` (inside a rolled-back transaction, so each run drafts anew) and
`queries.view`, and prints the median and p95 of each over --runs runs. The target is under
500 ms for each (issue 11).

    .venv/bin/python bench/postmortem_draft.py                 # SQLite, then PostgreSQL
    .venv/bin/python bench/postmortem_draft.py --db sqlite --events 2000 --runs 20

PostgreSQL: BENCH_PG_URL if set, else a throwaway cluster (tests/support/pg.py).

Measured on the 2-core development machine (2,002 timeline entries, 20 runs, shared load):
SQLite draft median 19 ms (p95 43), view median 41 ms (p95 302); PostgreSQL 15 draft median
24 ms (p95 30), view median 50 ms (p95 69).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402
from tests.support.pg import PostgresCluster  # noqa: E402

from haetae.alerts.models import Alert, Integration  # noqa: E402
from haetae.db import Database  # noqa: E402
from haetae.incidents import activity, roles, transitions  # noqa: E402
from haetae.incidents import service as incidents  # noqa: E402
from haetae.incidents.schemas import DecisionIn, IncidentDeclare, StatusUpdateIn  # noqa: E402
from haetae.migrations import upgrade_to_head  # noqa: E402
from haetae.policy.loader import default_policy  # noqa: E402
from haetae.postmortems import drafting, queries  # noqa: E402
from haetae.postmortems.models import Postmortem  # noqa: E402
from haetae.timeline import service as timeline  # noqa: E402

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
KINDS = ("note", "notification_sent", "escalation_step", "status_update", "fields_changed")


def build(db: Database, events: int) -> str:
    policy = default_policy()
    with db.session() as session:
        inc = incidents.declare_incident(
            session,
            policy,
            IncidentDeclare(title="Checkout 502", severity="P1", severity_reason="all users"),
            actor="alice",
            now=T0,
        )
        roles.assign_role(
            session, policy, inc.id, role="ic", assignee="alice", actor="alice", now=T0
        )
        integration = Integration(
            name="am",
            type="alertmanager",
            token_hash="x" * 64,
            token_prefix="x",
            created_by="bench",
            created_at=T0,
        )
        session.add(integration)
        session.flush()
        for n in range(50):
            at = T0 + timedelta(seconds=n)
            session.add(
                Alert(
                    integration_id=integration.id,
                    dedup_key=f"fp-{n}",
                    open_key=None,
                    status="resolved",
                    summary=f"HighErrorRate {n}",
                    received_at=at,
                    last_received_at=at,
                    incident_id=inc.id,
                    labels={},
                    annotations={},
                    raw={},
                )
            )
        for n in range(10):
            at = T0 + timedelta(minutes=n)
            activity.record_decision(
                session,
                inc.id,
                DecisionIn(kind="technical", decision=f"decision {n}", reason="bench"),
                by="alice",
                now=at,
            )
            activity.post_update(
                session,
                policy,
                inc.id,
                StatusUpdateIn(situation=f"update {n}"),
                author="alice",
                now=at,
            )
        already = len(timeline.events(session, inc.id))
        for n in range(max(0, events - already - 2)):
            kind = KINDS[n % len(KINDS)]
            data = {"notified": ["alice"]} if kind == "escalation_step" else {}
            timeline.record(
                session,
                inc.id,
                kind=kind,
                actor="bench",
                at=T0 + timedelta(seconds=30 + n),
                summary=f"{kind} {n}",
                **data,
            )
        transitions.transition(
            session,
            policy,
            inc.id,
            to="resolved",
            reason="bench",
            actor="alice",
            now=T0 + timedelta(hours=3),
            override_conditions=True,
            summary="rolled back",
        )
        return inc.id


def measure(db: Database, incident_id: str, runs: int) -> dict[str, list[float]]:
    policy = default_policy()
    now = T0 + timedelta(hours=4)
    drafts: list[float] = []
    views: list[float] = []
    for _ in range(runs):
        with db.engine.connect() as conn, Session(bind=conn) as session:
            incident = incidents.get_incident(session, incident_id)
            session.query(Postmortem).delete()
            started = time.perf_counter()
            drafting.draft(session, policy, incident, by="bench", now=now)
            session.flush()
            drafts.append(time.perf_counter() - started)
            session.rollback()
        with db.session(write=False) as session:
            started = time.perf_counter()
            queries.view(session, policy, incident_id, now=now)
            views.append(time.perf_counter() - started)
    return {"draft": drafts, "view": views}


def report(label: str, db: Database, args: argparse.Namespace) -> None:
    incident_id = build(db, args.events)
    with db.session(write=False) as session:
        count = len(timeline.events(session, incident_id))
    figures = measure(db, incident_id, args.runs)
    for name, times in figures.items():
        ms = sorted(t * 1000 for t in times)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        print(
            f"{label:<10} {name:<5} {count} timeline entries: median {statistics.median(ms):7.1f} "
            f"ms, p95 {p95:7.1f} ms over {len(ms)} runs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade_to_head(url)
            db = Database(url)
            try:
                report("SQLite", db, args)
            finally:
                db.dispose()
    if args.db in ("postgresql", "both"):
        given = os.environ.get("BENCH_PG_URL")
        cluster = None if given else PostgresCluster().start()
        try:
            url = given or cluster.create_database("pmbench")  # type: ignore[union-attr]
            upgrade_to_head(url)
            db = Database(url)
            try:
                report("PostgreSQL", db, args)
            finally:
                db.dispose()
        finally:
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    main()
