"""Searching the case library: the one search behind the API, the CLI and the console, and
what a resolved incident's root cause and fix were."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import NamedFromClause

from haetae.actions.models import ActionItem
from haetae.cases import index
from haetae.cases.index import SearchDocument
from haetae.cases.schemas import Fix, SearchHit, SearchPage
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.postmortems.models import Postmortem

MAX_LIMIT = 100
SNIPPET_CHARS = 160
RESOLVED = ("resolved", "closed")
# Where the best match is says how good it is: the incident's own words, then its post-mortem.
KIND_WEIGHT = {"incident": 3, "postmortem": 2, "note": 1, "decision": 1}
TITLE_BONUS = 4  # every word of the query in the title
CANDIDATES = 1000  # matching documents ranked per search, newest first
# PostgreSQL (newest_matches): how far past the expected CANDIDATES-th match a window reaches.
WINDOW_MARGIN = 1.25


@dataclass
class SearchQuery:
    q: str = ""
    category: str | None = None
    service: str | None = None
    tag: str | None = None
    severity: Sequence[str] = ()
    status: Sequence[str] = ()
    kinds: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20
    cursor: str | None = None
    words: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if len(self.q) > index.MAX_QUERY_CHARS:
            raise HaetaeError(
                "INVALID_QUERY", f"The query is longer than {index.MAX_QUERY_CHARS} characters."
            )
        unknown = set(self.kinds) - set(index.KINDS)
        if unknown:
            raise HaetaeError(
                "INVALID_QUERY",
                f"kind must be among {', '.join(index.KINDS)}; got {', '.join(sorted(unknown))}.",
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise HaetaeError("INVALID_QUERY", f"limit must be 1 to {MAX_LIMIT}.")
        self.words = index.terms(self.q)


def search(session: Session, query: SearchQuery) -> SearchPage:
    """Incidents whose incident, post-mortem, note or decision text holds every word of the
    query (best match first, then newest), or with no words, the filtered incidents newest
    first. One hit per incident, with the snippet of its best-matching document."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and query.words:
        with _custom_plans(session):
            return _search(session, dialect, query)
    return _search(session, dialect, query)


