"""The SQL pieces the metric reports are built from, the same on SQLite and PostgreSQL: the
week/month keys and business hours in the policy's zone as integer arithmetic over Unix
seconds, a timestamp column as Unix seconds, and nearest-rank percentiles by window functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, literal, or_
from sqlalchemy import case as sql_case

from haetae.policy.schema import Policy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86_400
MAX_PERIODS = 1_000


def epoch_of(column: Any, dialect: str) -> ColumnElement[int]:
    """A UTCDateTime column as Unix seconds (SQLite keeps it as ISO text in UTC)."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), BigInteger)


def periods(policy: Policy, start: datetime, end: datetime, kind: str) -> list[tuple[int, str]]:
    """[(first second, key)] of each week (ISO, from Monday 00:00) or month overlapping
    [start, end), in the policy's zone: a week holding a DST change is 167 or 169 hours."""
    zone = policy.zone
    first = start.astimezone(zone).date()
    day = first - timedelta(days=first.weekday()) if kind == "week" else first.replace(day=1)
    out: list[tuple[int, str]] = []
    while True:
        at = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
        if at >= end.timestamp() and out:
            break
        if kind == "week":
            iso = day.isocalendar()
            out.append((at, f"{iso.year}-W{iso.week:02d}"))
            day += timedelta(days=7)
        else:
            out.append((at, f"{day.year}-{day.month:02d}"))
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if len(out) > MAX_PERIODS:
            raise ValueError(f"the window holds more than {MAX_PERIODS} periods")
    return out


def period_key(seconds: Any, bounds: Sequence[tuple[int, str]]) -> ColumnElement[str]:
    """The key of the period holding `seconds` (bounds from `periods`)."""
    if len(bounds) == 1:
        return literal(bounds[0][1])
    whens = [(seconds < bounds[i + 1][0], bounds[i][1]) for i in range(len(bounds) - 1)]
    return sql_case(*whens, else_=bounds[-1][1])


def _offsets(zone: ZoneInfo, start: int, end: int) -> list[tuple[int, int]]:
    """[(from second, UTC offset in seconds)] of the zone between start and end."""

    def offset(at: int) -> int:
        value = datetime.fromtimestamp(at, UTC).astimezone(zone).utcoffset()
        return int(value.total_seconds()) if value else 0

    out = [(start, offset(start))]
    at = start
    while at < end:
        step = min(at + DAY, end)
        if offset(step) != out[-1][1]:
            low, high = at, step  # the change lies in (low, high]: find its second
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == out[-1][1] else (low, mid)
            out.append((high, offset(high)))
        at = step
    return out


def out_of_hours(policy: Policy, seconds: Any, start: int, end: int) -> ColumnElement[bool]:
    """Whether the Unix second `seconds` (a SQL expression) falls outside the policy's business
    hours in its zone; the zone's offsets are those in force between start and end."""
    changes = _offsets(policy.zone, start, end)
    if len(changes) == 1:
        local = seconds + changes[0][1]
    else:
        whens = [(seconds < changes[i + 1][0], changes[i][1]) for i in range(len(changes) - 1)]
        local = seconds + sql_case(*whens, else_=changes[-1][1])
    day = local // DAY  # integer division on both databases: whole days since 1970-01-01
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    second = local % DAY
    hours = policy.business_hours
    open_at = hours.start.hour * 3600 + hours.start.minute * 60 + hours.start.second
    close_at = hours.end.hour * 3600 + hours.end.minute * 60 + hours.end.second
    days = [WEEKDAYS.index(d) for d in hours.days]
    holidays = [(h - date(1970, 1, 1)).days for h in hours.holidays]
    closed = [
        weekday.not_in(days),
        second < open_at,
        second >= close_at,
    ]
    if holidays:
        closed.append(day.in_(holidays))
    return or_(*closed)


def rank(fraction_num: int, fraction_den: int, count: Any) -> Any:
    """The nearest rank ceil(count * num / den), in integer arithmetic."""
    return (count * fraction_num + fraction_den - 1) // fraction_den
