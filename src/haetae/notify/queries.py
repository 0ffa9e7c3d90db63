"""What was sent about an incident and what is still to come, read once for the API's
GET /incidents/{id}/pages and the console's Pages panel (and a person's test notifications).

Contact URLs never leave here: a notification carries its contact method's name and kind,
and a delivery error that still holds the URL has it masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.escalation.models import Escalation
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.people.service import mask_url
from haetae.policy.terms import Text


@dataclass
class NotificationRow:
    row: Notification
    user: str  # "" when the notification was for nobody in particular
    method_kind: str
    method_name: str
    error: str | None  # last_error with the contact URL masked


@dataclass
class EscalationRow:
    row: Escalation
    name: Text
    step: int  # 1-based: the step that runs next (or ran last, when finished)
    steps: int


@dataclass
class IncidentPages:
    escalations: list[EscalationRow]
    notifications: list[NotificationRow]


def safe_error(error: str | None, method: ContactMethod | None) -> str | None:
    """Delivery errors are already scrubbed; should one still hold the URL, mask it."""
    if not error or method is None or method.url not in error:
        return error
    return error.replace(method.url, mask_url(method.url))


def notification_rows(session: Session, query: Any) -> list[NotificationRow]:
    """The notifications `query` selects, each with its person and contact method."""
    rows = list(session.scalars(query))
    users = {
        u.id: u.username
        for u in session.scalars(
            select(User).where(User.id.in_({r.user_id for r in rows if r.user_id}))
        )
    }
    methods = {
        m.id: m
        for m in session.scalars(
            select(ContactMethod).where(
                ContactMethod.id.in_({r.contact_method_id for r in rows if r.contact_method_id})
            )
        )
    }
    found = []
    for row in rows:
        method = methods.get(row.contact_method_id or 0)
        found.append(
            NotificationRow(
                row=row,
                user=users.get(row.user_id or 0, ""),
                method_kind=method.kind if method else "",
                method_name=method.name if method else "",
                error=safe_error(row.last_error, method),
            )
        )
    return found


def escalation_rows(session: Session, incident_id: str) -> list[EscalationRow]:
    found = []
    for row in session.scalars(
        select(Escalation).where(Escalation.incident_id == incident_id).order_by(Escalation.id)
    ):
        # A policy has at least one step (its schema says so); the `or 1` keeps a damaged
        # snapshot from reading "step 1 of 0".
        steps = len(row.policy.get("steps", [])) or 1
        found.append(
            EscalationRow(
                row=row,
                name=row.policy.get("name") or row.policy_slug,
                # The step the engine runs (escalation.engine reads the index the same way).
                step=min(row.step_index, steps - 1) + 1,
                steps=steps,
            )
        )
    return found


def incident_pages(
    session: Session, incident_id: str, *, limit: int | None = None
) -> IncidentPages:
    """The incident's escalations and its notifications in the order they were queued
    (the first `limit` of them when given)."""
    query = (
        select(Notification)
        .where(Notification.incident_id == incident_id)
        .order_by(Notification.id)
        .limit(limit)
    )
    return IncidentPages(
        escalations=escalation_rows(session, incident_id),
        notifications=notification_rows(session, query),
    )
