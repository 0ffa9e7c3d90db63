"""Fixtures for engine tests: people who can be paged, an on-call schedule, a worker that
runs when the test says, and a real SMTP server and webhook receiver to page them on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from haetae.auth import service as users
from haetae.clock import utcnow
from haetae.db import Database
from haetae.oncall import service as oncall
from haetae.oncall.schemas import RotationSpec, ScheduleSpec
from haetae.people.models import ContactMethod, NotificationRule

MakeUser = Callable[..., int]


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    def make(
        username: str,
        *urls: str,
        locale: str = "en",
        delays: tuple[int, ...] = (),
        role: str = "responder",
    ) -> int:
        """A user with contact methods in fallback order; `delays` adds notification rules
        (one per contact method, in minutes after the page)."""
        now = utcnow()
        with db.session() as session:
            user = users.create_user(
                session,
                username=username,
                password=None,
                role=role,
                display_name=username.title(),
                email=f"{username}@example.com",
                locale=locale,
                now=now,
            )
            for position, url in enumerate(urls):
                method = ContactMethod(
                    user_id=user.id,
                    name=f"{url.split(':', 1)[0]}-{position}",
                    kind=url.split(":", 1)[0],
                    url=url,
                    position=position,
                    enabled=True,
                    created_at=now,
                )
                session.add(method)
                session.flush()
                if position < len(delays):
                    session.add(
                        NotificationRule(
                            user_id=user.id,
                            contact_method_id=method.id,
                            delay_minutes=delays[position],
                        )
                    )
            return user.id

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
