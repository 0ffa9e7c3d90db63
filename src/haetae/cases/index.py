"""The case library's search index: one document per incident, post-mortem, note and decision,
kept by database triggers, and searched by character bigrams so Korean words match inside
words and with particles ("장애" finds "장애가"), on SQLite (FTS5) and PostgreSQL (GIN).

Why bigrams (docs/search.md has the measurements): FTS5's unicode61 tokenizer and PostgreSQL's
'simple' text search split on spaces only, so "장애" misses "장애가"; FTS5's trigram tokenizer
and pg_trgm never match a two-syllable term, and most Korean terms are two syllables. Every
bigram of the lower-cased text is indexed; a query term becomes the phrase of its bigrams
(FTS5: consecutive tokens, which is exactly "the term occurs"; PostgreSQL: the array of its
bigrams is contained, then re-checked with strpos). The bigrams are computed in SQL inside the
triggers, so every write path (ORM, raw SQL, other processes) keeps the index current.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from haetae.db import Base

KINDS = ("incident", "postmortem", "note", "decision")


class SearchDocument(Base):
    """The searchable text of one incident, post-mortem, note or decision. Written only by
    the triggers that migration 0011 installs; never by the application."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "source_id", name="uq_search_documents_source"),
        Index("ix_search_documents_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("incidents.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Source:
    """A table whose rows are documents: its plain text columns, its JSON lists, its JSON maps."""

    kind: str
    table: str
    incident_column: str
    texts: tuple[str, ...]
    lists: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.texts + self.lists + self.maps


SOURCES = (
    Source(
        "incident",
        "incidents",
        "id",
        ("title", "summary", "resolution_summary", "category"),
        ("services", "tags"),
    ),
    Source(
        "postmortem",
        "postmortems",
        "incident_id",
        ("title", "summary", "impact", "root_cause", "lessons"),
        ("whys", "contributing_factors", "went_well", "went_wrong", "lucky"),
        ("custom",),
    ),
    Source("note", "notes", "incident_id", ("body",)),
    Source("decision", "decisions", "incident_id", ("decision", "reason"), ("alternatives",)),
)
# Text past this many characters of one document is not indexed (it is kept and shown).
MAX_INDEXED_CHARS = 20_000
MAX_QUERY_CHARS = 200
# PostgreSQL: each document's grams also hold "id:<id // BUCKET_IDS>", its recency bucket. At
# least three characters, so never a gram (grams are one or two).
BUCKET_IDS = 4096
BUCKET_PREFIX = "id:"
MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+")


def terms(query: str) -> list[str]:
    """The words of a query: runs of letters and digits, lower-cased, each once. Everything
    else (quotes, `*`, `-`, parentheses) only separates words, so no query syntax of either
    database can be written by a user."""
    seen: list[str] = []
    for word in _WORD.findall(query.lower()):
        word = word[:64]
        if word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def bigrams(term: str) -> list[str]:
    """A term's bigrams in order; a one-character term is itself."""
    if len(term) < 2:
        return [term]
    return [term[i : i + 2] for i in range(len(term) - 1)]


def fts_match(words: list[str]) -> str:
    """The FTS5 MATCH expression for words that must all occur: each word is the phrase of its
    bigrams (a one-character word, a prefix). Only letters and digits go inside the quotes."""
    parts = []
    for word in words:
        if len(word) == 1:
            parts.append(f'"{word}"*')
        else:
            parts.append('"' + " ".join(bigrams(word)) + '"')
    return " AND ".join(parts)


def pg_grams(words: list[str]) -> list[str]:
    """The grams a PostgreSQL document must contain for all words to be candidates."""
    found: list[str] = []
    for word in words:
        for gram in bigrams(word):
            if gram not in found:
                found.append(gram)
    return found


def bucket_token(bucket: int) -> str:
    """The gram that every document whose id // BUCKET_IDS is `bucket` holds (PostgreSQL)."""
    return f"{BUCKET_PREFIX}{bucket}"


# The triggers' SQL, per database.


def _sqlite_body(source: Source, row: str) -> str:
    parts = [f"coalesce({row}.{c}, '')" for c in source.texts]
    parts += [
        f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.{c})), '')"
        for c in source.lists + source.maps
    ]
    return " || ' ' || ".join(parts)


