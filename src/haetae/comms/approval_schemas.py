"""What crosses the API for approvals and follows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from haetae.inputs import Strict


class ApproveIn(Strict):
    """An approval, with the approver's edit of the subject or body if any."""

    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=20_000)
    note: str = Field(default="", max_length=2000)


class RejectIn(Strict):
    note: str = Field(min_length=1, max_length=2000)


class ApprovalOut(BaseModel):
    id: int
    incident_id: str | None
    kind: str
    status: str
    locale: str
    subject: str
    body: str
    channels: list[str]
    created_by: str
    created_at: datetime
    approvers: list[str]
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    sent_at: datetime | None
    # The text as drafted, when the approver edited it.
    draft: dict[str, str] | None = None


class FollowOut(BaseModel):
    incident_id: str | None
    service: str | None
    created_at: datetime


def approval_out(message: Any) -> ApprovalOut:
    """A CommsMessage as the API shows it (its draft when the approver edited it)."""
    draft = (message.data or {}).get("draft")
    return ApprovalOut(
        id=message.id,
        incident_id=message.incident_id,
        kind=message.kind,
        status=message.status,
        locale=message.locale,
        subject=message.subject,
        body=message.body,
        channels=list(message.channels or []),
        created_by=message.created_by,
        created_at=message.created_at,
        approvers=list(message.approvers or []),
        decided_by=message.decided_by,
        decided_at=message.decided_at,
        decision_note=message.decision_note or "",
        sent_at=message.sent_at,
        draft=draft if isinstance(draft, dict) else None,
    )
