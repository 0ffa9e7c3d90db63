"""Rotations on the wall clock: DST hand-offs, restriction windows, layers, no holes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from haetae.oncall import service as oncall
from haetae.oncall.rotation import RotationPlan, layer_timeline, rotation_pieces
from tests.oncall.conftest import SEOUL, seoul, who

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def rotation(**fields):
    base = {
        "name": "weekly",
        "type": "weekly",
        "handoff": "2026-01-05T09:00",
        "participants": ["alice", "bob", "carol"],
    }
    return {**base, **fields}


def test_weekly_rotation_in_new_york_hands_off_at_0900_local_across_both_dst_changes(
    session, make_schedule
):
    schedule = make_schedule(time_zone="America/New_York", rotations=[rotation()])
    found = oncall.shifts(session, schedule.id, start=ny(2026, 2, 23, 9), end=ny(2026, 11, 30, 9))
    assert len(found) == 40  # one a week, none lost or doubled
    for shift in found:
        local = shift.start.astimezone(NY)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0), local
    hours = {s.start.astimezone(NY).date().isoformat(): s.end - s.start for s in found}
    assert hours["2026-03-02"] == timedelta(hours=167)  # clocks spring forward on 03-08
    assert hours["2026-03-09"] == timedelta(hours=168)
    assert hours["2026-10-26"] == timedelta(hours=169)  # and fall back on 11-01
    # The same local hand-off before and after each change, at different UTC times.
    assert who(session, schedule, ny(2026, 3, 9, 8, 59)) != who(
        session, schedule, ny(2026, 3, 9, 9)
    )
    assert ny(2026, 3, 9, 9).astimezone(UTC).hour == 13
    assert ny(2026, 11, 2, 9).astimezone(UTC).hour == 14
    [monday] = [s for s in found if s.start == ny(2026, 11, 2, 9)]
    assert who(session, schedule, ny(2026, 11, 2, 9)) == [monday.username]
    # participants take turns in order, counted from the anchor
    assert [s.username for s in found[:4]] == ["bob", "carol", "alice", "bob"]


def test_a_hand_off_in_the_spring_forward_gap_happens_at_the_offset_before_the_gap(
    session, make_schedule
):
    # 02:30 does not exist in New York on 2026-03-08: read with EST it is 03:30 EDT.
    schedule = make_schedule(
        time_zone="America/New_York",
        rotations=[rotation(type="daily", handoff="2026-03-01T02:30")],
    )
    found = oncall.shifts(session, schedule.id, start=ny(2026, 3, 7, 12), end=ny(2026, 3, 9, 12))
    starts = [s.start for s in found[1:]]
    assert starts == [ny(2026, 3, 8, 3, 30), ny(2026, 3, 9, 2, 30)]
    assert starts[0] == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert found[1].end - found[1].start == timedelta(hours=23)


def test_an_ambiguous_fall_back_hand_off_happens_at_the_first_occurrence(session, make_schedule):
    schedule = make_schedule(
        time_zone="America/New_York",
        rotations=[rotation(type="daily", handoff="2026-10-25T01:30")],
    )
    found = oncall.shifts(session, schedule.id, start=ny(2026, 10, 31, 12), end=ny(2026, 11, 2, 12))
    # 01:30 happens twice on 2026-11-01; the hand-off is at the first (EDT, 05:30 UTC).
    assert found[1].start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert found[1].end - found[1].start == timedelta(hours=25)


def test_hourly_rotations_follow_the_wall_clock_and_skip_the_hour_that_does_not_exist(
    session, make_schedule
):
    schedule = make_schedule(
        time_zone="America/New_York",
        rotations=[
            rotation(
                type="custom",
                shift_unit="hours",
                handoff="2026-03-08T00:00",
                participants=["alice", "bob", "carol", "dave"],
            )
        ],
    )
    found = oncall.shifts(session, schedule.id, start=ny(2026, 3, 8, 0), end=ny(2026, 3, 8, 5))
    # 02:00 local does not exist: carol's shift there has no length.
    assert [(s.username, s.start.astimezone(NY).hour) for s in found] == [
        ("alice", 0),
        ("bob", 1),
        ("dave", 3),
        ("alice", 4),
    ]
    assert all(s.end - s.start == timedelta(hours=1) for s in found)
    fall = oncall.shifts(session, schedule.id, start=ny(2026, 11, 1, 0), end=ny(2026, 11, 1, 3))
    # 01:00 local happens twice: that shift runs from the first 01:00 to 02:00 EST.
    assert [s.end - s.start for s in fall] == [
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=1),
    ]


def test_before_the_anchor_the_rotation_runs_backwards_without_a_hole(session, make_schedule):
    schedule = make_schedule(time_zone="Asia/Seoul", rotations=[rotation()])
    assert who(session, schedule, seoul(2026, 1, 5, 9)) == ["alice"]
    assert who(session, schedule, seoul(2026, 1, 5, 8, 59)) == ["carol"]
    assert who(session, schedule, seoul(2025, 12, 22, 9)) == ["bob"]


SEED_001_HOURS = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "09:00"},
    {"days": ["sat", "sun"], "start": "09:00", "end": "09:00"},
]


def test_seed_001_on_call_hours_weekday_nights_and_whole_weekends(session, make_schedule):
    schedule = make_schedule(
        time_zone="Asia/Seoul",
        rotations=[rotation(handoff="2026-03-02T09:00", restrictions=SEED_001_HOURS)],
    )
    # Week of Monday 2026-03-02: alice.
    assert who(session, schedule, seoul(2026, 3, 2, 12)) == []  # business hours
    assert who(session, schedule, seoul(2026, 3, 2, 17, 59)) == []
    assert who(session, schedule, seoul(2026, 3, 2, 18)) == ["alice"]
    assert who(session, schedule, seoul(2026, 3, 3, 8, 59)) == ["alice"]
    assert who(session, schedule, seoul(2026, 3, 3, 9)) == []
    assert who(session, schedule, seoul(2026, 3, 7, 14)) == ["alice"]  # Saturday afternoon
    assert who(session, schedule, seoul(2026, 3, 9, 8)) == ["alice"]  # Monday before 09:00
    # The rotation kept advancing during the day: bob's first night is Monday's.
    assert who(session, schedule, seoul(2026, 3, 9, 12)) == []
    assert who(session, schedule, seoul(2026, 3, 9, 18)) == ["bob"]
    found = oncall.shifts(session, schedule.id, start=seoul(2026, 3, 2), end=seoul(2026, 3, 9))
    assert [(s.start.astimezone(SEOUL).strftime("%a %H:%M"), s.end - s.start) for s in found] == [
        ("Mon 00:00", timedelta(hours=9)),  # carol's Sunday night, clipped to the range
        ("Mon 18:00", timedelta(hours=15)),
        ("Tue 18:00", timedelta(hours=15)),
        ("Wed 18:00", timedelta(hours=15)),
        ("Thu 18:00", timedelta(hours=15)),
        ("Fri 18:00", timedelta(hours=54)),  # Friday night through the weekend
    ]


def test_the_highest_priority_covering_rotation_of_a_layer_wins_and_layers_are_apart(
    session, make_schedule
):
    daytime = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}]
    schedule = make_schedule(
        time_zone="Asia/Seoul",
        rotations=[
            rotation(name="around the clock", participants=["alice"]),
            rotation(name="office", priority=10, participants=["bob"], restrictions=daytime),
            rotation(name="backup", layer="secondary", participants=["carol", "dave"]),
        ],
    )
    assert who(session, schedule, seoul(2026, 3, 4, 10)) == ["bob"]
    assert who(session, schedule, seoul(2026, 3, 4, 20)) == ["alice"]
    assert who(session, schedule, seoul(2026, 3, 7, 10)) == ["alice"]  # Saturday
    assert who(session, schedule, seoul(2026, 3, 4, 10), "secondary") == ["carol"]
    assert who(session, schedule, seoul(2026, 3, 4, 10), "tertiary") == []
    assert oncall.layers_of(session, schedule.id) == ["primary", "secondary"]


def test_shift_changes_name_each_hand_off_including_going_off_duty(session, make_schedule):
    schedule = make_schedule(
        time_zone="Asia/Seoul",
        rotations=[rotation(handoff="2026-03-02T09:00", restrictions=SEED_001_HOURS)],
    )
    ids = {u: oncall.user_by_name(session, u, field="").id for u in ("alice", "bob", "carol")}
    changes = oncall.shift_changes(session, start=seoul(2026, 3, 2, 9), end=seoul(2026, 3, 3, 9))
    # [start, end): carol's Sunday night ending at the start counts, alice's at the end not.
    assert [(c.at, c.from_user_id, c.to_user_id) for c in changes] == [
        (seoul(2026, 3, 2, 9), ids["carol"], None),
        (seoul(2026, 3, 2, 18), None, ids["alice"]),
    ]
    later = oncall.shift_changes(session, start=seoul(2026, 3, 3, 9), end=seoul(2026, 3, 9, 18, 1))
    assert [(c.at.astimezone(SEOUL).strftime("%m-%d %H:%M"), c.to_user_id) for c in later][-2:] == [
        ("03-09 09:00", None),
        ("03-09 18:00", ids["bob"]),
    ]
    assert all(c.schedule_id == schedule.id and c.layer == "primary" for c in later)


ZONES = sorted(
    z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    unit=st.sampled_from(["hours", "days", "weeks"]),
    length=st.integers(min_value=1, max_value=5),
    anchor=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1)),
    offset=st.integers(min_value=-400, max_value=400),  # days from the anchor
    people=st.integers(min_value=1, max_value=4),
    second=st.booleans(),
)
def test_a_layer_without_restrictions_has_no_gaps_or_overlaps(
    zone, unit, length, anchor, offset, people, second
):
    tz = ZoneInfo(zone)
    plans = [RotationPlan(1, "primary", 0, length, unit, anchor, tz, tuple(range(people)))]
    if second:  # another rotation of the same layer, on another anchor and priority
        shifted = anchor + timedelta(hours=7)
        plans.append(RotationPlan(2, "primary", 1, 1, "days", shifted, tz, (7, 8)))
    start = anchor.replace(tzinfo=UTC) + timedelta(days=offset)
    end = start + (timedelta(days=4) if unit == "hours" else timedelta(days=45))
    for pieces in (
        rotation_pieces(plans[0], start, end),
        layer_timeline("primary", plans, [], start, end),
    ):
        assert pieces[0].start == start and pieces[-1].end == end
        for before, after in itertools.pairwise(pieces):
            assert before.end == after.start
            assert before.start < before.end