@contextmanager
def _custom_plans(session: Session) -> Iterator[None]:
    """PostgreSQL plans these statements for their values each time (SET LOCAL, restored
    after). psycopg prepares a statement run 5 times, and after 5 more runs PostgreSQL may keep
    one generic plan, made without the grams and buckets: measured, a sequential scan of every
    document, 2 s a search instead of 40 ms."""
    before = session.execute(
        text(
            "SELECT current_setting('plan_cache_mode'), "
            "set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
    ).scalar_one()
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('plan_cache_mode', :mode, true)"), {"mode": before})


def _search(session: Session, dialect: str, query: SearchQuery) -> SearchPage:
    after = _decode(query.cursor)
    if query.words:
        filters = _filters(dialect, query)
        # The newest CANDIDATES matching documents (that pass the filters) are ranked: a word
        # in most of the library stays as fast as a rare one (docs/search.md). Incidents are
        # joined before the limit only when a filter needs them.
        columns = (
            SearchDocument.incident_id.label("incident_id"),
            SearchDocument.kind.label("kind"),
        )
        if dialect == "sqlite":
            # Driven by FTS5 in rowid order, newest first, so it stops after CANDIDATES.
            fts = (
                text(
                    "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH :match "
                    "ORDER BY rowid DESC"
                )
                .bindparams(match=index.fts_match(query.words))
                .columns(id=Integer)
                .subquery("fts")
            )
            candidates = (
                select(*columns)
                .select_from(fts)
                .join(SearchDocument, SearchDocument.id == fts.c.id)
                .limit(CANDIDATES)
            )
            if filters:
                candidates = candidates.join(
                    Incident, Incident.id == SearchDocument.incident_id
                ).where(*filters)
            if query.kinds:
                # `kind || ''` keeps the planner from walking the (kind, source_id) index and
                # asking FTS5 about each row: FTS5's newest-first walk stays in front.
                candidates = candidates.where((SearchDocument.kind + "").in_(query.kinds))
            found: NamedFromClause = candidates.subquery()
            narrow: list[ColumnElement[bool]] = []
        else:
            newest = newest_matches(session, query, filters)
            found = (
                func.unnest(
                    bindparam("found_incidents", [d.incident_id for d in newest], ARRAY(Text)),
                    bindparam("found_kinds", [d.kind for d in newest], ARRAY(Text)),
                )
                .table_valued("incident_id", "kind")
                .render_derived("found")
            )
            # Named, so PostgreSQL reads these incidents by key rather than hashing all of them.
            narrow = [Incident.id.in_(sorted({d.incident_id for d in newest}))]
        contained = _contains(dialect, func.lower(Incident.title), query.words)
        weight = case(*[(found.c.kind == k, w) for k, w in KIND_WEIGHT.items()], else_=0) + case(
            (contained, TITLE_BONUS), else_=0
        )
        grouped = (
            select(
                Incident.id.label("id"),
                Incident.declared_at.label("declared_at"),
                func.max(weight).label("score"),
            )
            .join(found, found.c.incident_id == Incident.id)
            .where(*narrow)
            .group_by(Incident.id, Incident.declared_at)
        )
        ranked = grouped.subquery()
        page = select(ranked.c.id, ranked.c.score, ranked.c.declared_at)
        if after is not None:
            score, at, last = after
            page = page.where(
                or_(
                    ranked.c.score < score,
                    and_(ranked.c.score == score, ranked.c.declared_at < at),
                    and_(ranked.c.score == score, ranked.c.declared_at == at, ranked.c.id < last),
                )
            )
        page = page.order_by(ranked.c.score.desc(), ranked.c.declared_at.desc(), ranked.c.id.desc())
    else:
        page = select(Incident.id, literal(0).label("score"), Incident.declared_at).where(
            *_filters(dialect, query)
        )
        if after is not None:
            _, at, last = after
            page = page.where(
                or_(Incident.declared_at < at, and_(Incident.declared_at == at, Incident.id < last))
            )
        page = page.order_by(Incident.declared_at.desc(), Incident.id.desc())
    rows = session.execute(page.limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    hits = _hits(session, dialect, query, [r.id for r in rows])
    next_cursor = None
    if more and rows:
        last_row = rows[-1]
        next_cursor = _encode(int(last_row.score), last_row.declared_at, last_row.id)
    return SearchPage(items=hits, limit=query.limit, next_cursor=next_cursor)


class Match(NamedTuple):
    id: int
    incident_id: str
    kind: str


def newest_matches(
    session: Session, query: SearchQuery, filters: list[ColumnElement[bool]]
) -> list[Match]:
    """PostgreSQL: the newest CANDIDATES documents that hold every word and pass the filters,
    newest first.

    The GIN index gives a word's matches in no useful order and a bitmap scan cannot stop
    early, so one statement fetches every match from the table (a word in 30,000 documents:
    30,000 rows) to keep the newest 1,000. Instead the documents are searched in disjoint
    windows of recency buckets (index.bucket_token), newest first, each one GIN scan of the
    words' grams AND any of the window's buckets, so only the window's matches are fetched.
    The first window is one bucket; the next is sized from the matches found so far (at most
    4x the range covered, so a rare word takes a few statements), until CANDIDATES matched or
    the oldest bucket is covered. Every match newer than the last window was seen, so these
    are exactly the newest CANDIDATES one statement would keep."""
    low, high = session.execute(
        select(func.min(SearchDocument.id), func.max(SearchDocument.id))
    ).one()
    if high is None:
        return []
    matches = select(SearchDocument.id, SearchDocument.incident_id, SearchDocument.kind).where(
        matched_documents("postgresql", query.words)
    )
    if filters:
        matches = matches.join(Incident, Incident.id == SearchDocument.incident_id).where(*filters)
    if query.kinds:
        matches = matches.where(SearchDocument.kind.in_(query.kinds))
    first, last = low // index.BUCKET_IDS, high // index.BUCKET_IDS
    found: list[Match] = []
    top, size = last, 1  # the window is the buckets top - size + 1 .. top
    while True:
        bottom = top - size + 1
        if bottom > first:
            buckets = [index.bucket_token(b) for b in range(bottom, top + 1)]
            window = matches.where(_grams().op("&&")(cast(array(buckets), ARRAY(Text))))
        else:
            # The rest: no bucket list (it could be long); the newer windows' matches that the
            # index gives again are dropped by id (`+ 0`: not a reason to walk the key).
            window = matches.where(SearchDocument.id + 0 < (top + 1) * index.BUCKET_IDS)
        # Sorted here, not by key order: the planner would walk the key testing every row.
        rows = session.execute(
            window.order_by((SearchDocument.id + 0).desc()).limit(CANDIDATES - len(found))
        )
        found += [Match(*row) for row in rows]
        if len(found) >= CANDIDATES or bottom <= first:
            return found
        covered = last - bottom + 1
        wanted = 4 * covered  # nothing yet: widen geometrically
        if found:
            wanted = math.ceil(covered * CANDIDATES / len(found) * WINDOW_MARGIN)
        size = max(1, min(wanted, 4 * covered) - covered)
        top = bottom - 1


def matched_documents(dialect: str, words: list[str]) -> ColumnElement[bool]:
    """Documents holding every word, through the bigram index."""
    if dialect == "sqlite":
        fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :match").bindparams(
            match=index.fts_match(words)
        )
        return SearchDocument.id.in_(fts.columns(SearchDocument.id.expression))
    grams = _grams().op("@>")(cast(array(index.pg_grams(words)), ARRAY(Text)))
    # The grams are candidates; a longer word must occur as itself (in this order of letters).
    # A word of one or two letters is one gram, so holding it is occurring: no re-check.
    longer = [word for word in words if len(word) > 2]
    if not longer:
        return grams
    return and_(grams, _contains(dialect, func.lower(SearchDocument.body), longer))


def _grams() -> ColumnElement[Any]:
    """PostgreSQL's grams column, which the model does not describe (index.include_name)."""
    return literal_column("search_documents.grams")


def _contains(dialect: str, haystack: ColumnElement[str], words: list[str]) -> ColumnElement[bool]:
    find = func.instr if dialect == "sqlite" else func.strpos
    return and_(*[find(haystack, word) > 0 for word in words])


def _filters(dialect: str, query: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.category:
        found.append(Incident.category == query.category)
    if query.severity:
        found.append(Incident.severity.in_(query.severity))
    if query.status:
        found.append(Incident.status.in_(query.status))
    if query.since:
        found.append(Incident.declared_at >= query.since)
    if query.until:
        found.append(Incident.declared_at <= query.until)
    if query.service:
        found.append(incidents.lists_hold("services", query.service))
    if query.tag:
        found.append(incidents.lists_hold("tags", query.tag))
    return found


def _hits(session: Session, dialect: str, query: SearchQuery, ids: list[str]) -> list[SearchHit]:
    if not ids:
        return []
    incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
    documents: dict[str, list[SearchDocument]] = {}
    if query.words:
        # The page's few documents are checked here rather than by the index again.
        docs = select(SearchDocument).where(SearchDocument.incident_id.in_(ids))
        if query.kinds:
            docs = docs.where(SearchDocument.kind.in_(query.kinds))
        for doc in session.scalars(docs.order_by(SearchDocument.id)):
            lowered = doc.body.lower()
            if all(word in lowered for word in query.words):
                documents.setdefault(doc.incident_id, []).append(doc)
    results = outcomes(session, list(incidents.values()))
    hits = []
    for incident_id in ids:
        incident = incidents[incident_id]
        found = documents.get(incident_id, [])
        best = max(found, key=lambda d: KIND_WEIGHT[d.kind], default=None)
        body = best.body if best else incident.summary or incident.title
        snippet, spans = cut_snippet(body, query.words)
        root_cause, fix = results.get(incident_id, (None, None))
        hits.append(
            SearchHit(
                id=incident.id,
                title=incident.title,
                severity=incident.severity,
                status=incident.status,
                declared_at=incident.declared_at,
                category=incident.category,
                services=list(incident.services or []),
                tags=list(incident.tags or []),
                kind=best.kind if best else "incident",
                kinds=sorted({d.kind for d in found}, key=index.KINDS.index),
                snippet=snippet,
                highlights=spans,
                root_cause=root_cause,
                fix=fix,
                recurrence_of=incident.recurrence_of,
            )
        )
    return hits


def outcomes(session: Session, incidents: Sequence[Incident]) -> dict[str, tuple[str | None, Fix]]:
    """Resolved incidents' root cause (the post-mortem's, else the resolution summary) and fix
    (the resolution summary and the post-mortem's measures)."""
    resolved = {i.id: i for i in incidents if i.status in RESOLVED}
    if not resolved:
        return {}
    postmortems = {
        p.incident_id: p
        for p in session.scalars(select(Postmortem).where(Postmortem.incident_id.in_(resolved)))
    }
    measures: dict[int, list[str]] = {}
    if postmortems:
        rows = session.execute(
            select(ActionItem.postmortem_id, ActionItem.title)
            .where(ActionItem.postmortem_id.in_([p.id for p in postmortems.values()]))
            .order_by(ActionItem.number)
        )
        for postmortem_id, title in rows:
            assert postmortem_id is not None
            measures.setdefault(postmortem_id, []).append(title)
    found: dict[str, tuple[str | None, Fix]] = {}
    for incident_id, incident in resolved.items():
        postmortem = postmortems.get(incident_id)
        cause = (postmortem.root_cause.strip() if postmortem else "") or incident.resolution_summary
        fix = Fix(
            summary=incident.resolution_summary,
            measures=measures.get(postmortem.id, []) if postmortem else [],
        )
        found[incident_id] = (cause or None, fix)
    return found


def cut_snippet(body: str, words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the text around its first match, and where the words are in it."""
    body = " ".join(body.split())
    lowered = body.lower()
    first = min((p for w in words if (p := lowered.find(w)) >= 0), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    end = min(len(body), start + SNIPPET_CHARS)
    start = max(0, min(start, end - SNIPPET_CHARS))
    prefix = "…" if start > 0 else ""
    snippet = prefix + body[start:end] + ("…" if end < len(body) else "")
    window = snippet.lower()
    spans: list[tuple[int, int]] = []
    for word in words:
        at = window.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = window.find(word, at + len(word))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return snippet, merged


def _encode(score: int, at: datetime, incident_id: str) -> str:
    raw = json.dumps([score, at.isoformat(), incident_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[int, datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        score, at, incident_id = json.loads(raw)
        return int(score), datetime.fromisoformat(at), str(incident_id)
    except (ValueError, TypeError) as exc:
        raise HaetaeError("INVALID_QUERY", "The cursor is not one this search gave.") from exc
