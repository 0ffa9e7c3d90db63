"""What was sent about an incident and what is still to come: its escalations and pages."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from haetae.deps import Context, viewer
from haetae.incidents import service as incidents
from haetae.notify import queries

router = APIRouter(tags=["escalation"])


class EscalationOut(BaseModel):
    policy: str
    stop_on: str
    status: str
    step: int  # 1-based: the step that runs next (or ran last, when finished)
    steps: int
    loop: int
    due_at: datetime | None
    started_at: datetime
    stopped_reason: str | None


class NotificationOut(BaseModel):
    id: int
    kind: str
    user: str | None
    contact_method: str | None  # its name and kind; never the URL
    status: str
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    last_error: str | None
    subject: str


class PagesOut(BaseModel):
    escalations: list[EscalationOut]
    notifications: list[NotificationOut]


@router.get("/incidents/{incident_id}/pages", response_model=PagesOut)
def incident_pages(incident_id: str, ctx: Context = viewer) -> PagesOut:
    """The incident's escalations (policy, step, next due) and every notification queued
    for it with its delivery state."""
    with ctx.read() as session:
        incidents.get_incident(session, incident_id)  # 404 for an unknown incident
        pages = queries.incident_pages(session, incident_id)
        return PagesOut(
            escalations=[
                EscalationOut(
                    policy=e.row.policy_slug,
                    stop_on=e.row.stop_on,
                    status=e.row.status,
                    step=e.step,
                    steps=e.steps,
                    loop=e.row.loop_count,
                    due_at=e.row.due_at if e.row.status == "active" else None,
                    started_at=e.row.started_at,
                    stopped_reason=e.row.stopped_reason,
                )
                for e in pages.escalations
            ],
            notifications=[
                NotificationOut(
                    id=n.row.id,
                    kind=n.row.kind,
                    user=n.user or None,
                    contact_method=f"{n.method_name} ({n.method_kind})" if n.method_name else None,
                    status=n.row.status,
                    attempts=n.row.attempts,
                    due_at=n.row.due_at,
                    sent_at=n.row.sent_at,
                    last_error=n.error,
                    subject=n.row.subject,
                )
                for n in pages.notifications
            ],
        )