def _pg_body(source: Source, row: str) -> str:
    parts = [f"coalesce({row}.{c}, '')" for c in source.texts]
    parts += [
        f"coalesce((SELECT string_agg(v, ' ') FROM json_array_elements_text(CASE WHEN "
        f"json_typeof({row}.{c}::json) = 'array' THEN {row}.{c}::json ELSE '[]'::json END) v)"
        ", '')"
        for c in source.lists
    ]
    parts += [
        f"coalesce((SELECT string_agg(value, ' ') FROM json_each_text(CASE WHEN "
        f"json_typeof({row}.{c}::json) = 'object' THEN {row}.{c}::json ELSE '{{}}'::json END))"
        ", '')"
        for c in source.maps
    ]
    return "concat_ws(' ', " + ", ".join(parts) + ")"


def _sqlite_grams(value: str) -> str:
    # Positions 0..n-1 from json_each over "[0,0,...]" (hex(zeroblob(n)) is n "00"s): SQLite
    # allows no WITH clause inside a trigger, and needs no helper table this way.
    # No lower(): the unicode61 tokenizer folds case itself.
    text = f"substr({value}, 1, {MAX_INDEXED_CHARS})"
    return (
        f"(SELECT coalesce(group_concat(substr({text}, key + 1, 2), ' '), '') FROM json_each("
        f"'[' || rtrim(replace(hex(zeroblob(length({text}))), '00', '0,'), ',') || ']'))"
    )


def sqlite_statements() -> list[str]:
    statements = [
        # Contentless: the text lives in search_documents; only the bigram index is here.
        "CREATE VIRTUAL TABLE search_fts USING fts5(grams, content='', "
        "tokenize='unicode61 remove_diacritics 0')",
        "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
        f"INSERT INTO search_fts(rowid, grams) VALUES (new.id, {_sqlite_grams('new.body')}); END",
        "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, grams) "
        f"VALUES ('delete', old.id, {_sqlite_grams('old.body')}); END",
        "CREATE TRIGGER search_documents_au AFTER UPDATE OF body ON search_documents BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, grams) "
        f"VALUES ('delete', old.id, {_sqlite_grams('old.body')}); "
        f"INSERT INTO search_fts(rowid, grams) VALUES (new.id, {_sqlite_grams('new.body')}); END",
    ]
    for s in SOURCES:
        statements += [
            f"CREATE TRIGGER search_{s.kind}_ai AFTER INSERT ON {s.table} BEGIN "
            "INSERT INTO search_documents(kind, source_id, incident_id, body) VALUES "
            f"('{s.kind}', CAST(new.id AS TEXT), new.{s.incident_column}, "
            f"{_sqlite_body(s, 'new')}); END",
            f"CREATE TRIGGER search_{s.kind}_au AFTER UPDATE OF {', '.join(s.columns)} "
            f"ON {s.table} BEGIN UPDATE search_documents SET body = {_sqlite_body(s, 'new')} "
            f"WHERE kind = '{s.kind}' AND source_id = CAST(new.id AS TEXT); END",
            f"CREATE TRIGGER search_{s.kind}_ad AFTER DELETE ON {s.table} BEGIN "
            "DELETE FROM search_documents "
            f"WHERE kind = '{s.kind}' AND source_id = CAST(old.id AS TEXT); END",
        ]
    return statements


