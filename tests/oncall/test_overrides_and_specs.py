"""Overrides above the rotations; schedules created and replaced from specs, idempotently."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from haetae.errors import HaetaeError
from haetae.oncall import service as oncall
from haetae.oncall.models import Rotation
from haetae.oncall.schemas import OverrideSpec, ScheduleSpec
from haetae.people.models import Team
from tests.oncall.conftest import MADE, SEOUL, seoul, who

DAILY = {
    "name": "daily",
    "type": "daily",
    "handoff": "2026-03-02T09:00",
    "participants": ["alice", "bob"],
}


def march_2(start: int, end: int) -> dict[str, datetime]:
    """An override's period on 2026-03-02, from `start` to `end` o'clock in Seoul."""
    return {"start": seoul(2026, 3, 2, start), "end": seoul(2026, 3, 2, end)}


def override(session, schedule, **fields):
    spec = OverrideSpec.model_validate(fields)
    return oncall.add_override(session, schedule.id, spec, by="tester", now=MADE)


@pytest.fixture
def daily(make_schedule):
    """alice on even days from 2026-03-02 09:00 KST, bob on odd ones."""
    return make_schedule(time_zone="Asia/Seoul", rotations=[DAILY])


def test_an_override_covers_its_whole_period_of_the_layer(session, daily):
    override(session, daily, user="carol", start=seoul(2026, 3, 2, 12), end=seoul(2026, 3, 3, 12))
    assert who(session, daily, seoul(2026, 3, 2, 11, 59)) == ["alice"]
    assert who(session, daily, seoul(2026, 3, 2, 12)) == ["carol"]
    assert who(session, daily, seoul(2026, 3, 3, 11)) == ["carol"]  # over bob's hand-off
    assert who(session, daily, seoul(2026, 3, 3, 12)) == ["bob"]
    found = oncall.shifts(session, daily.id, start=seoul(2026, 3, 2, 9), end=seoul(2026, 3, 4, 9))
    assert [(s.username, s.source, s.start.astimezone(SEOUL).hour) for s in found] == [
        ("alice", "rotation", 9),
        ("carol", "override", 12),
        ("bob", "rotation", 12),
    ]
    assert found[1].override_id is not None and found[1].rotation_id is None


def test_an_override_replacing_someone_covers_only_their_time(session, daily):
    override(
        session,
        daily,
        user="carol",
        replaces="alice",
        start=seoul(2026, 3, 2, 12),
        end=seoul(2026, 3, 5, 12),
    )
    assert who(session, daily, seoul(2026, 3, 2, 12)) == ["carol"]
    assert who(session, daily, seoul(2026, 3, 3, 12)) == ["bob"]  # bob's day stays his
    assert who(session, daily, seoul(2026, 3, 4, 12)) == ["carol"]
    assert who(session, daily, seoul(2026, 3, 5, 12)) == ["bob"]


def test_of_overlapping_overrides_the_newest_wins(session, daily):
    override(session, daily, user="carol", **march_2(10, 20))
    override(session, daily, user="dave", **march_2(14, 16))
    override(session, daily, user="erin", **march_2(12, 15))
    at = [who(session, daily, seoul(2026, 3, 2, h))[0] for h in (9, 11, 12, 14, 15, 17, 20)]
    assert at == ["alice", "carol", "erin", "erin", "dave", "carol", "alice"]


def test_a_newer_override_can_replace_whoever_an_older_one_put_on_call(session, daily):
    override(session, daily, user="carol", **march_2(10, 20))
    # carol is on call by the override: dave takes over carol's part...
    override(session, daily, user="dave", replaces="carol", **march_2(12, 14))
    # ...and erin replaces alice, who would be on call by the rotation.
    override(session, daily, user="erin", replaces="alice", **march_2(16, 18))
    at = [who(session, daily, seoul(2026, 3, 2, h))[0] for h in (11, 12, 14, 16, 18)]
    assert at == ["carol", "dave", "carol", "erin", "carol"]


def test_overrides_belong_to_one_layer(session, make_schedule):
    schedule = make_schedule(
        time_zone="Asia/Seoul",
        rotations=[DAILY, {**DAILY, "name": "backup", "layer": "secondary"}],
    )
    override(session, schedule, user="carol", layer="secondary", **march_2(10, 20))
    assert who(session, schedule, seoul(2026, 3, 2, 12)) == ["alice"]
    assert who(session, schedule, seoul(2026, 3, 2, 12), "secondary") == ["carol"]
    with pytest.raises(HaetaeError) as refused:
        override(session, schedule, user="carol", layer="tertiary", **march_2(10, 20))
    assert (refused.value.code, refused.value.details) == ("VALIDATION_ERROR", {"field": "layer"})


def test_removing_an_override_gives_the_time_back(session, daily):
    made = override(session, daily, user="carol", **march_2(10, 20))
    oncall.remove_override(session, daily.id, made.id)
    assert who(session, daily, seoul(2026, 3, 2, 12)) == ["alice"]
    with pytest.raises(HaetaeError) as missing:
        oncall.remove_override(session, daily.id, made.id)
    assert missing.value.code == "NOT_FOUND"


def test_an_override_for_an_unknown_person_names_the_field(session, daily):
    with pytest.raises(HaetaeError) as refused:
        override(session, daily, user="carol", replaces="zed", **march_2(10, 20))
    assert (refused.value.code, refused.value.details) == ("UNKNOWN_USER", {"field": "replaces"})


def test_a_single_persons_consecutive_shifts_are_one_shift_clipped_to_the_range(
    session, make_schedule
):
    schedule = make_schedule(time_zone="Asia/Seoul", rotations=[{**DAILY, "participants": ["bob"]}])
    found = oncall.shifts(session, schedule.id, start=seoul(2026, 3, 2, 12), end=seoul(2026, 3, 30))
    assert [(s.username, s.start, s.end) for s in found] == [
        ("bob", seoul(2026, 3, 2, 12), seoul(2026, 3, 30))
    ]


SPEC = {
    "id": "platform",
    "name": "Platform on-call",
    "time_zone": "Asia/Seoul",
    "team": "platform",
    "rotations": [
        {
            "name": "primary",
            "type": "weekly",
            "handoff": "2026-03-02T09:00",
            "participants": ["alice", "bob"],
            "restrictions": [{"days": ["mon"], "start": "18:00", "end": "09:00"}],
        },
        {
            "name": "secondary",
            "layer": "secondary",
            "type": "custom",
            "shift_unit": "hours",
            "shift_length": 12,
            "handoff": "2026-03-02T09:00",
            "time_zone": "America/New_York",
            "participants": ["carol"],
        },
    ],
}


@pytest.fixture
def team(session):
    found = Team(slug="platform", name="Platform", created_at=MADE)
    session.add(found)
    session.flush()
    return found


def _rotation_rows(session, schedule_id):
    rows = session.scalars(select(Rotation).where(Rotation.schedule_id == schedule_id))
    return {r.name: (r.id, r.layer, r.participants, r.time_zone) for r in rows}


def test_putting_the_same_spec_twice_changes_nothing_and_export_round_trips(session, team):
    spec = ScheduleSpec.model_validate(SPEC)
    schedule = oncall.put_schedule(session, spec, now=MADE)
    first = _rotation_rows(session, schedule.id)
    assert schedule.team_id == team.id and schedule.name == "Platform on-call"
    assert first["primary"][3] == "Asia/Seoul"  # the schedule's zone when the spec has none
    assert first["secondary"][3] == "America/New_York"

    again = oncall.put_schedule(session, spec, now=MADE + timedelta(days=1))
    assert again.id == schedule.id and not session.dirty
    assert _rotation_rows(session, schedule.id) == first
    exported = oncall.spec_of(session, schedule)
    assert exported == spec
    oncall.put_schedule(session, exported, now=MADE)
    assert _rotation_rows(session, schedule.id) == first and not session.dirty


def test_replacing_a_schedule_keeps_rotation_ids_by_name_and_drops_the_missing(session, team):
    schedule = oncall.put_schedule(session, ScheduleSpec.model_validate(SPEC), now=MADE)
    before = _rotation_rows(session, schedule.id)
    changed = {**SPEC, "rotations": [{**SPEC["rotations"][0], "participants": ["dave"]}]}
    oncall.put_schedule(session, ScheduleSpec.model_validate(changed), now=MADE)
    after = _rotation_rows(session, schedule.id)
    assert list(after) == ["primary"]
    assert after["primary"][0] == before["primary"][0]
    assert who(session, schedule, seoul(2026, 3, 2, 20)) == ["dave"]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"team": "nobody"}, "UNKNOWN_TEAM", "team"),
        (
            {"rotations": [{**SPEC["rotations"][0], "participants": ["alice", "zed"]}]},
            "UNKNOWN_USER",
            "rotations.0.participants.1",
        ),
        (
            {"rotations": [SPEC["rotations"][0], SPEC["rotations"][0]]},
            "VALIDATION_ERROR",
            "rotations.1.name",
        ),
    ],
)
def test_a_spec_naming_what_does_not_exist_is_refused_with_its_field(
    session, team, change, code, field
):
    with pytest.raises(HaetaeError) as refused:
        oncall.put_schedule(session, ScheduleSpec.model_validate({**SPEC, **change}), now=MADE)
    assert (refused.value.code, refused.value.details) == (code, {"field": field})
    assert oncall.schedule_by_slug(session, "platform") is None
