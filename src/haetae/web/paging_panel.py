"""The incident page's "Pages" panel: every notification about the incident (who, how,
what, its delivery state) and its escalations (policy, step, next due), so a responder
sees what was sent and what is pending. Contact URLs are never shown, only their kind.
The rows come from notify.queries, the reader the API's /incidents/{id}/pages uses too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.i18n import N_
from haetae.incidents.models import Incident
from haetae.notify import queries
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
    "role_reminder": N_("Role reminder"),
}
ESCALATION_STATUSES = {
    "active": N_("Running"),
    "done": N_("Done"),
    "stopped": N_("Stopped"),
}
STOP_REASONS = {"acknowledged": N_("acknowledged"), "resolved": N_("resolved")}
# States whose outcome is not settled yet: a page showing one keeps asking.
UNSETTLED = ("pending", "sending")


def gather(session: Session, incident_id: str) -> dict[str, Any]:
    """What the panel shows, for `incident_page.gather`."""
    pages = queries.incident_pages(session, incident_id, limit=PANEL_LIMIT)
    notifications, escalations = pages.notifications, pages.escalations
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
