"""Who is on call when: rotations on the wall clock, restriction windows, layers, overrides.

Pure computation over plain values (no database); service.py feeds it rows. Every
interval is half-open [start, end) in UTC. The rules are written down in docs/oncall.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNIT = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
# Bigger than any jump of a zone's clock (Samoa skipped a whole day in 2011).
_MAX_JUMP = timedelta(hours=26)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time in `zone` as UTC, by RFC 5545 3.3.5: an ambiguous time is its
    first occurrence and a nonexistent one (in a spring-forward gap) is read with the offset
    from before the gap. zoneinfo's fold=0 does exactly this."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_naive(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Window:
    """A weekly window: on each of `days`, from `start` to `end` local time; `end` at or
    before `start` runs into the next day (equal: 24 hours)."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class RotationPlan:
    id: int
    layer: str
    priority: int
    length: int
    unit: str  # hours | days | weeks
    handoff: datetime  # local wall-clock anchor, naive
    zone: ZoneInfo
    participants: tuple[int, ...]
    windows: tuple[Window, ...] = ()

    def naive_start(self, k: int) -> datetime:
        # Local arithmetic on naive datetimes is wall-clock arithmetic, for hours too.
        return self.handoff + k * self.length * _UNIT[self.unit]

    def user_at(self, k: int) -> int:
        return self.participants[k % len(self.participants)]


@dataclass(frozen=True)
class OverrideSlot:
    id: int
    layer: str
    user_id: int
    replaces_user_id: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Piece:
    """A stretch of one person's time in one layer."""

    layer: str
    user_id: int
    start: datetime
    end: datetime
    source: str  # rotation | override
    rotation_id: int | None = None
    override_id: int | None = None


# Rotations


def _raw_starts(plan: RotationPlan, first: int, last: int) -> list[datetime]:
    return [to_utc(plan.naive_start(k), plan.zone) for k in range(first, last + 1)]


def _lookahead(plan: RotationPlan) -> int:
    """How many shifts later a hand-off can still land before this one's (a zone's clock
    jumping by more than a shift length); 2 when shifts are longer than any jump."""
    step = plan.length * _UNIT[plan.unit]
    return int(_MAX_JUMP / step) + 2


def shift_starts(plan: RotationPlan, first: int, last: int) -> list[datetime]:
    """The UTC starts of shifts first..last. A hand-off that lands at or after a later one
    (only where a clock jumps by more than a shift) is moved to it, which skips the shift:
    starts never go backwards, so shifts neither overlap nor leave holes."""
    ahead = _lookahead(plan)
    raw = _raw_starts(plan, first, last + ahead)
    for i in range(len(raw) - 2, -1, -1):
        if raw[i + 1] < raw[i]:
            raw[i] = raw[i + 1]
    return raw[: last - first + 1]


def shift_index(plan: RotationPlan, at: datetime) -> int:
    """The shift in force at `at`: the last one that has started."""
    elapsed = local_naive(at, plan.zone) - plan.handoff
    k = elapsed // (plan.length * _UNIT[plan.unit])
    span = _lookahead(plan)
    while True:
        starts = shift_starts(plan, k - span, k + span)
        if at < starts[0]:
            k -= span
            continue
        if at >= starts[-1]:
            k += span
            continue
        # starts[0] <= at < starts[-1]: the answer is inside the window.
        last = max(i for i, s in enumerate(starts) if s <= at)
        return k - span + last


def rotation_pieces(plan: RotationPlan, start: datetime, end: datetime) -> list[Piece]:
    """The rotation's shifts overlapping [start, end), clipped to it and to its windows."""
    if end <= start or not plan.participants:
        return []
    first = shift_index(plan, start)
    last = shift_index(plan, end - timedelta(microseconds=1))
    starts = shift_starts(plan, first, last + 1)
    pieces = []
    for offset, k in enumerate(range(first, last + 1)):
        s, e = max(starts[offset], start), min(starts[offset + 1], end)
        if s < e:
            pieces.append(Piece(plan.layer, plan.user_at(k), s, e, "rotation", plan.id))
    if not plan.windows:
        return pieces
    return _within(pieces, restriction_windows(plan.windows, plan.zone, start, end))