def pg_statements() -> list[str]:
    statements = [
        # Unigrams too, so a one-character word is found through the index as well.
        "CREATE FUNCTION haetae_search_grams(body text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
        f"SELECT lower(substr($1, 1, {MAX_INDEXED_CHARS})) AS t) s, "
        "LATERAL generate_series(1, length(s.t)) i, "
        "LATERAL (VALUES (substr(s.t, i, 1)), (substr(s.t, i, 2))) AS grams(g) "
        "WHERE g <> '' $$",
        # Stored, not an expression index: the bitmap scan's recheck then reads the column
        # instead of computing the grams of every candidate again (measured: seconds).
        # Plus the document's recency bucket (bucket_token), so one GIN scan can take a word's
        # matches among the newest documents only (queries.newest_matches).
        "ALTER TABLE search_documents ADD COLUMN grams text[] "
        "GENERATED ALWAYS AS (haetae_search_grams(body) || "
        f"ARRAY['{BUCKET_PREFIX}' || (id / {BUCKET_IDS})::text]) STORED",
    ]
    for s in SOURCES:
        statements += [
            f"CREATE FUNCTION haetae_search_{s.kind}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'INSERT' THEN "
            "INSERT INTO search_documents(kind, source_id, incident_id, body) VALUES "
            f"('{s.kind}', NEW.id::text, NEW.{s.incident_column}, {_pg_body(s, 'NEW')}); "
            "ELSIF TG_OP = 'UPDATE' THEN "
            f"UPDATE search_documents SET body = {_pg_body(s, 'NEW')} "
            f"WHERE kind = '{s.kind}' AND source_id = NEW.id::text; "
            "ELSE "
            f"DELETE FROM search_documents WHERE kind = '{s.kind}' AND source_id = OLD.id::text; "
            "END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER search_{s.kind} AFTER INSERT OR DELETE OR UPDATE OF "
            f"{', '.join(s.columns)} ON {s.table} "
            f"FOR EACH ROW EXECUTE FUNCTION haetae_search_{s.kind}()",
        ]
    return statements


def backfill_statements(dialect: str) -> list[str]:
    """Index the rows written before the index existed."""
    body = _sqlite_body if dialect == "sqlite" else _pg_body
    cast = "CAST(r.id AS TEXT)" if dialect == "sqlite" else "r.id::text"
    return [
        "INSERT INTO search_documents(kind, source_id, incident_id, body) "
        f"SELECT '{s.kind}', {cast}, r.{s.incident_column}, {body(s, 'r')} FROM {s.table} r"
        for s in SOURCES
    ]


def install(connection: Connection) -> None:
    """Create the index's triggers (and FTS table or GIN index) and index existing rows."""
    dialect = connection.dialect.name
    statements = sqlite_statements() if dialect == "sqlite" else pg_statements()
    for statement in statements + backfill_statements(dialect):
        connection.exec_driver_sql(statement)
    if dialect == "postgresql":
        # Built after the backfill: one sorted build instead of a GIN insert per row, and no
        # pending list left behind for every search to read until autovacuum merges it.
        connection.exec_driver_sql(
            "CREATE INDEX ix_search_documents_grams ON search_documents USING gin (grams)"
        )
        # Statistics for the grams now, so the planner knows a word in half the documents
        # from a rare one (walk the newest rows vs. the GIN index) before autovacuum runs.
        connection.exec_driver_sql("ANALYZE search_documents")


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for s in SOURCES:
            for suffix in ("ai", "au", "ad"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS search_{s.kind}_{suffix}")
        connection.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
        return
    for s in SOURCES:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS search_{s.kind} ON {s.table}")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS haetae_search_{s.kind}()")
    connection.exec_driver_sql("DROP INDEX IF EXISTS ix_search_documents_grams")
    connection.exec_driver_sql("ALTER TABLE search_documents DROP COLUMN IF EXISTS grams")
    connection.exec_driver_sql("DROP FUNCTION IF EXISTS haetae_search_grams(text)")


def include_name(name: str | None, type_: str, parents: Mapping[Any, str | None]) -> bool:
    """For Alembic's comparison: FTS5's tables (search_fts*), and PostgreSQL's grams column
    and its index, belong to the index, which the models do not describe."""
    if type_ == "table":
        return not (name or "").startswith("search_fts")
    if type_ == "column" and parents.get("table_name") == "search_documents":
        return name != "grams"
    return not (type_ == "index" and name == "ix_search_documents_grams")
