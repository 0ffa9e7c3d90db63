"""The incident page's Changes panel: changes to its services before it started, suspected
causes, the affected version. Its forms post to web/change_pages.py, which can re-render
every panel without this module importing the incident page back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from haetae.changes import queries
from haetae.i18n import N_
from haetae.incidents.models import Incident
from haetae.web.console import Console

router = APIRouter(include_in_schema=False)
KIND_LABELS = {
    "deploy": N_("Deploy"),
    "config": N_("Configuration"),
    "infrastructure": N_("Infrastructure"),
}
VERDICT_LABELS = {"suspected": N_("Suspected cause"), "confirmed": N_("Confirmed cause")}


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction."""
    view = queries.for_incident(session, console.policy, incident, now=console.now())
    return {
        "change_feed": view,
        "change_window": console.policy.response.changes.window,
        "change_words": {
            "kinds": {k: console.gettext(v) for k, v in KIND_LABELS.items()},
            "verdicts": {k: console.gettext(v) for k, v in VERDICT_LABELS.items()},
        },
    }
