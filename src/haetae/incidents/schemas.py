"""What crosses the API for incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from haetae.incidents.lifecycle import STATUSES
from haetae.inputs import Input, Timestamp

Status = Literal[
    "triage", "investigating", "identified", "monitoring", "resolved", "closed", "canceled"
]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


class Impact(Input):
    users: int | None = Field(default=None, ge=0, description="number of users affected")
    users_description: str | None = Field(default=None, max_length=500)
    regions: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)


class IncidentDeclare(Input):
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=20_000)
    services: list[str] = Field(default_factory=list)
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    environment: str | None = Field(default=None, max_length=64)
    impact: Impact = Field(default_factory=Impact)
    business_impact: str | None = None
    user_impact: str | None = None
    severity: str | None = None
    severity_reason: str | None = Field(default=None, max_length=2000)
    complexity: int | None = Field(default=None, ge=1, le=5, description="technical complexity 1-5")
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None

    @model_validator(mode="after")
    def _reason_with_explicit_severity(self) -> IncidentDeclare:
        if self.severity and not self.severity_reason:
            raise ValueError("severity_reason is required when severity is set explicitly")
        return self


class IncidentPatch(Input):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=20_000)
    services: list[str] | None = None
    category: str | None = None
    tags: list[str] | None = None
    environment: str | None = None
    impact: Impact | None = None
    business_impact: str | None = None
    user_impact: str | None = None
    severity: str | None = None
    severity_reason: str | None = Field(default=None, max_length=2000)
    complexity: int | None = Field(default=None, ge=1, le=5)
    severity_from_matrix: bool = Field(
        default=False, description="drop an explicit severity and take the matrix's again"
    )

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


class RoleAssign(Input):
    assignee: str = Field(min_length=1, max_length=200)


class StatusUpdateIn(Input):
    situation: str = Field(min_length=1, max_length=20_000)
    impact: str = Field(default="", max_length=20_000)
    progress: str = Field(default="", max_length=20_000)
    eta: str | None = Field(default=None, max_length=200)
    next_update_at: Timestamp | None = None


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
    update_overdue: bool = False
    response_due_at: Timestamp | None = None
    recovery_due_at: Timestamp | None = None
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
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
