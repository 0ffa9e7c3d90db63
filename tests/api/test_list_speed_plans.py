"""The incident and alert lists at scale: each filter reads its own index in the list's
order (checked with EXPLAIN on both databases), cursors page through without gaps, the
count stops at its cap, and the services and tags side tables follow every change."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from haetae import keyset
from haetae.alerts import queries
from haetae.alerts.models import Alert, Integration
from haetae.db import Database
from haetae.incidents import service
from haetae.incidents.models import Incident
from tests.api.helpers import declare, error_code

T0 = datetime(2026, 6, 1, tzinfo=UTC)
ACTIVE = ["triage", "investigating", "identified", "monitoring"]


def _status(n: int) -> str:
    # Resolved and closed one in ten each, as selective as a filter worth an index is: on
    # so few rows PostgreSQL would rather scan the date index for a value in four.
    return {0: "resolved", 1: "closed"}.get(n % 10) or ACTIVE[(n % 10 - 2) % 4]


def _seed(db: Database, incidents: int = 600, alerts: int = 1500) -> None:
    """Rows through plain inserts (the lists only read them), varied like real data."""
    with db.session() as session:
        session.execute(
            insert(Integration),
            [
                {
                    "id": n,
                    "name": f"int-{n}",
                    "type": "generic",
                    "token_hash": f"{n:064d}",
                    "token_prefix": f"t{n}",
                    "created_by": "test",
                    "created_at": T0,
                }
                for n in range(1, 11)
            ],
        )
        rows = []
        for n in range(incidents):
            at = T0 + timedelta(minutes=n)
            rows.append(
                {
                    "id": f"INC-{n:05d}",
                    "title": f"incident {n}",
                    "summary": "",
                    "status": _status(n),
                    "severity": "P1" if n % 10 == 0 else f"P{n % 3 + 2}",
                    "severity_source": "explicit",
                    "services": [f"svc-{n % 7}"],
                    "tags": [f"tag-{n % 5}"],
                    "impact": {},
                    "complexity": 1,
                    "priority_score": 1.0,
                    "declared_by": "test",
                    "declared_at": at,
                    "started_at": at,
                    "detected_at": at,
                    "updated_at": at,
                }
            )
        # In no particular order on disk: PostgreSQL prices a date index read in disk order
        # below the filter's own index on a table this small.
        random.Random(11).shuffle(rows)
        session.execute(insert(Incident), rows)
        for row in rows:
            incident = session.get(Incident, row["id"])
            assert incident is not None
            service.index_lists(session, incident)
        alert_rows = [
            {
                "integration_id": n % 10 + 1,
                "dedup_key": f"fp-{n % 300}",
                "open_key": f"open-{n}" if n % 50 == 0 else None,
                "status": "firing" if n % 50 == 0 else "resolved",
                "summary": f"alert {n}",
                "details": "",
                "severity": "critical" if n % 10 == 0 else ["warning", "info"][n % 2],
                "labels": {},
                "annotations": {},
                "raw": {},
                "received_at": T0 + timedelta(seconds=n),
                "last_received_at": T0 + timedelta(seconds=n),
                "receipts": 1,
                "content_hash": "",
                "incident_id": f"INC-{n % 40:05d}" if n % 2 else None,
            }
            for n in range(alerts)
        ]
        random.Random(12).shuffle(alert_rows)
        session.execute(insert(Alert), alert_rows)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))


class Statements:
    """The SELECTs a list runs, as sent to the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: list[tuple[str, Any]] = []

    def __enter__(self) -> Statements:
        event.listen(self.db.engine, "before_cursor_execute", self._grab)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._grab)

    def _grab(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, params))


