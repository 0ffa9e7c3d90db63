"""What crosses the API for login, users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from haetae.inputs import Input

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


class ApiKeyIn(Input):
    name: str = Field(min_length=1, max_length=100)
    role: Role = "responder"


class ApiKeyCreated(BaseModel):
    id: int
    name: str
    role: str
    key: str = Field(description="shown once; only its hash is stored")


class Me(BaseModel):
    name: str
    role: str
    via: str
