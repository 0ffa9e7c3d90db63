"""The console's status page subscribers page (masked addresses, export, delete)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from haetae.i18n import N_
from haetae.statuspage import subscribers
from haetae.web.console import Console, Refused, admin_post_refusing, signed_in
from haetae.web.incident_actions import Posted
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

ADMIN_ONLY = N_("Only an admin can see and delete status page subscribers.")
NO_SUBSCRIBER = N_("No subscriber has that number.")


@router.get("/status-page/subscribers")
def subscribers_page(console: Console = Depends(signed_in)) -> Response:
    if not console.is_admin:
        raise Refused(403, console.gettext(ADMIN_ONLY))
    with console.read() as session:
        listed = subscribers.listing(session)
    return render(console, "statuspage/subscribers.html", active="status_page", listed=listed)


@router.post("/status-page/subscribers/{subscriber_id}/delete")
def delete(
    subscriber_id: int, posted: Posted = Depends(admin_post_refusing(ADMIN_ONLY))
) -> Response:
    console, _form = posted
    with console.write() as session:
        if not subscribers.delete(session, subscriber_id, by=console.actor, now=console.now()):
            raise Refused(404, console.gettext(NO_SUBSCRIBER))
    return RedirectResponse("/status-page/subscribers", status_code=303)
