"""The case library's search: which index finds Korean words, and how fast search answers at
100,000 incidents and 20,000 post-mortems on SQLite and PostgreSQL.

    .venv/bin/python bench/search.py --recall     # the index candidates on a small corpus
    .venv/bin/python bench/search.py              # 100k incidents + 20k post-mortems, both DBs
    .venv/bin/python bench/search.py --quick      # 10k + 2k: a smoke check
    .venv/bin/python bench/search.py --db sqlite --incidents 50000

Speed: each database is seeded at the schema before the search index (0010) with batched
inserts, then upgraded to head, timing the migration that indexes the existing rows; then a
bounded set of queries (Korean and English, with and without filters) runs in-process
through `haetae.cases.queries.search` (the function behind the API, the CLI and the
console) ROUNDS times each. Prints the median and p95 per query and overall, per database,
and the PostgreSQL / SQLite ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster  # noqa: E402

from haetae.cases import index  # noqa: E402
from haetae.cases.queries import SearchQuery, search  # noqa: E402
from haetae.db import Database  # noqa: E402
from haetae.incidents.models import Incident  # noqa: E402
from haetae.migrations import upgrade  # noqa: E402
from haetae.postmortems.models import Postmortem  # noqa: E402

BEFORE_SEARCH = "0010"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KO_SUBJECTS = ["결제", "주문", "검색", "로그인", "배송", "정산", "알림", "회원", "쿠폰", "리뷰"]
KO_PARTS = ["서버", "디스크", "커넥션 풀", "캐시", "DB", "큐", "게이트웨이", "인증서", "배치"]
KO_EVENTS = ["장애가 발생", "응답이 지연", "오류율이 증가", "타임아웃이 발생", "접속이 불가"]
KO_CAUSES = [
    "디스크 풀로 로그 기록 실패",
    "커넥션 풀 고갈",
    "배포 후 설정 누락으로 롤백",
    "인증서 만료",
    "메모리 누수로 재시작 반복",
    "슬로우 쿼리로 DB CPU 포화",
]
EN_TITLES = [
    "DB connection pool exhausted on {svc}",
    "{svc} latency spike after deploy",
    "Disk full on {svc} hosts",
    "{svc} 5xx errors, rollback performed",
    "Certificate expired for {svc}",
    "Memory leak in {svc} workers",
]
EN_CAUSES = [
    "a missing index made the query scan the table",
    "the release changed a timeout; we rolled back",
    "log rotation was disabled and the disk filled",
    "the connection pool was too small for the traffic",
]
SERVICES = [f"svc-{n}" for n in range(20)]
CATEGORIES = ["infrastructure", "application", "deployment", "performance", "external"]
SEVERITIES = ["P1"] * 5 + ["P2"] * 15 + ["P3"] * 40 + ["P4"] * 40
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("장애", {}),
    ("디스크 풀", {}),
    ("커넥션 풀", {}),
    ("인증서 만료", {}),
    ("롤백", {}),
    ("결제 서버", {"severity": ["P1", "P2"]}),
    ("타임아웃", {"service": "svc-3"}),
    ("DB connection", {}),
    ("rollback", {}),
    ("memory leak", {"category": "application"}),
    ("disk", {"kinds": ["postmortem"]}),
    ("latency", {"since": NOW - timedelta(days=30)}),
    ("", {"service": "svc-7", "severity": ["P1"]}),
    ("없는단어", {}),
]


def _incidents(count: int, rnd: random.Random) -> Iterator[dict[str, Any]]:
    for n in range(count):
        at = NOW - timedelta(minutes=5 * (count - n))
        svc = rnd.choice(SERVICES)
        if rnd.random() < 0.6:
            title = f"{rnd.choice(KO_SUBJECTS)} {rnd.choice(KO_PARTS)} {rnd.choice(KO_EVENTS)}"
            summary = f"{rnd.choice(KO_CAUSES)}. {rnd.choice(KO_SUBJECTS)} 영향 #{n}"
        else:
            title = rnd.choice(EN_TITLES).format(svc=svc)
            summary = f"{rnd.choice(EN_CAUSES)} (case {n})"
        status = rnd.choice(["resolved"] * 6 + ["closed"] * 3 + ["investigating"])
        yield {
            "id": f"INC-{at:%Y%m%d}-{n:06d}",
            "title": title,
            "summary": summary,
            "status": status,
            "severity": rnd.choice(SEVERITIES),
            "severity_source": "explicit",
            "category": rnd.choice(CATEGORIES),
            "services": [svc],
            "tags": [rnd.choice(["db", "disk", "network", "deploy", "cert"])],
            "impact": {},
            "complexity": 1,
            "priority_score": 1.0,
            "declared_by": "bench",
            "declared_at": at,
            "started_at": at,
            "detected_at": at,
            "resolved_at": at + timedelta(hours=1) if status != "investigating" else None,
            "resolution_summary": rnd.choice(KO_CAUSES) if status != "investigating" else None,
            "updated_at": at,
        }


def _postmortems(ids: list[str], rnd: random.Random) -> Iterator[dict[str, Any]]:
    for incident_id in ids:
        at = NOW
        cause = rnd.choice(KO_CAUSES + EN_CAUSES)
        yield {
            "incident_id": incident_id,
            "status": "published",
            "title": f"{incident_id} 사후 분석",
            "author": "bench",
            "started_by": "bench",
            "started_at": at,
            "updated_at": at,
            "clock_start": at,
            "summary": f"{cause}. 재발 방지 대책을 정리한다.",
            "impact": "일부 사용자 요청 실패",
            "key_events": [],
            "whys": [rnd.choice(KO_CAUSES), rnd.choice(EN_CAUSES)],
            "root_cause": cause,
            "contributing_factors": ["모니터링 부족"],
            "went_well": ["빠른 롤백"],
            "went_wrong": ["알림 지연"],
            "lucky": [],
            "lessons": "canary deploys and disk alerts",
            "custom": {},
            "deadlines": {},
            "reminded": {},
        }


def _batches(rows: Iterator[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(url: str, incidents: int, postmortems: int) -> tuple[float, float]:
    """Rows at 0010 (no search index yet), then the upgrade that indexes them: seconds each."""
    upgrade(url, BEFORE_SEARCH)
    rnd = random.Random(11)
    started = time.perf_counter()
    engine = create_engine(url)
    ids: list[str] = []
    with engine.begin() as conn:
        for batch in _batches(_incidents(incidents, rnd)):
            conn.execute(insert(Incident.__table__), batch)
            ids += [row["id"] for row in batch]
        chosen = rnd.sample(ids, postmortems)
        for batch in _batches(_postmortems(chosen, rnd)):
            conn.execute(insert(Postmortem.__table__), batch)
    engine.dispose()
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    upgrade(url, "head")
    return seeded, time.perf_counter() - started


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    db = Database(url)
    timings: dict[str, list[float]] = {}
    try:
        for q, filters in QUERIES:
            label = (q or "(no words)") + (f"  {filters}" if filters else "")
            timings[label] = []
            for _ in range(rounds + 1):
                started = time.perf_counter()
                with db.session(write=False) as session:
                    search(session, SearchQuery(q=q, limit=20, **filters))
                timings[label].append((time.perf_counter() - started) * 1000)
            timings[label] = timings[label][1:]  # the first warms caches
    finally:
        db.dispose()
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def report(name: str, timings: dict[str, list[float]]) -> tuple[float, float]:
    print(f"\n{name}: median / p95 ms per query")
    for label, values in timings.items():
        print(f"  {statistics.median(values):8.1f} {p95(values):8.1f}  {label}")
    every = [v for values in timings.values() for v in values]
    print(f"  {statistics.median(every):8.1f} {p95(every):8.1f}  ALL ({len(every)} searches)")
    return statistics.median(every), p95(every)


# --recall: the candidates for the index, on a small corpus with known answers.

CORPUS = [
    "결제 서버에 장애가 발생했습니다",
    "디스크 풀로 인해 로그 기록이 멈춤",
    "커넥션 풀이 고갈되어 주문이 실패",
    "DB connection pool exhausted",
    "배포 후 롤백으로 복구",
    "We rolled back the release (rollback took 5 minutes)",
    "결제서버 디스크가 가득 참",
    "장애 대응 훈련",
    "인증서가 만료되어 로그인 장애",
    "Disk full on the database host",
]
RECALL_QUERIES = {
    "장애": {0, 7, 8},
    "디스크 풀": {1},
    "커넥션 풀": {2},
    "DB connection": {3},
    "rollback": {5},
    "롤백": {4},
    "서버": {0, 6},
    "디스크": {1, 6},
    "인증서": {8},
}


def _score(found: dict[str, set[int]]) -> tuple[float, list[str]]:
    hits = sum(len(found[q] & want) for q, want in RECALL_QUERIES.items())
    total = sum(len(want) for want in RECALL_QUERIES.values())
    missed = [q for q, want in RECALL_QUERIES.items() if not want <= found[q]]
    return hits / total, missed


def _sqlite_fts(tokenizer: str, query_for: Any) -> dict[str, set[int]]:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='{tokenizer}')")
    conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", enumerate(CORPUS))
    found = {}
    for q in RECALL_QUERIES:
        rows = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (query_for(q),)).fetchall()
        found[q] = {r[0] for r in rows}
    return found


def _sqlite_bigrams() -> dict[str, set[int]]:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE search_documents (id INTEGER PRIMARY KEY, kind TEXT, source_id TEXT, "
        "incident_id TEXT, body TEXT)"
    )
    for statement in index.sqlite_statements()[:4]:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO search_documents(id, kind, source_id, incident_id, body) "
        "VALUES (?, 'note', ?, 'x', ?)",
        [(n, str(n), body) for n, body in enumerate(CORPUS)],
    )
    return {
        q: {
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ?",
                (index.fts_match(index.terms(q)),),
            )
        }
        for q in RECALL_QUERIES
    }


def _pg(url: str) -> dict[str, dict[str, set[int]]]:
    engine = create_engine(url)
    results: dict[str, dict[str, set[int]]] = {}
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(text("CREATE TABLE corpus (id int, body text)"))
        for n, body in enumerate(CORPUS):
            conn.execute(text("INSERT INTO corpus VALUES (:n, :b)"), {"n": n, "b": body})
        ctype = conn.execute(text("SHOW lc_ctype")).scalar()
        print(f"  (PostgreSQL lc_ctype: {ctype})")
        methods = {
            "PostgreSQL to_tsvector('simple') @@ plainto_tsquery": (
                "to_tsvector('simple', body) @@ plainto_tsquery('simple', :q)"
            ),
            "PostgreSQL pg_trgm word_similarity (<% 0.6)": "(:q) <% body",
            "PostgreSQL ILIKE each word (what pg_trgm's GIN can serve)": None,
        }
        for name, where in methods.items():
            found = {}
            for q in RECALL_QUERIES:
                if where is None:
                    words = q.split()
                    clause = " AND ".join(f"body ILIKE :w{i}" for i in range(len(words)))
                    params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
                    rows = conn.execute(text(f"SELECT id FROM corpus WHERE {clause}"), params)
                else:
                    conn.execute(text("SET pg_trgm.word_similarity_threshold = 0.6"))
                    rows = conn.execute(text(f"SELECT id FROM corpus WHERE {where}"), {"q": q})
                found[q] = {r[0] for r in rows}
            results[name] = found
        trgms = conn.execute(text("SELECT show_trgm('장애가 발생')")).scalar()
        print(f"  (pg_trgm's trigrams of '장애가 발생': {trgms})")
    engine.dispose()
    return results


def recall(pg_url: str | None) -> None:
    print("Recall on a 10-document Korean/English corpus, 9 queries (every word must occur):")
    methods: dict[str, dict[str, set[int]]] = {
        "SQLite FTS5 unicode61 (words)": _sqlite_fts(
            "unicode61", lambda q: " AND ".join(f'"{w}"' for w in q.split())
        ),
        "SQLite FTS5 unicode61 (word prefixes)": _sqlite_fts(
            "unicode61", lambda q: " AND ".join(f'"{w}"*' for w in q.split())
        ),
        "SQLite FTS5 trigram": _sqlite_fts(
            "trigram", lambda q: " AND ".join(f'"{w}"' for w in q.split())
        ),
        "Haetae bigrams (SQLite FTS5)": _sqlite_bigrams(),
    }
    if pg_url:
        methods |= _pg(pg_url)
    for name, found in methods.items():
        share, missed = _score(found)
        print(f"  {share:6.0%}  {name}" + (f"   misses: {', '.join(missed)}" if missed else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recall", action="store_true", help="only the recall comparison")
    parser.add_argument("--quick", action="store_true", help="10k incidents, 2k post-mortems")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--postmortems", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20, help="times each query runs")
    args = parser.parse_args()
    if args.quick:
        args.incidents, args.postmortems = 10_000, 2_000
    cluster = PostgresCluster().start() if args.db != "sqlite" or args.recall else None
    try:
        if args.recall:
            assert cluster is not None
            recall(cluster.create_database("haetae_recall"))
            return
        overall: dict[str, tuple[float, float]] = {}
        with tempfile.TemporaryDirectory() as folder:
            urls = {}
            if args.db in ("sqlite", "both"):
                urls["SQLite"] = f"sqlite:///{Path(folder) / 'search.db'}"
            if cluster is not None:
                urls["PostgreSQL"] = cluster.create_database("haetae_search")
            for name, url in urls.items():
                seeded, indexed = seed(url, args.incidents, args.postmortems)
                print(
                    f"\n{name}: seeded {args.incidents:,} incidents and {args.postmortems:,} "
                    f"post-mortems in {seeded:.1f} s; migration 0011 indexed them in "
                    f"{indexed:.1f} s"
                )
                overall[name] = report(name, measure(url, args.rounds))
        if len(overall) == 2:
            (s50, s95), (p50, p95_) = overall["SQLite"], overall["PostgreSQL"]
            print(f"\nPostgreSQL / SQLite: median x{p50 / s50:.2f}, p95 x{p95_ / s95:.2f}")
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
