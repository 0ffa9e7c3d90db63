"""iCal feeds of shifts (RFC 5545) per schedule and per person, behind secret URL tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.oncall import service as oncall
from haetae.oncall.models import Schedule
from haetae.oncall.service import Shift

BEHIND = timedelta(days=7)
AHEAD = timedelta(days=60)
# Shifts are computed from further back so that the one in progress keeps its real start
# (and so its UID) however long ago it began.
_LOOKBACK = timedelta(days=45)
PRODID = "-//Haetae//On-call schedules//EN"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A secret for a feed URL and the hash that is stored."""
    token = secrets.token_urlsafe(24)
    return token, _digest(token)


def matches(stored_hash: str | None, token: str | None) -> bool:
    if not stored_hash or not token:
        return False
    return hmac.compare_digest(stored_hash, _digest(token))


def schedule_feed_url(base_url: str, slug: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ical/schedules/{quote(slug)}.ics?token={token}"


def user_feed_url(base_url: str, username: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ical/users/{quote(username)}.ics?token={token}"


def _window(session: Session, schedule: Schedule, now: datetime) -> list[Shift]:
    found = oncall.shifts(session, schedule.id, start=now - BEHIND - _LOOKBACK, end=now + AHEAD)
    return [s for s in found if s.end > now - BEHIND]


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(shift: Shift, schedule: Schedule, summary: str, now: datetime) -> Event:
    event = Event()
    stamp = shift.start.strftime("%Y%m%dT%H%M%SZ")
    event.add("uid", f"shift-{schedule.id}-{shift.layer}-{shift.user_id}-{stamp}@haetae")
    event.add("dtstamp", now)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", summary)
    how = "override" if shift.source == "override" else "rotation"
    event.add(
        "description",
        f"{shift.username} on call for {schedule.name} ({shift.layer} layer, by {how})",
    )
    event.add("transp", "TRANSPARENT")
    return event


def schedule_feed(session: Session, schedule: Schedule, *, now: datetime) -> bytes:
    """Everyone's shifts on the schedule: 7 days back (and the one in progress) to 60 ahead."""
    calendar = _calendar(f"On call: {schedule.name}")
    for shift in _window(session, schedule, now):
        summary = f"{shift.username} on call ({shift.layer})"
        calendar.add_component(_event(shift, schedule, summary, now))
    return calendar.to_ical()


def user_feed(session: Session, user: User, *, now: datetime) -> bytes:
    """One person's shifts on every schedule, over the same window."""
    calendar = _calendar(f"On call: {user.display_name or user.username}")
    for schedule in oncall.list_schedules(session):
        for shift in _window(session, schedule, now):
            if shift.user_id == user.id:
                summary = f"On call: {schedule.name} ({shift.layer})"
                calendar.add_component(_event(shift, schedule, summary, now))
    return calendar.to_ical()


def user_by_token(session: Session, username: str, token: str | None) -> User | None:
    user = session.scalars(select(User).where(User.username == username)).first()
    return (
        user if user is not None and user.active and matches(user.ical_token_hash, token) else None
    )


def schedule_by_token(session: Session, slug: str, token: str | None) -> Schedule | None:
    schedule = oncall.schedule_by_slug(session, slug)
    return schedule if schedule is not None and matches(schedule.ical_token_hash, token) else None
