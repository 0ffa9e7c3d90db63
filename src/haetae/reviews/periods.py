"""The periods a review covers, in the policy's zone: weekly is Monday to Sunday, monthly a
calendar month; and when the policy's schedule last asked for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from haetae.errors import HaetaeError
from haetae.policy.measures import ReviewSchedule

Kind = Literal["weekly", "monthly"]
KINDS: tuple[Kind, ...] = ("weekly", "monthly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Period:
    kind: Kind
    first: date  # the first day, in the policy's zone
    last: date  # the last day, included

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period in UTC: from the first day's midnight to the midnight after the last
        (a DST change inside it makes it an hour shorter or longer, as the days were)."""
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise HaetaeError("VALIDATION_ERROR", "kind must be weekly or monthly", field="kind")
    return kind


def period_of(kind: Kind, day: date) -> Period:
    """The period that holds `day`."""
    if kind == "weekly":
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=6))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, first, following - timedelta(days=1))


def last_full(kind: Kind, now: datetime, zone: ZoneInfo) -> Period:
    """The last period that has ended by `now`: last week (Monday to Sunday), last month."""
    today = now.astimezone(zone).date()
    if kind == "weekly":
        return period_of(kind, today - timedelta(days=7))
    return period_of(kind, today.replace(day=1) - timedelta(days=1))


def last_due(kind: Kind, schedule: ReviewSchedule, now: datetime, zone: ZoneInfo) -> datetime:
    """The latest moment at or before `now` the schedule asked for a report (weekly: its
    weekday at `at`; monthly: its day at `at`), in UTC."""
    today = now.astimezone(zone).date()
    if kind == "weekly":
        back = (today.weekday() - WEEKDAYS.index(schedule.weekday)) % 7
        moment = datetime.combine(today - timedelta(days=back), schedule.at, tzinfo=zone)
        if moment > now:
            moment = datetime.combine(today - timedelta(days=back + 7), schedule.at, tzinfo=zone)
        return moment.astimezone(UTC)
    moment = datetime.combine(today.replace(day=schedule.day), schedule.at, tzinfo=zone)
    if moment > now:
        previous = today.replace(day=1) - timedelta(days=1)
        moment = datetime.combine(previous.replace(day=schedule.day), schedule.at, tzinfo=zone)
    return moment.astimezone(UTC)
