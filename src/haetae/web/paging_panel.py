"""The incident page's "Pages" panel: every notification about the incident (who, how,
what, its delivery state) and its escalations (policy, step, next due), so a responder
sees what was sent and what is pending. Contact URLs are never shown, only their kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.escalation.models import Escalation
from haetae.i18n import N_
from haetae.incidents.models import Incident
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.people.service import mask_url
from haetae.policy.terms import Text
from haetae.web.console import Console, Refused, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
PANEL_LIMIT = 200
NOTIFICATION_STATUSES = {
    "pending": N_("Pending"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "canceled": N_("Canceled"),
    "bundled": N_("Bundled"),
}
NOTIFICATION_KINDS = {
    "page": N_("Page"),
    "escalation": N_("Escalation"),
    "update_reminder": N_("Update reminder"),
    "resolved": N_("Resolution notice"),
    "handoff": N_("Hand-off notice"),
    "test": N_("Test"),
}
ESCALATION_STATUSES = {
    "active": N_("Running"),
    "done": N_("Done"),
    "stopped": N_("Stopped"),
}
STOP_REASONS = {"acknowledged": N_("acknowledged"), "resolved": N_("resolved")}
# States whose outcome is not settled yet: a page showing one keeps asking.
UNSETTLED = ("pending", "sending")


@dataclass
class NotificationRow:
    row: Notification
    user: str
    method_kind: str
    method_name: str
    error: str | None


@dataclass
class EscalationRow:
    row: Escalation
    name: Text
    step: int
    steps: int


def safe_error(error: str | None, method: ContactMethod | None) -> str | None:
    """Delivery errors are already scrubbed; should one still hold the URL, mask it."""
    if not error or method is None or method.url not in error:
        return error
    return error.replace(method.url, mask_url(method.url))


def notification_rows(session: Session, query: Any) -> list[NotificationRow]:
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


def gather(session: Session, incident_id: str) -> dict[str, Any]:
    """What the panel shows, for `incident_page.gather`."""
    notifications = notification_rows(
        session,
        select(Notification)
        .where(Notification.incident_id == incident_id)
        .order_by(Notification.created_at, Notification.id)
        .limit(PANEL_LIMIT),
    )
    escalations = []
    for row in session.scalars(
        select(Escalation).where(Escalation.incident_id == incident_id).order_by(Escalation.id)
    ):
        steps = len(row.policy.get("steps", [])) or 1
        escalations.append(
            EscalationRow(
                row=row,
                name=row.policy.get("name") or row.policy_slug,
                step=min(row.step_index, steps - 1) + 1,
                steps=steps,
            )
        )
    return {
        "page_notifications": notifications,
        "page_escalations": escalations,
        "page_labels": {
            "status": NOTIFICATION_STATUSES,
            "kind": NOTIFICATION_KINDS,
            "escalation": ESCALATION_STATUSES,
            "reason": STOP_REASONS,
        },
        "pages_unsettled": any(n.row.status in UNSETTLED for n in notifications)
        or any(e.row.status == "active" for e in escalations),
    }


@router.get("/incidents/{incident_id}/pages")
def pages_fragment(incident_id: str, console: Console = Depends(signed_in)) -> Response:
    """The panel alone, which the page asks for again while something is pending."""
    with console.read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            message = console.gettext("Incident %(id)s does not exist.") % {"id": incident_id}
            raise Refused(404, message)
        data = gather(session, incident_id)
    return render(console, "_pages.html", incident=incident, oob=False, **data)
