"""What was sent about an incident and what is still to come: its escalations and pages."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from haetae.auth.models import User
from haetae.deps import Context, viewer
from haetae.escalation.models import Escalation
from haetae.incidents import service as incidents
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod

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
        escalations = session.scalars(
            select(Escalation).where(Escalation.incident_id == incident_id).order_by(Escalation.id)
        ).all()
        rows = session.execute(
            select(Notification, User.username, ContactMethod.name, ContactMethod.kind)
            .outerjoin(User, User.id == Notification.user_id)
            .outerjoin(ContactMethod, ContactMethod.id == Notification.contact_method_id)
            .where(Notification.incident_id == incident_id)
            .order_by(Notification.id)
        ).all()
        return PagesOut(
            escalations=[
                EscalationOut(
                    policy=e.policy_slug,
                    stop_on=e.stop_on,
                    status=e.status,
                    step=e.step_index + 1,
                    steps=len(e.policy.get("steps", [])),
                    loop=e.loop_count,
                    due_at=e.due_at if e.status == "active" else None,
                    started_at=e.started_at,
                    stopped_reason=e.stopped_reason,
                )
                for e in escalations
            ],
            notifications=[
                NotificationOut(
                    id=n.id,
                    kind=n.kind,
                    user=username,
                    contact_method=f"{name} ({kind})" if name else None,
                    status=n.status,
                    attempts=n.attempts,
                    due_at=n.due_at,
                    sent_at=n.sent_at,
                    last_error=n.last_error,
                    subject=n.subject,
                )
                for n, username, name, kind in rows
            ],
        )
