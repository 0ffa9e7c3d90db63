"""Newest-first lists read through their indexes: lanes, keyset cursors and bounded counts.

A list's filter becomes one or more *lanes*: queries whose rows come out of one index
already in the list's order (newest first, then the key), so the database reads only the
page's rows instead of sorting every match. A multi-valued filter (`status=resolved,closed`)
is one lane per value, merged here; each lane reads at most a page. A cursor is the
(timestamp, key) of the last row shown, so the next page starts in the index where the
last one ended however deep it is; `offset` still works, at the cost of reading the rows
it skips.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, func, select, tuple_, union_all
from sqlalchemy.orm import QueryableAttribute, Session

from haetae.clock import as_utc
from haetae.errors import HaetaeError

# How far a list counts its matches: past this it answers COUNT_CAP and says the count is
# capped ("10,000+"), so a count never reads a whole table.
COUNT_CAP = 10_000

Row = TypeVar("Row")
Key = tuple[datetime, Any]


@dataclass(frozen=True)
class Lane:
    """One query whose matches come out of an index ordered by (at, key)."""

    query: Select[Any]  # the filters, selecting the rows to show
    at: QueryableAttribute[Any]  # the timestamp column the index is ordered by
    key: QueryableAttribute[Any]  # the tie-breaker: the row's id


@dataclass(frozen=True)
class Slice(Generic[Row]):
    rows: list[Row]
    total: int
    total_capped: bool  # total is COUNT_CAP and more rows match
    next_cursor: str | None  # where the next page starts; None on the last page


def encode_cursor(at: datetime, key: Any) -> str:
    raw = json.dumps([as_utc(at).isoformat(), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type) -> Key:
    """The (timestamp, key) a cursor holds; a cursor this list did not give is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        if not isinstance(key, key_type) or isinstance(key, bool):
            raise ValueError(key)
        return as_utc(datetime.fromisoformat(at)), key
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise HaetaeError(
            "VALIDATION_ERROR", "cursor is not one this list gave.", field="cursor"
        ) from None


def page(
    session: Session,
    lanes: Sequence[Lane],
    *,
    sort_key: Callable[[Row], Key],
    limit: int,
    offset: int = 0,
    after: Key | None = None,
    count_cap: int | None = COUNT_CAP,
    rows_of: Callable[[Any], Row] = lambda row: row,
) -> Slice[Row]:
    """A page of the lanes' rows newest first, after `after` and `offset` rows, with the
    count of all matches (up to `count_cap`; None counts them all)."""
    want = offset + limit + 1  # one more than the page says whether another page follows
    parts: list[list[Row]] = []
    for lane in lanes:
        query = lane.query
        if after is not None:
            query = query.where(tuple_(lane.at, lane.key) < tuple_(*after))
        query = query.order_by(lane.at.desc(), lane.key.desc())
        # One lane pages in SQL; several each read up to the page's end, merged below.
        query = query.offset(offset).limit(limit + 1) if len(lanes) == 1 else query.limit(want)
        parts.append([rows_of(row) for row in session.execute(query)])
    merged = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, key=sort_key, reverse=True))
    skip = 0 if len(lanes) == 1 else offset
    rows = merged[skip : skip + limit]
    more = len(merged) > skip + limit
    total, capped = count(session, lanes, cap=count_cap)
    next_cursor = encode_cursor(*sort_key(rows[-1])) if more and rows else None
    return Slice(rows, total, capped, next_cursor)


def count(session: Session, lanes: Sequence[Lane], *, cap: int | None) -> tuple[int, bool]:
    """How many rows the lanes hold (they never overlap), reading at most cap + 1 of them,
    in one statement."""
    # Only the key: the count reads the index, not the rows.
    keys = [lane.query.with_only_columns(lane.key) for lane in lanes]
    query: Any = keys[0] if len(keys) == 1 else union_all(*keys)
    if cap is not None:
        query = query.limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if cap is not None and total > cap:
        return cap, True
    return total, False


def unindexed(column: QueryableAttribute[Any]) -> Any:
    """The column as an expression no index serves (SQLite's documented `+x` idiom): a
    filter checked on the rows the leading filter's index gives, so that the planner
    never drives the query, or its count, from a broader index instead."""
    if isinstance(column.type, Integer):
        return column + 0
    return column.concat("")
