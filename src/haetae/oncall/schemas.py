"""What crosses the API and the config file for schedules: rotations, restrictions,
overrides. Participants are usernames here; the tables hold user ids."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from haetae.inputs import Int32, Strict
from haetae.policy.schema import WEEKDAYS, Weekday, check_zone
from haetae.policy.terms import ID_PATTERN

ROTATION_TYPES = ("daily", "weekly", "custom")


class Restriction(Strict):
    """A weekly window in the rotation's zone in which it is on call. `end` at or before
    `start` crosses midnight: seed 001's weekday nights are {days: [mon..fri],
    start: "18:00", end: "09:00"}."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: time
    end: time


class RotationSpec(Strict):
    name: str = Field(min_length=1, max_length=100)
    layer: str = Field(default="primary", pattern=ID_PATTERN, max_length=32)
    priority: Int32 = 0
    type: Literal["daily", "weekly", "custom"] = "weekly"
    shift_length: int = Field(default=1, ge=1, le=1000)
    # Only for type custom; daily is days and weekly is weeks.
    shift_unit: Literal["hours", "days", "weeks"] | None = None
    # Local wall-clock time the first participant's first shift starts, e.g. 2026-01-05T09:00.
    handoff: datetime
    time_zone: str | None = None  # None: the schedule's
    participants: list[str] = Field(min_length=1)
    restrictions: list[Restriction] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("handoff")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError(
                "handoff is a local wall-clock time without an offset, e.g. 2026-01-05T09:00; "
                "the rotation's time_zone places it"
            )
        return value

    @model_validator(mode="after")
    def _unit(self) -> RotationSpec:
        if self.type == "custom" and self.shift_unit is None:
            raise ValueError("a custom rotation needs shift_unit: hours, days or weeks")
        if self.type != "custom" and self.shift_unit not in (None, self.unit):
            raise ValueError(f"a {self.type} rotation's shift_unit is {self.unit}")
        return self

    @property
    def unit(self) -> str:
        if self.type == "daily":
            return "days"
        if self.type == "weekly":
            return "weeks"
        return self.shift_unit or "days"


class OverrideSpec(Strict):
    layer: str = Field(default="primary", pattern=ID_PATTERN, max_length=32)
    user: str
    replaces: str | None = None  # only this person's shifts; None: the whole layer
    start: datetime
    end: datetime
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _span(self) -> OverrideSpec:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need an offset, e.g. 2026-03-01T09:00+09:00")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class ScheduleSpec(Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(default="", max_length=200)
    description: str = ""
    time_zone: str = "Asia/Seoul"
    team: str | None = None
    rotations: list[RotationSpec] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)


# What the API answers


class ScheduleOut(ScheduleSpec):
    layers: list[str] = Field(default_factory=list)
    ical_feed: bool = False  # whether a feed token exists (the URL is shown once)
    created_at: datetime | None = None


class ShiftOut(BaseModel):
    schedule: str
    layer: str
    user: str
    start: datetime
    end: datetime
    source: Literal["rotation", "override"]
    rotation: str | None = None
    override_id: int | None = None


class OverrideOut(BaseModel):
    id: int
    schedule: str
    layer: str
    user: str
    replaces: str | None
    start: datetime
    end: datetime
    note: str
    created_by: str
    created_at: datetime


class OnCallPerson(BaseModel):
    username: str
    display_name: str


class OnCallOut(BaseModel):
    """One layer of one schedule at a moment: who, since and until when (None: not within
    90 days)."""

    schedule: str
    schedule_name: str
    layer: str
    users: list[OnCallPerson]
    since: datetime | None
    until: datetime | None


class HandoffIn(Strict):
    layer: str = Field(default="primary", pattern=ID_PATTERN, max_length=32)
    # The hand-off the note is about; None: the latest one at or before now.
    shift_start: datetime | None = None
    checklist: dict[str, bool] = Field(default_factory=dict)
    body: str = Field(default="", max_length=20000)

    @field_validator("shift_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("shift_start needs an offset, e.g. 2026-03-02T09:00+09:00")
        return value


class ChecklistAnswer(BaseModel):
    id: str
    text: str
    done: bool


class HandoffOut(BaseModel):
    id: int
    schedule: str
    layer: str
    shift_start: datetime
    from_user: str | None
    to_user: str | None
    checklist: list[ChecklistAnswer]
    body: str
    author: str
    created_at: datetime


class IcalFeed(BaseModel):
    """A new feed URL; it holds the secret and is shown this once."""

    url: str
