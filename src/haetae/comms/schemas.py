"""What crosses the API about stakeholder channels and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from haetae.inputs import Input
from haetae.policy.communications import MessageKind

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ChannelMethodOut(BaseModel):
    name: str
    kind: str
    url: str  # masked: a channel's Apprise URL holds its secret
    enabled: bool


class ChannelOut(BaseModel):
    slug: str
    name: str
    purpose: str
    language: str
    members: list[str]
    enabled: bool
    contact_methods: list[ChannelMethodOut]


class Delivery(BaseModel):
    """The message's outbox rows by state (pending, sending, sent, failed, canceled)."""

    total: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    canceled: int = 0


class MessageOut(BaseModel):
    id: int
    incident_id: str | None
    kind: str
    source: str
    locale: str
    subject: str
    body: str
    channels: list[str]
    status: str
    created_by: str
    created_at: datetime
    approvers: list[str]
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    sent_at: datetime | None
    delivery: Delivery


class MessageIn(Input):
    kind: MessageKind
    channels: list[Slug] | None = Field(
        default=None, description="channel slugs; absent: the policy's routes for the kind"
    )
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None
    body: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    locale: Annotated[str, StringConstraints(pattern=r"^(ko|en)$")] | None = None
