"""PostgreSQL's search takes the newest matching documents in windows of recency buckets: the
documents it ranks are exactly the newest ones that match (whatever the gaps, filters and
empty stretches), and a word in many documents is answered from the newest window alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from haetae.cases import index, queries
from haetae.cases.index import SearchDocument
from haetae.db import Database
from haetae.incidents.models import Incident

T0 = datetime(2026, 6, 1, tzinfo=UTC)
NEWEST = 5  # CANDIDATES for these tests, so a few dozen documents span several windows


def _incident(n: int, title: str, severity: str) -> dict[str, Any]:
    at = T0 + timedelta(minutes=n)
    return {
        "id": f"INC-{n:05d}",
        "title": title,
        "summary": "",
        "status": "investigating",
        "severity": severity,
        "severity_source": "explicit",
        "category": "application",
        "services": ["api"],
        "tags": [],
        "impact": {},
        "complexity": 1,
        "priority_score": 1.0,
        "declared_by": "test",
        "declared_at": at,
        "started_at": at,
        "detected_at": at,
        "updated_at": at,
    }


@pytest.fixture
def library(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Documents in stretches several buckets apart: old matches, an empty stretch, newer
    matches, and a newest stretch that matches nothing (as post-mortems written after their
    incidents can be)."""
    with db.session() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite's FTS5 walks its matches newest first; no windows there")
    monkeypatch.setattr(queries, "CANDIDATES", NEWEST)
    bucket = index.BUCKET_IDS
    stretches: list[tuple[int, list[tuple[str, str]]]] = [
        (1, [("결제 장애", "P1"), ("DB connection pool exhausted", "P2")] * 6),
        (10 * bucket, [("배포 롤백", "P3")] * 10),
        (20 * bucket + 100, [("검색 장애", "P2"), ("connection reset", "P1")] * 3),
        (24 * bucket, [("장애 재발", "P1"), ("connection lost", "P2")]),
        (25 * bucket, [("정기 점검", "P4")] * 12),
    ]
    n = 0
    with db.session() as session:
        for start, rows in stretches:
            session.execute(text("SELECT setval('search_documents_id_seq', :at)"), {"at": start})
            for title, severity in rows:
                session.execute(insert(Incident), [_incident(n, title, severity)])
                n += 1
    with db.session(write=False) as session:
        yield session


def _brute_force(session: Session, query: queries.SearchQuery) -> list[int]:
    """The newest matching documents by one plain statement over every document."""
    found = select(SearchDocument.id).where(queries.matched_documents("postgresql", query.words))
    filters = queries._filters("postgresql", query)
    if filters:
        found = found.join(Incident, Incident.id == SearchDocument.incident_id).where(*filters)
    if query.kinds:
        found = found.where(SearchDocument.kind.in_(query.kinds))
    return list(session.scalars(found.order_by(SearchDocument.id.desc()).limit(NEWEST)))


@pytest.mark.parametrize(
    "params",
    [
        {"q": "장애"},
        {"q": "장애", "severity": ["P1"]},
        {"q": "connection pool"},
        {"q": "connection", "severity": ["P1", "P2"]},
        {"q": "롤백"},
        {"q": "점검 장애"},
        {"q": "exhausted", "kinds": ["postmortem"]},
        {"q": "r"},
    ],
)
def test_the_ranked_documents_are_exactly_the_newest_that_match(
    library: Session, params: dict[str, Any]
) -> None:
    query = queries.SearchQuery(**params)
    found = [
        m.id for m in queries.newest_matches(library, query, queries._filters("postgresql", query))
    ]
    assert found == _brute_force(library, query)


def test_a_word_in_the_newest_documents_is_answered_from_the_first_window(
    library: Session,
) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "search_documents.grams @>" in statement:
            statements.append(statement)

    engine = library.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        query = queries.SearchQuery(q="점검")
        assert len(queries.newest_matches(library, query, [])) == NEWEST
    finally:
        event.remove(engine, "before_cursor_execute", count)
    [window] = statements
    assert "&&" in window  # one bucket, not every document holding the word


def test_searching_many_times_keeps_answering_and_leaves_the_plan_settings_as_they_were(
    library: Session,
) -> None:
    # psycopg prepares a statement after 5 runs; PostgreSQL may then keep a generic plan.
    before = library.execute(text("SHOW plan_cache_mode")).scalar_one()
    first = queries.search(library, queries.SearchQuery(q="장애", severity=["P1"]))
    for _ in range(12):
        again = queries.search(library, queries.SearchQuery(q="장애", severity=["P1"]))
        assert [h.id for h in again.items] == [h.id for h in first.items]
    assert library.execute(text("SHOW plan_cache_mode")).scalar_one() == before
