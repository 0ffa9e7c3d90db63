"""The incident page's Runbooks panel: attached runbooks with their steps' progress, and the
forms that tick them (posted to web/runbook_forms.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from haetae.incidents.models import Incident
from haetae.policy.terms import localized
from haetae.runbooks import library, queries
from haetae.runbooks.service import CLOSED
from haetae.web.console import Console

router = APIRouter(include_in_schema=False)


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction."""
    runbooks = queries.incident_runbooks(session, incident.id)
    writable = console.can_write and incident.status not in CLOSED
    choices: list[tuple[str, str]] = []
    if writable:
        attached = {r.runbook_id for r in runbooks}
        # The files only (read again once changed), without current()'s warnings: the panel
        # is drawn on every swap of the page.
        settings = console.settings
        policy_file = str(settings.policy_file) if settings.policy_file else None
        lib = library.load(library.directories(settings.runbooks_dir, policy_file, console.policy))
        choices = [
            (rid, localized(loaded.runbook.title, console.locale))
            for rid, loaded in lib.runbooks.items()
            if rid not in attached
        ]
        choices.sort(key=lambda c: c[1].casefold())
    return {
        "incident_runbooks": runbooks,
        "runbook_choices": choices,
        "runbooks_writable": writable,
        # Accuracy is judged after the fact too: a closed incident still takes it.
        "runbooks_judgeable": console.can_write,
        "runbooks_shown": bool(runbooks) or writable,
    }
