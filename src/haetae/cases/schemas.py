"""What the case library sends and receives over the API: search hits, similar incidents,
recurrence marks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HitKind = Literal["incident", "postmortem", "note", "decision"]
ReasonKind = Literal["service", "category", "fingerprint", "label", "tag", "text"]


class Fix(BaseModel):
    """What fixed a resolved incident: its resolution summary and its post-mortem's measures."""

    summary: str | None
    measures: list[str]


class SearchHit(BaseModel):
    id: str
    title: str
    severity: str
    status: str
    declared_at: datetime
    category: str | None
    services: list[str]
    tags: list[str]
    kind: HitKind = Field(description="where the best match is")
    kinds: list[HitKind] = Field(description="every kind of document that matched")
    snippet: str
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets of the matches within the snippet"
    )
    root_cause: str | None = Field(
        description="resolved incidents: the post-mortem's root cause, else the resolution"
    )
    fix: Fix | None
    recurrence_of: str | None


class SearchPage(BaseModel):
    items: list[SearchHit]
    limit: int
    next_cursor: str | None = Field(description="pass as cursor for the next page; null: last")


class Reason(BaseModel):
    kind: ReasonKind
    value: str


class SimilarIncident(BaseModel):
    id: str
    title: str
    severity: str
    status: str
    declared_at: datetime
    score: float
    reasons: list[Reason]
    root_cause: str | None
    fix: Fix | None
    recurrence_of: str | None
    is_marked: bool = Field(description="the asked-about incident is marked a recurrence of it")


class RecurrenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    of: str = Field(max_length=32, description="the earlier incident's ID")


class RecurrenceOut(BaseModel):
    incident_id: str
    recurrence_of: str | None
