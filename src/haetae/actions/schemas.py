"""What crosses the API for action items and the board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from haetae.inputs import Input

Priority = Literal["high", "medium", "low"]
ClassName = Literal["expedite", "fixed_date", "standard"]
ColumnName = Literal["backlog", "in_progress", "review", "done"]
ITEMS_MAX_PAGE = 500  # GET /api/v1/action-items and `haetae actions list`
# A card reference in a move: AI-007 (or the row id).
Ref = str
_REF = r"^(?i:AI-|TI-)?\d{1,9}$"


def _web_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.lower().startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError("must be an http or https URL")
    return value


class ItemIn(Input):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    due_date: date | None = None
    priority: Priority = "medium"
    class_of_service: ClassName | None = Field(
        default=None, description="default: expedite for the policy's expedite severities"
    )
    incident_id: str | None = Field(default=None, min_length=1, max_length=32)
    postmortem_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    tracker_url: str | None = Field(default=None, max_length=2000)
    column: ColumnName = "backlog"

    _tracker = field_validator("tracker_url")(_web_url)


class ItemPatch(Input):
    """Only the fields given change; owner and column have their own endpoints."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    due_date: date | None = None
    priority: Priority | None = None
    class_of_service: ClassName | None = None
    tracker_url: str | None = Field(default=None, max_length=2000)

    _tracker = field_validator("tracker_url")(_web_url)


class MoveIn(Input):
    column: ColumnName
    before: Ref | None = Field(default=None, pattern=_REF, description="e.g. AI-007")
    after: Ref | None = Field(default=None, pattern=_REF)


class AssignIn(Input):
    owner: str | None = Field(min_length=1, max_length=64, description="a username, or null")


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title: str
    description: str
    owner: str | None
    due_date: date | None
    overdue: bool
    priority: str
    class_of_service: str
    term: str | None
    incident_id: str | None
    postmortem_id: int | None
    tracker_url: str | None
    column: str
    position: float
    created_by: str
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")
    limit: int


class Card(BaseModel):
    """One card on the board: an incident, a post-mortem or an action item."""

    kind: Literal["incident", "postmortem", "action_item"]
    code: str  # INC-..., PM for INC-..., AI-007
    title: str
    incident_id: str | None
    severity: str | None
    status: str | None  # the incident's or post-mortem's status
    owner: str | None
    due_date: date | None
    overdue: bool
    priority: str | None
    class_of_service: str
    url: str


class ColumnOut(BaseModel):
    id: str
    count: int
    wip_limit: int | None
    cards: list[Card]


class LaneOut(BaseModel):
    id: Literal["incident", "postmortem", "action_items"]
    columns: list[ColumnOut]


class BoardOut(BaseModel):
    columns: list[str]
    wip_limits: dict[str, int]
    today: date
    lanes: list[LaneOut]
