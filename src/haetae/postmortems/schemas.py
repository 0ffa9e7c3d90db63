"""What crosses the API for post-mortems: the request bodies (the view and the list are the
frozen dataclasses of postmortems/queries.py, returned as they are)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, StringConstraints, model_validator

from haetae.inputs import Input, Timestamp

MAX_WHYS = 10
MAX_ITEMS = 100
MAX_KEY_EVENTS = 2_000
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Line = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
Lines = Annotated[list[Line], Field(max_length=MAX_ITEMS)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=200)]
IncidentId = Annotated[str, StringConstraints(min_length=1, max_length=32)]
SectionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

Term = Literal["short", "mid", "long"]
Priority = Literal["high", "medium", "low"]
ClassOfService = Literal["expedite", "fixed_date", "standard"]
Verdict = Literal["approved", "changes_requested"]


class PostmortemStart(Input):
    incident_id: IncidentId


class KeyEventIn(Input):
    """A pick from the incident's timeline ({event_id}, with an optional note, or text that
    replaces the event's words), or a row people write themselves ({at, text, note})."""

    event_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    at: Timestamp | None = None
    text: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    note: Annotated[str, StringConstraints(max_length=2_000)] = ""

    @model_validator(mode="after")
    def _pick_or_row(self) -> KeyEventIn:
        if self.event_id is None and (self.at is None or not self.text):
            raise ValueError("give event_id (a timeline event) or both at and text")
        return self


class PostmortemEdit(Input):
    """Only the fields given change. Lists replace the stored list (whys: the whole chain, in
    order). There is no field naming a person as a cause: post-mortems are blameless."""

    title: Title | None = None
    summary: LongText | None = None
    impact: LongText | None = None
    key_events: Annotated[list[KeyEventIn], Field(max_length=MAX_KEY_EVENTS)] | None = None
    whys: Annotated[list[Line], Field(max_length=MAX_WHYS)] | None = None
    root_cause: LongText | None = None
    contributing_factors: Lines | None = None
    went_well: Lines | None = None
    went_wrong: Lines | None = None
    lucky: Lines | None = None
    lessons: LongText | None = None
    custom: Annotated[dict[SectionId, LongText], Field(max_length=50)] | None = None
    author: Username | None = None
    meeting_at: Timestamp | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> PostmortemEdit:
        # null means "clear" only where a value may be absent (meeting_at); elsewhere it is a
        # mistake better refused than stored as an empty field.
        for name in self.model_fields_set - {"meeting_at"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class MeasureIn(Input):
    """A measure becomes an action item (AI-NNN); its due date defaults by term."""

    title: Title
    description: LongText = ""
    owner: Username | None = None
    due_date: date | None = None
    term: Term = "short"
    priority: Priority = "medium"
    class_of_service: ClassOfService | None = None
    tracker_url: HttpUrl | None = None


class ReviewersIn(Input):
    reviewers: Annotated[list[Username], Field(min_length=1, max_length=20)]


class SubmitIn(Input):
    reviewers: Annotated[list[Username], Field(max_length=20)] = Field(default_factory=list)


class ReviewIn(Input):
    verdict: Verdict
    comment: LongText = ""


class MeetingIn(Input):
    """Schedule the meeting (`at`), or record it as held (`held`: at `at`, else now)."""

    at: Timestamp | None = None
    held: bool = False

    @model_validator(mode="after")
    def _something(self) -> MeetingIn:
        if self.at is None and not self.held:
            raise ValueError("give at (when the meeting is), held: true, or both")
        return self
