"""Times on the command line: typed in the policy's zone, shown in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import typer

from haetae.cli.common import EXIT_INVALID, local_time, parse_time

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

AT = datetime(2026, 11, 21, 5, 30, tzinfo=UTC)  # 14:30 in Seoul


def test_durations_count_from_now_or_back_from_it(policy):
    assert parse_time("15m", policy, at=AT) == datetime(2026, 11, 21, 5, 45, tzinfo=UTC)
    assert parse_time("2h", policy, at=AT, ago=True) == datetime(2026, 11, 21, 3, 30, tzinfo=UTC)


def test_a_time_without_zone_is_in_the_policys_zone(policy):
    assert parse_time("2026-11-21T15:00", policy, at=AT) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert parse_time("2026-11-21T15:00Z", policy, at=AT).hour == 15


def test_anything_else_is_invalid_input(policy):
    with pytest.raises(typer.Exit) as exited:
        parse_time("soon", policy, at=AT)
    assert exited.value.exit_code == EXIT_INVALID


def test_stored_utc_is_shown_in_the_policys_zone(policy):
    assert local_time(AT, policy) == "2026-11-21 14:30 KST"
    assert local_time(AT, policy, short=True) == "11-21 14:30"
    assert local_time(None, policy) == "-"
