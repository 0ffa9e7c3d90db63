"""What crosses the API and the config file for people: profiles, contact methods,
notification rules, teams and services."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haetae.inputs import Input
from haetae.oncall.schemas import check_zone
from haetae.policy.terms import ID_PATTERN

Locale = Literal["en", "ko"]


class ProfilePatch(Input):
    """Only the fields given change; `time_zone: null` falls back to the policy's zone."""

    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    time_zone: str | None = Field(default=None, max_length=64)
    locale: Locale | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    username: str
    display_name: str
    email: str | None
    role: str
    locale: str
    time_zone: str | None
    active: bool


class ContactMethodIn(Input):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=3, max_length=4000, description="an Apprise URL")
    position: int | None = Field(default=None, ge=0, le=1000, description="default: last")
    enabled: bool = True
    kind: str | None = Field(
        default=None,
        max_length=32,
        description="mark it phone, sms, email, slack, chat or webhook when its URL cannot "
        "tell (a step's `via` pages by kind); auto: from the URL",
    )


class ContactMethodPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=3, max_length=4000)
    position: int | None = Field(default=None, ge=0, le=1000)
    enabled: bool | None = None
    kind: str | None = Field(
        default=None,
        max_length=32,
        description="mark it phone, sms, email, slack, chat or webhook when its URL cannot "
        "tell (a step's `via` pages by kind); auto: from the URL",
    )


class ContactMethodOut(BaseModel):
    id: int
    name: str
    kind: str
    url: str = Field(description="masked: scheme and host only; the full URL is never shown")
    position: int
    enabled: bool
    created_at: datetime


class NotificationRuleIn(Input):
    contact_method_id: int = Field(ge=1, le=2**31 - 1)
    delay_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)


class NotificationRuleOut(BaseModel):
    id: int
    contact_method_id: int
    contact_method: str
    delay_minutes: int


class QueuedTest(BaseModel):
    notification_id: int


class TeamSpec(Input):
    """A team: `leads` are members with the lead role (a name in both lists is a lead)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(default="", max_length=200)
    description: str = ""
    members: list[str] = Field(default_factory=list)
    leads: list[str] = Field(default_factory=list)

    def normalized(self) -> TeamSpec:
        """Members without the leads, both sorted and without repeats: how it is stored."""
        leads = sorted(set(self.leads))
        members = sorted(set(self.members) - set(leads))
        return self.model_copy(
            update={"name": self.name or self.id, "members": members, "leads": leads}
        )


class TeamOut(BaseModel):
    id: str
    name: str
    description: str
    members: list[str]
    leads: list[str]


class TeamMemberIn(Input):
    username: str = Field(min_length=1, max_length=64)
    role: Literal["member", "lead"] = "member"


class ServiceSpec(Input):
    """A service: its owning team, its on-call schedule and, optionally, its own escalation
    policies per severity ({P1: [oncall-page, p1-matrix]}); without an entry for a severity
    the policy file's `escalation.by_severity` applies."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(default="", max_length=200)
    description: str = ""
    team: str | None = None
    schedule: str | None = None
    escalation: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_repeats(self) -> ServiceSpec:
        for severity, slugs in self.escalation.items():
            if len(set(slugs)) != len(slugs):
                raise ValueError(f"escalation.{severity} names a policy twice")
        return self

    def normalized(self) -> ServiceSpec:
        return self.model_copy(update={"name": self.name or self.id})


class ServiceOut(BaseModel):
    id: str
    name: str
    description: str
    team: str | None
    schedule: str | None
    escalation: dict[str, list[str]]
