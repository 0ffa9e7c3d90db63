"""The incident page's Page now panel: page a person, a team, a schedule's on-call or an
external contact. Its form posts to /incidents/{id}/page-now, which web/contact_pages.py
serves (it runs through incident_actions.act, which imports the incident page that imports
this module)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.contacts import queries as contacts
from haetae.contacts.service import MESSAGE_TYPES
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.oncall.models import Schedule
from haetae.people.models import Team
from haetae.web.console import Console

router = APIRouter(include_in_schema=False)


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction: who can be paged."""
    if incident.status not in lifecycle.ACTIVE or not console.can_write:
        return {"page_now": None}
    users = session.execute(
        select(User.username, User.display_name)
        .where(User.active.is_(True))
        .order_by(User.username)
    ).all()
    teams = session.execute(select(Team.slug, Team.name).order_by(Team.slug)).all()
    schedules = session.execute(select(Schedule.slug, Schedule.name).order_by(Schedule.slug)).all()
    return {
        "page_now": {
            "targets": {
                "user": [(u, d or u) for u, d in users],
                "team": [(s, n or s) for s, n in teams],
                "schedule": [(s, n or s) for s, n in schedules],
                "contact": [
                    (c.slug, c.name) for c in contacts.list_contacts(session, enabled_only=True)
                ],
            },
            "types": MESSAGE_TYPES,
        }
    }
