"""What crosses the API for the change feed: a posted change, its answer, and its links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from haetae.inputs import Input, Timestamp

Kind = Literal["deploy", "config", "infrastructure"]
Verdict = Literal["suspected", "confirmed"]
MAX_PAGE = 200
# A change may be stamped this far ahead of the server's clock (a CI runner's clock drifts);
# later than that is a mistake, and it would sort above everything that really happened.
FUTURE_SLACK_SECONDS = 300

Service = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Version = Annotated[str, StringConstraints(max_length=200)]


def check_link(value: str) -> str:
    """http(s) only: the console shows it as a link, and javascript: or file: must never be."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


class ChangeIn(Input):
    service: Service = Field(description="lowercased; any name, known service or not")
    kind: Kind = "deploy"
    summary: str = Field(default="", max_length=500)
    version: Version = ""
    author: str = Field(default="", max_length=200, description="default: the caller")
    at: Timestamp | None = Field(
        default=None, description="when it happened (ISO 8601); default now, at most 5 min ahead"
    )
    link: str = Field(default="", max_length=2000, description="http(s) only")
    rollback: str = Field(
        default="", max_length=10_000, description="a command shown to copy, never run"
    )
    environment: str = Field(default="", max_length=100)
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the sender's own id: the same id again answers 200 with the change kept",
    )

    @field_validator("service")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()

    @field_validator("link")
    @classmethod
    def _link(cls, value: str) -> str:
        return check_link(value)


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    service: str
    kind: str
    summary: str
    version: str
    author: str
    happened_at: datetime
    link: str
    rollback: str
    environment: str
    external_id: str | None
    integration_id: int | None
    created_at: datetime


class ChangePosted(ChangeOut):
    service_known: bool = Field(description="whether a service with this slug is registered")
    duplicate: bool = Field(description="true when the id was posted before (answered 200)")


class ChangePage(BaseModel):
    changes: list[ChangeOut]
    total: int
    limit: int
    offset: int


class IncidentChangeOut(ChangeOut):
    """A change as an incident sees it: linked or not, and how."""

    verdict: Verdict | None = None
    linked_by: str | None = None
    linked_at: datetime | None = None
    note: str = ""
    in_window: bool = True


class IncidentChanges(BaseModel):
    incident_id: str
    affected_version: str | None
    window_from: datetime
    window_to: datetime
    changes: list[IncidentChangeOut]


class LinkIn(Input):
    change_id: int = Field(ge=1, le=2**31 - 1)
    verdict: Verdict = "suspected"
    note: str = Field(default="", max_length=2000)