def plan(session: Session, statement: str, params: Any) -> list[str]:
    """The plan's steps: SQLite's EXPLAIN QUERY PLAN lines, or PostgreSQL's nodes as
    'Node Type index relation' with sequential scans and sorts priced out of reach, so
    that what remains is what the indexes allow."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return [row[3] for row in rows]
    for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
        conn.exec_driver_sql(f"SET LOCAL {setting} = off")
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar()
    found = json.loads(raw) if isinstance(raw, str) else raw

    def walk(node: dict[str, Any]) -> Iterator[str]:
        yield " ".join(
            node.get(k, "") for k in ("Node Type", "Index Name", "Relation Name")
        ).strip()
        for child in node.get("Plans", []):
            yield from walk(child)

    return list(walk(found[0]["Plan"]))


def assert_reads_index(steps: list[str], table: str, index: str | None) -> None:
    joined = " | ".join(steps)
    assert "TEMP B-TREE" not in joined, joined  # SQLite sorting the matches
    assert not any(s.startswith("Sort") for s in steps), joined  # PostgreSQL sorting them
    assert not any(s.startswith("Seq Scan") for s in steps), joined
    assert not any(s == f"SCAN {table}" for s in steps), joined  # SQLite reading the table
    if index is not None:
        assert any(index in s and ("INDEX" in s or "Index" in s) for s in steps), joined


INCIDENT_FILTERS = {
    "unfiltered": (service.IncidentFilter(), "ix_incidents_declared"),
    "status": (service.IncidentFilter(status=["resolved"]), "ix_incidents_status_declared"),
    "statuses": (
        service.IncidentFilter(status=["resolved", "closed"]),
        "ix_incidents_status_declared",
    ),
    "severity": (service.IncidentFilter(severity=["P1"]), "ix_incidents_severity_declared"),
    "status and severity": (
        service.IncidentFilter(status=["resolved"], severity=["P1"]),
        "ix_incidents_status_severity_declared",
    ),
    "service": (service.IncidentFilter(service="svc-3"), "ix_incident_services_service_declared"),
    "tag": (service.IncidentFilter(tag="tag-2"), "ix_incident_tags_tag_declared"),
    "since": (service.IncidentFilter(since=T0 + timedelta(hours=5)), "ix_incidents_declared"),
}
ALERT_FILTERS = {
    "unfiltered": (queries.AlertFilter(), "ix_alerts_received"),
    "status": (queries.AlertFilter(statuses=["firing"]), "ix_alerts_status_received"),
    "open": (queries.AlertFilter(open=True), "ix_alerts_status_received"),
    "integration": (queries.AlertFilter(integration_id=2), "ix_alerts_integration_received"),
    "incident": (queries.AlertFilter(incident_id="INC-00003"), "ix_alerts_incident_received"),
    "severity": (queries.AlertFilter(severity="critical"), "ix_alerts_severity_received"),
    "fingerprint": (queries.AlertFilter(fingerprint="fp-7"), "ix_alerts_dedup_received"),
    "since": (queries.AlertFilter(since=T0 + timedelta(minutes=5)), "ix_alerts_received"),
}


@pytest.fixture
def seeded(db: Database) -> Database:
    _seed(db)
    return db


def test_each_incident_filter_reads_its_index_in_list_order(seeded: Database) -> None:
    # One seeded database for every filter (seeding is most of the cost); each is named.
    for name, (where, index) in INCIDENT_FILTERS.items():
        try:
            _incident_filter_plans(seeded, where, index)
        except AssertionError as exc:
            raise AssertionError(f"incident filter {name!r}: {exc}") from exc


def _incident_filter_plans(seeded: Database, where: service.IncidentFilter, index: str) -> None:
    cursor = keyset.encode_cursor(T0 + timedelta(hours=8), "INC-00480")
    with seeded.session() as session, Statements(seeded) as statements:
        found = service.incident_page(session, where, limit=20, cursor=cursor)
        assert found.rows  # the plans below are those of a list that finds something
    with seeded.session() as session:
        pages, counts = [], []
        for statement, params in statements.seen:
            steps = plan(session, statement, params)
            (counts if "count(" in statement.lower() else pages).append(steps)
        assert pages and counts
        for steps in pages:  # the page: read from the filter's index, in order
            assert_reads_index(steps, "incidents", index)
        for steps in counts:  # the bounded count: an index too, never the table
            assert_reads_index(steps, "incidents", None)


def test_each_alert_filter_reads_its_index_in_list_order(seeded: Database) -> None:
    for name, (where, index) in ALERT_FILTERS.items():
        try:
            _alert_filter_plans(seeded, where, index)
        except AssertionError as exc:
            raise AssertionError(f"alert filter {name!r}: {exc}") from exc


def _alert_filter_plans(seeded: Database, where: queries.AlertFilter, index: str) -> None:
    cursor = keyset.encode_cursor(T0 + timedelta(seconds=1400), 1400)
    with seeded.session() as session, Statements(seeded) as statements:
        found = queries.alert_slice(session, where, limit=20, cursor=cursor)
        assert found.rows
    with seeded.session() as session:
        listed = [(s, p) for s, p in statements.seen if "FROM alerts" in s]
        assert listed
        for statement, params in listed:
            steps = plan(session, statement, params)
            counted = "count(" in statement.lower()
            assert_reads_index(steps, "alerts", None if counted else index)


def test_cursor_pages_cover_the_list_once_in_order_as_offset_does(
    seeded: Database, api: httpx.Client
) -> None:
    params = {"status": "resolved,closed", "limit": 40}
    by_offset = []
    for offset in range(0, 160, 40):
        page = api.get("/api/v1/incidents", params={**params, "offset": offset}).json()
        by_offset += [i["id"] for i in page["items"]]
    by_cursor, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/incidents", params=query).json()
        by_cursor += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # 120 matches in pages of 40: the last says there is no next
    assert by_cursor == by_offset
    assert len(set(by_cursor)) == 120
    assert page["total"] == 120 and page["total_capped"] is False


def test_alert_cursor_follows_from_the_last_alert_shown(
    seeded: Database, api: httpx.Client
) -> None:
    first = api.get("/api/v1/alerts", params={"integration": "int-2", "limit": 30}).json()
    second = api.get(
        "/api/v1/alerts",
        params={"integration": "int-2", "limit": 30, "cursor": first["next_cursor"]},
    ).json()
    offset = api.get("/api/v1/alerts", params={"integration": "int-2", "limit": 30, "offset": 30})
    assert [a["id"] for a in second["items"]] == [a["id"] for a in offset.json()["items"]]
    assert first["total"] == 150 and not first["total_capped"]


def test_new_alert_filters_select_what_they_name(seeded: Database, api: httpx.Client) -> None:
    by_fp = api.get("/api/v1/alerts", params={"fingerprint": "fp-7", "limit": 500}).json()
    assert by_fp["total"] == 5 and {a["dedup_key"] for a in by_fp["items"]} == {"fp-7"}
    critical = api.get("/api/v1/alerts", params={"severity": "critical", "limit": 1}).json()
    assert critical["total"] == 150
    since = (T0 + timedelta(seconds=1490)).isoformat()
    recent = api.get("/api/v1/alerts", params={"since": since}).json()
    assert [a["summary"] for a in recent["items"]] == [f"alert {n}" for n in range(1499, 1489, -1)]


def test_count_past_the_cap_says_it_is_capped(seeded: Database) -> None:
    with seeded.session() as session:
        found = service.incident_page(
            session, service.IncidentFilter(status=["resolved", "closed"]), count_cap=100
        )
        assert (found.total, found.total_capped) == (100, True)
        exact = service.incident_page(
            session, service.IncidentFilter(status=["triage"]), count_cap=200
        )
        assert (exact.total, exact.total_capped) == (120, False)
        alerts = queries.alert_slice(session, queries.AlertFilter(), limit=5, count_cap=1000)
        assert (alerts.total, alerts.total_capped) == (1000, True)


def test_a_cursor_the_list_did_not_give_is_refused(api: httpx.Client) -> None:
    for path in ("/api/v1/incidents", "/api/v1/alerts"):
        response = api.get(path, params={"cursor": "not-a-cursor"})
        assert response.status_code == 422
        assert error_code(response) == "VALIDATION_ERROR"


def test_service_and_tag_filters_follow_declare_and_patch(api: httpx.Client) -> None:
    first = declare(api, services=["Payments-API", "결제"], tags=["DB"])
    declare(api, services=["search"])
    found = api.get("/api/v1/incidents", params={"service": "payments-api"}).json()
    assert [i["id"] for i in found["items"]] == [first["id"]]
    korean = api.get("/api/v1/incidents", params={"service": "결제"}).json()
    assert [i["id"] for i in korean["items"]] == [first["id"]]
    assert api.get("/api/v1/incidents", params={"tag": "db"}).json()["total"] == 1
    patched = api.patch(
        f"/api/v1/incidents/{first['id']}", json={"services": ["checkout"], "tags": []}
    )
    assert patched.status_code == 200, patched.text
    assert api.get("/api/v1/incidents", params={"service": "결제"}).json()["items"] == []
    assert api.get("/api/v1/incidents", params={"tag": "db"}).json()["total"] == 0
    moved = api.get("/api/v1/incidents", params={"service": "Checkout"}).json()
    assert [i["id"] for i in moved["items"]] == [first["id"]]
