"""`haetae oncall`: the installed command against a real database."""

from __future__ import annotations

import pytest

from haetae.db import Database
from haetae.oncall import service as oncall
from haetae.oncall.schemas import ScheduleSpec
from tests.cli.conftest import Haetae, haetae
from tests.oncall.conftest import MADE, WEEKLY

assert haetae  # the fixture, for this folder

SPEC = {
    "id": "ops",
    "time_zone": "Asia/Seoul",
    "rotations": [
        WEEKLY,
        {
            "name": "backup",
            "layer": "secondary",
            "type": "daily",
            "handoff": "2026-03-02T09:00",
            "participants": ["carol", "bob"],
        },
    ],
}


@pytest.fixture
def ops(haetae: Haetae) -> Haetae:
    for name in ("alice", "bob", "carol"):
        haetae(f"user create {name} --password-stdin", stdin=f"{name}-password\n")
    database = Database(haetae.url)
    try:
        with database.session() as session:
            oncall.put_schedule(session, ScheduleSpec.model_validate(SPEC), now=MADE)
    finally:
        database.dispose()
    return haetae


def test_oncall_now_names_each_layer_and_until_when(ops):
    # Times without an offset are in the policy's zone (Asia/Seoul).
    answer = ops("oncall now --schedule ops --at 2026-03-10T12:00 --json").json()
    assert [(a["layer"], [u["username"] for u in a["users"]], a["until"]) for a in answer] == [
        ("primary", ["bob"], "2026-03-16T00:00:00Z"),
        ("secondary", ["carol"], "2026-03-11T00:00:00Z"),
    ]
    table = ops("oncall now --at 2026-03-10T12:00").out
    assert "primary" in table and "bob" in table and "03-16 09:00" in table


def test_oncall_shifts_lists_the_days_ahead(ops):
    found = ops(
        "oncall shifts ops --start 2026-03-02T09:00 --days 3 --layer secondary --json"
    ).json()
    assert [(s["user"], s["start"]) for s in found] == [
        ("carol", "2026-03-02T00:00:00Z"),
        ("bob", "2026-03-03T00:00:00Z"),
        ("carol", "2026-03-04T00:00:00Z"),
    ]
    assert "carol" in ops("oncall shifts ops --start 2026-03-02T09:00 --days 3").out


def test_oncall_override_puts_someone_on_call_and_refuses_strangers(ops):
    made = ops(
        "oncall override ops --user carol --replaces bob --start 2026-03-10T00:00 --end 2d --json",
        HAETAE_ACTOR="dana",
    ).json()
    assert (made["user"], made["replaces"], made["created_by"]) == ("carol", "bob", "dana")
    assert made["end"] == "2026-03-11T15:00:00Z"
    answer = ops("oncall now --schedule ops --at 2026-03-10T12:00 --json").json()
    assert [u["username"] for u in answer[0]["users"]] == ["carol"]
    said = ops("oncall override ops --user carol --start 2026-03-20T00:00 --end 2026-03-21T00:00")
    assert "override" in said.out and "carol" in said.out
    refused = ops("oncall override ops --user zed --start 2026-03-10 --end 1d", expect=3)
    assert "UNKNOWN_USER" in refused.err
    backwards = ops(
        "oncall override ops --user carol --start 2026-03-10T00:00 --end 2026-03-09T00:00",
        expect=3,
    )
    assert "end must be after start" in backwards.err
    missing = ops("oncall shifts nothing", expect=4)
    assert "NOT_FOUND" in missing.err
