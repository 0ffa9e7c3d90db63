"""What crosses the API for login, users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haetae.inputs import Input, Timestamp

Role = Literal["viewer", "responder", "admin"]


class LoginIn(Input):
    username: str
    password: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=8)
    role: Role = "responder"
    display_name: str = ""
    email: str | None = None
    locale: Literal["en", "ko"] = "en"


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    locale: str
    active: bool


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)


class UserPatch(Input):
    """Only the fields given change."""

    role: Role | None = None
    active: bool | None = Field(default=None, description="false deactivates: signed out")


class ApiKeyIn(Input):
    name: str = Field(min_length=1, max_length=100)
    role: Role = "responder"
    user: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="act as this user, never above their current role (default: the caller)",
    )
    expires_at: Timestamp | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _one_expiry(self) -> ApiKeyIn:
        if self.expires_at is not None and self.expires_in_days is not None:
            raise ValueError("give expires_at or expires_in_days, not both")
        return self


class ApiKeyCreated(BaseModel):
    id: int
    name: str
    role: str
    key: str = Field(description="shown once; only its hash is stored")
    prefix: str = Field(default="", description="what lists show of the key")
    user: str | None = None
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    """A key as it is listed: never its hash or clear text."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    role: str
    effective_role: str | None = Field(
        description="the role it acts with now (capped at its owner's); null if unusable"
    )
    user: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]

    @field_validator("effective_role", mode="before")
    @classmethod
    def _unusable(cls, value: str | None) -> str | None:
        return value or None  # keys.KeyView says "" for a key that cannot act


class Me(BaseModel):
    name: str
    role: str
    via: str
