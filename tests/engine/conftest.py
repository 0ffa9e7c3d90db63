"""Fixtures for engine tests: people who can be paged, an on-call schedule, a worker that
runs when the test says, and a real SMTP server and webhook receiver to page them on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from haetae.clock import utcnow
from haetae.db import Database
from haetae.oncall import service as oncall
from haetae.oncall.schemas import RotationSpec, ScheduleSpec
from tests.support import people

MakeUser = Callable[..., int]


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    def make(username: str, *urls: str, **fields: Any) -> int:
        """A pageable user (no password) with contact methods `urls`; see support/people.py."""
        fields.setdefault("display_name", username.title())
        fields.setdefault("email", f"{username}@example.com")
        return people.make_user(db, username, *urls, password=None, **fields)

    return make


@pytest.fixture
def oncall_schedule(db: Database) -> Callable[..., None]:
    def make(primary: list[str], secondary: list[str] | None = None, slug: str = "oncall") -> None:
        rotations = [
            RotationSpec(
                name="primary",
                layer="primary",
                handoff=datetime(2026, 1, 5, 9, 0),
                participants=primary,
            )
        ]
        if secondary:
            rotations.append(
                RotationSpec(
                    name="secondary",
                    layer="secondary",
                    handoff=datetime(2026, 1, 5, 9, 0),
                    participants=secondary,
                )
            )
        with db.session() as session:
            oncall.put_schedule(
                session,
                ScheduleSpec(id=slug, name="On-call", rotations=rotations),
                now=utcnow(),
            )

    return make
