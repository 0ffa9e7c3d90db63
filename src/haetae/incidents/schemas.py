"""What crosses the API for incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from haetae.incidents.lifecycle import STATUSES
from haetae.inputs import Count, Input, Timestamp
from haetae.policy.communications import UpdateField

Status = Literal[
    "triage", "investigating", "identified", "monitoring", "resolved", "closed", "canceled"
]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


# One set of limits for declare and patch (the API, the CLI and the console all validate
# with these models), sized to the columns: a longer value is a 422 everywhere, never a
# PostgreSQL error on one path and silently kept on another.
MAX_LIST_ITEMS = 100
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Summary = Annotated[str, StringConstraints(max_length=20_000)]
PolicyWord = Annotated[str, StringConstraints(max_length=64)]  # category, impact levels
SeverityId = Annotated[str, StringConstraints(max_length=32)]
Environment = Annotated[str, StringConstraints(max_length=64)]
Item = Annotated[str, StringConstraints(max_length=200)]
Items = Annotated[list[Item], Field(max_length=MAX_LIST_ITEMS)]
Reason = Annotated[str, StringConstraints(max_length=2000)]
Complexity = Annotated[int, Field(ge=1, le=5, description="technical complexity 1-5")]


class Impact(Input):
    users: Count | None = Field(default=None, description="number of users affected")
    users_description: str | None = Field(default=None, max_length=500)
    regions: Items = Field(default_factory=list)
    features: Items = Field(default_factory=list)


class IncidentDeclare(Input):
    title: Title
    summary: Summary = ""
    services: Items = Field(default_factory=list)
    category: PolicyWord | None = None
    tags: Items = Field(default_factory=list)
    environment: Environment | None = None
    impact: Impact = Field(default_factory=Impact)
    business_impact: PolicyWord | None = None
    user_impact: PolicyWord | None = None
    severity: SeverityId | None = None
    severity_reason: Reason | None = None
    complexity: Complexity | None = None
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None

    @model_validator(mode="after")
    def _reason_with_explicit_severity(self) -> IncidentDeclare:
        if self.severity and not self.severity_reason:
            raise ValueError("severity_reason is required when severity is set explicitly")
        return self


class IncidentPatch(Input):
    title: Title | None = None
    summary: Summary | None = None
    services: Items | None = None
    category: PolicyWord | None = None
    tags: Items | None = None
    environment: Environment | None = None
    impact: Impact | None = None
    business_impact: PolicyWord | None = None
    user_impact: PolicyWord | None = None
    severity: SeverityId | None = None
    severity_reason: Reason | None = None
    complexity: Complexity | None = None
    # Seed 004: the version that was running; null or "" clears it (the change feed offers one).
    affected_version: Annotated[str, StringConstraints(max_length=200)] | None = None
    severity_from_matrix: bool = Field(
        default=False, description="drop an explicit severity and take the matrix's again"
    )

    @field_validator("affected_version")
    @classmethod
    def _blank_version_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _reason_with_explicit_severity(self) -> IncidentPatch:
        if self.severity and not self.severity_reason:
            raise ValueError("severity_reason is required when severity is set explicitly")
        if self.severity and self.severity_from_matrix:
            raise ValueError("give either severity or severity_from_matrix, not both")
        return self


class TransitionIn(Input):
    to: Status
    reason: str | None = Field(default=None, max_length=2000)
    override_conditions: bool = Field(
        default=False,
        description="IC only: resolve although conditions are unmet (reason required)",
    )
    # After `to`, so the check below sees it; validate_default so a missing one is checked.
    summary: str | None = Field(
        default=None,
        max_length=2000,
        validate_default=True,
        description="How it was resolved (required when `to` is resolved); kept on the "
        "incident as `resolution_summary` and sent in the resolution message",
    )

    @field_validator("summary")
    @classmethod
    def _summary_when_resolving(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Seed 000's resolution message says how it was resolved: resolving asks for it.
        value = (value or "").strip() or None
        if info.data.get("to") == "resolved" and value is None:
            raise ValueError("say how it was resolved: a resolution summary is required")
        return value


class RoleAssign(Input):
    assignee: str = Field(min_length=1, max_length=200)


class StatusUpdateIn(Input):
    situation: str = Field(min_length=1, max_length=20_000)
    impact: str = Field(default="", max_length=20_000)
    progress: str = Field(default="", max_length=20_000)
    eta: str | None = Field(default=None, max_length=200)
    next_update_at: Timestamp | None = None
    # Seed 002's "Next Steps", and the fields the severity's report asks for
    # (communications.required_fields; docs/communications.md).
    next_steps: str = Field(default="", max_length=20_000)
    fields: dict[UpdateField, Annotated[str, Field(max_length=5_000)]] = Field(default_factory=dict)


class NoteIn(Input):
    kind: Literal["note", "evidence"] = "note"
    body: str = Field(default="", max_length=20_000)
    url: HttpUrl | None = None

    @model_validator(mode="after")
    def _something(self) -> NoteIn:
        if not self.body and self.url is None:
            raise ValueError("a note needs a body or a url")
        if self.kind == "evidence" and self.url is None:
            raise ValueError("evidence needs a url")
        return self


class DecisionIn(Input):
    kind: Literal["technical", "operational"]
    decision: str = Field(min_length=1, max_length=20_000)
    alternatives: list[str] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=20_000)


class ConditionCheckIn(Input):
    note: str = Field(default="", max_length=2000)


# Responses


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IncidentOut(_Out):
    id: str
    title: str
    summary: str
    status: Status
    severity: str
    severity_source: Literal["matrix", "explicit"]
    severity_reason: str | None
    category: str | None
    services: list[str]
    tags: list[str]
    environment: str | None
    impact: dict[str, Any]
    business_impact: str | None
    user_impact: str | None
    complexity: int
    priority_score: float
    declared_by: str
    declared_at: datetime
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    canceled_at: datetime | None
    next_update_due: datetime | None
    resolution_summary: str | None = None
    update_overdue: bool = False
    response_due_at: Timestamp | None = None
    recovery_due_at: Timestamp | None = None
    # A drill's incident (docs/drills.md): marked [DRILL], kept out of the real metrics and the
    # status page, which filter on this flag.
    drill: bool = False
    affected_version: str | None = None
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int = Field(description="matches, counted up to 10,000 (see total_capped)")
    total_capped: bool = Field(
        default=False, description="more than `total` match: show it as 10,000+"
    )
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last page"
    )
    limit: int
    offset: int


class RoleOut(_Out):
    id: int
    role: str
    assignee: str
    assigned_by: str
    assigned_at: datetime
    ended_at: datetime | None


class StatusUpdateOut(_Out):
    id: int
    situation: str
    impact: str
    progress: str
    eta: str | None
    next_steps: str
    fields: dict[str, str]
    next_update_at: datetime | None
    author: str
    created_at: datetime


class NoteOut(_Out):
    id: int
    kind: str
    body: str
    url: str | None
    author: str
    created_at: datetime


class DecisionOut(_Out):
    id: int
    kind: str
    decision: str
    alternatives: list[str]
    reason: str
    decided_by: str
    created_at: datetime


class ConditionOut(BaseModel):
    id: str
    text: str
    kind: str
    met: bool
    checked_by: str | None = None
    checked_at: Timestamp | None = None


class IncidentDetail(IncidentOut):
    roles: dict[str, str] = Field(default_factory=dict, description="current holder of each role")
    resolution_conditions: list[ConditionOut] = Field(default_factory=list)


class TimelineEventOut(_Out):
    id: int
    at: datetime
    actor: str
    kind: str
    summary: str
    data: dict[str, Any]
