"""What crosses the API about external contacts and manual escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MessageType = Literal["page", "external_support", "business"]


class ContactMethodView(BaseModel):
    name: str
    kind: str
    url: str  # masked, as a person's contact methods are shown
    enabled: bool


class ExternalContactOut(BaseModel):
    slug: str
    name: str
    kind: str
    support_plan: str
    sla_tier: str
    notes: str
    language: str
    enabled: bool
    contact_methods: list[ContactMethodView]
    updated_at: datetime


class EscalationTargetIn(BaseModel):
    """Exactly one of user, team, schedule or contact (an external contact's slug)."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = Field(default=None, min_length=1, max_length=64)
    team: str | None = Field(default=None, min_length=1, max_length=64)
    schedule: str | None = Field(default=None, min_length=1, max_length=64)
    contact: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> EscalationTargetIn:
        given = [k for k in ("user", "team", "schedule", "contact") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of user, team, schedule or contact")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("user", "team", "schedule", "contact") if getattr(self, k))

    @property
    def name(self) -> str:
        return str(getattr(self, self.kind))


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: EscalationTargetIn
    type: MessageType = "page"
    note: str = Field(default="", max_length=2000)


class EscalationOut(BaseModel):
    incident_id: str
    target_kind: str
    target: str
    type: str
    note: str
    # Who the page goes to: usernames, or the external contact's name.
    recipients: list[str]
    # Messages queued in the outbox by this request; 0 when it repeated one just made.
    queued: int
    duplicate: bool
