"""Factories for on-call tests: users made through the user service, schedules from specs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from haetae.auth import service as users
from haetae.db import Database
from haetae.oncall import service as oncall
from haetae.oncall.models import Schedule
from haetae.oncall.schemas import ScheduleSpec

MADE = datetime(2026, 1, 1, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")
# The rotation most on-call tests start from: alice and bob by the week from Monday 2026-03-02.
WEEKLY = {
    "name": "weekly",
    "type": "weekly",
    "handoff": "2026-03-02T09:00",
    "participants": ["alice", "bob"],
}
PEOPLE = ("alice", "bob", "carol", "dave", "erin")


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """One write transaction for the test, committed at its end; the people exist."""
    with db.session() as open_session:
        for name in PEOPLE:
            users.create_user(open_session, username=name, password=None, now=MADE)
        yield open_session


@pytest.fixture
def make_schedule(session: Session) -> Callable[..., Schedule]:
    def make(**spec: Any) -> Schedule:
        spec.setdefault("id", "ops")
        return oncall.put_schedule(session, ScheduleSpec.model_validate(spec), now=MADE)

    return make


def seoul(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def who(session: Session, schedule: Schedule, at: datetime, layer: str = "primary") -> list[str]:
    return [u.username for u in oncall.on_call(session, schedule.id, layer=layer, at=at)]
