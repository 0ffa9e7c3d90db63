"""What crosses the status page's admin API: settings, groups, components, public incidents
and their updates, maintenance. Components are named by slug; text is {en, ko}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from haetae.inputs import Input, Int32
from haetae.policy.terms import ID_PATTERN

# Text in the page's two languages: {"en": ..., "ko": ...}.
Language = Annotated[str, Field(pattern=r"^(en|ko)$")]
ShortText = dict[Language, Annotated[str, Field(max_length=300)]]
LongText = dict[Language, Annotated[str, Field(max_length=20_000)]]
Slug = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
ComponentState = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentState = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
Impact = Literal["none", "minor", "major", "critical", "maintenance"]
MaintenanceState = Literal["scheduled", "in_progress", "verifying", "completed"]


class SettingsIn(Input):
    enabled: bool = True
    title: ShortText = Field(default_factory=dict)
    host: str | None = Field(default=None, max_length=253)
    support_url: str = Field(default="", max_length=2000)

    @field_validator("support_url")
    @classmethod
    def _link(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://", "mailto:")):
            raise ValueError("support_url is an http(s) or mailto: link")
        return value


class SettingsOut(BaseModel):
    enabled: bool
    title: dict[str, str]
    host: str | None
    support_url: str
    updated_at: datetime


class GroupIn(Input):
    name: ShortText
    position: Int32 = 0


class GroupOut(BaseModel):
    slug: str
    name: dict[str, str]
    position: int


class ComponentIn(Input):
    name: ShortText
    description: LongText = Field(default_factory=dict)
    group: Slug | None = None
    services: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    visible: bool = True
    position: Int32 = 0


class ComponentOut(BaseModel):
    slug: str
    name: dict[str, str]
    description: dict[str, str]
    group: str | None
    services: list[str]
    visible: bool
    position: int
    status: str
    updated_at: datetime


class ComponentStatusIn(Input):
    status: ComponentState


class PublicIncidentIn(Input):
    """From a Haetae incident (`incident_id`: title, impact and components default from it)
    or standing alone (title required)."""

    incident_id: str | None = Field(default=None, min_length=1, max_length=32)
    title: ShortText = Field(default_factory=dict)
    impact: Impact | Literal[""] = ""
    components: dict[Slug, ComponentState] = Field(default_factory=dict, max_length=500)


class PublicIncidentChange(Input):
    title: ShortText | None = None
    impact: Impact | None = None
    components: dict[Slug, ComponentState] | None = Field(default=None, max_length=500)


class DraftIn(Input):
    """A body in both languages, or none: written from `template` (or the default kind)."""

    status: IncidentState
    body: LongText | None = None
    template: str | None = Field(default=None, min_length=1, max_length=64)


class PublishIn(Input):
    body: LongText | None = None


class ResolveIn(Input):
    body: LongText | None = None
    template: str | None = Field(default=None, min_length=1, max_length=64)


class UpdateOut(BaseModel):
    id: int
    status: str
    body: dict[str, str]
    state: str
    template: str | None
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None


class PublicIncidentOut(BaseModel):
    code: str
    incident_id: str | None
    title: dict[str, str]
    impact: str
    status: str
    components: dict[str, str]
    started_at: datetime
    resolved_at: datetime | None
    published_at: datetime | None
    next_update_due: datetime | None
    created_by: str
    updates: list[UpdateOut]


def _utc(value: datetime | None) -> datetime | None:
    """In UTC, and within years a window can have (year 1 with an offset overflows)."""
    if value is None:
        return None
    if not 1970 <= value.year <= 2100:
        raise ValueError("a time between 1970 and 2100")
    return value.astimezone(UTC)


class MaintenanceIn(Input):
    title: ShortText
    body: LongText = Field(default_factory=dict)
    start: AwareDatetime
    end: AwareDatetime
    components: list[Slug] = Field(default_factory=list, max_length=500)

    _times = field_validator("start", "end")(_utc)


class MaintenanceChange(Input):
    title: ShortText | None = None
    body: LongText | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    components: list[Slug] | None = Field(default=None, max_length=500)
    status: MaintenanceState | None = None

    _times = field_validator("start", "end")(_utc)


class MaintenanceOut(BaseModel):
    code: str
    title: dict[str, str]
    body: dict[str, str]
    status: str
    start: datetime
    end: datetime
    components: list[str]
    created_by: str
    updated_at: datetime