def restriction_windows(
    windows: Iterable[Window], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The windows' occurrences overlapping [start, end), in UTC, merged."""
    windows = list(windows)
    day = local_naive(start, zone).date() - timedelta(days=2)
    last_day = local_naive(end, zone).date() + timedelta(days=1)
    spans: list[tuple[datetime, datetime]] = []
    while day <= last_day:
        for window in windows:
            if day.weekday() in window.days:
                spans.append(_occurrence(window, day, zone))
        day += timedelta(days=1)
    return _merge(
        [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start and s < e]
    )


def _occurrence(window: Window, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    begin = datetime.combine(day, window.start)
    finish = datetime.combine(day, window.end)
    if window.end <= window.start:
        finish += timedelta(days=1)
    return to_utc(begin, zone), to_utc(finish, zone)


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _within(pieces: list[Piece], spans: list[tuple[datetime, datetime]]) -> list[Piece]:
    kept = []
    for piece in pieces:
        for s, e in spans:
            lo, hi = max(piece.start, s), min(piece.end, e)
            if lo < hi:
                kept.append(_clip(piece, lo, hi))
    return kept


def _clip(piece: Piece, start: datetime, end: datetime) -> Piece:
    return Piece(
        piece.layer,
        piece.user_id,
        start,
        end,
        piece.source,
        piece.rotation_id,
        piece.override_id,
    )


# Layers


def layer_timeline(
    layer: str,
    plans: Sequence[RotationPlan],
    overrides: Sequence[OverrideSlot],
    start: datetime,
    end: datetime,
) -> list[Piece]:
    """One layer's final schedule over [start, end): at each moment the covering rotation
    with the highest priority (ties: the lower id), then the overrides from oldest to
    newest, each painted over what is there; one with `replaces_user_id` only where that
    person is on call by the rotations or by an older override. Adjacent pieces of the
    same person from the same source are joined."""
    ranked = sorted((p for p in plans if p.layer == layer), key=lambda p: (-p.priority, p.id))
    per_rotation = [rotation_pieces(plan, start, end) for plan in ranked]
    slots = sorted(
        (o for o in overrides if o.layer == layer and o.start < end and o.end > start),
        key=lambda o: o.id,
    )
    edges = {start, end}
    for pieces in per_rotation:
        for piece in pieces:
            edges.update((piece.start, piece.end))
    for slot in slots:
        edges.update((max(slot.start, start), min(slot.end, end)))
    cuts = sorted(edges)
    cursors = [0] * len(per_rotation)
    result: list[Piece] = []
    for s, e in pairwise(cuts):
        base: Piece | None = None
        for r, pieces in enumerate(per_rotation):
            while cursors[r] < len(pieces) and pieces[cursors[r]].end <= s:
                cursors[r] += 1
            if base is None and cursors[r] < len(pieces) and pieces[cursors[r]].start <= s:
                base = pieces[cursors[r]]
        current = base
        for slot in slots:
            if slot.start > s or slot.end < e:
                continue
            replaced = slot.replaces_user_id
            if replaced is None or (
                (base is not None and base.user_id == replaced)
                or (current is not None and current.user_id == replaced)
            ):
                current = Piece(layer, slot.user_id, s, e, "override", override_id=slot.id)
        if current is not None:
            _append(result, _clip(current, s, e))
    return result


def _append(result: list[Piece], piece: Piece) -> None:
    last = result[-1] if result else None
    if (
        last is not None
        and last.end == piece.start
        and (last.user_id, last.source, last.rotation_id, last.override_id)
        == (piece.user_id, piece.source, piece.rotation_id, piece.override_id)
    ):
        result[-1] = _clip(last, last.start, piece.end)
    else:
        result.append(piece)


def by_person(pieces: Iterable[Piece]) -> list[tuple[datetime, datetime, int]]:
    """(start, end, user) with adjacent stretches of one person joined whatever their
    source: what a hand-off is measured against."""
    joined: list[tuple[datetime, datetime, int]] = []
    for piece in pieces:
        if joined and joined[-1][1] == piece.start and joined[-1][2] == piece.user_id:
            joined[-1] = (joined[-1][0], piece.end, piece.user_id)
        else:
            joined.append((piece.start, piece.end, piece.user_id))
    return joined
