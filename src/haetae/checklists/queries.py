"""Reads of the checklists' tables: an incident's ticked items, and the last reminder about
each of its empty roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.checklists.models import ChecklistProgress, RoleReminderSent


def progress(session: Session, incident_id: str) -> dict[tuple[str, str], ChecklistProgress]:
    """The incident's item states by (checklist id, item id); an item without a row is
    pending."""
    rows = session.scalars(
        select(ChecklistProgress).where(ChecklistProgress.incident_id == incident_id)
    )
    return {(row.checklist_id, row.item_id): row for row in rows}


def progress_row(
    session: Session, incident_id: str, checklist_id: str, item_id: str
) -> ChecklistProgress | None:
    return session.scalars(
        select(ChecklistProgress).where(
            ChecklistProgress.incident_id == incident_id,
            ChecklistProgress.checklist_id == checklist_id,
            ChecklistProgress.item_id == item_id,
        )
    ).one_or_none()


def reminders(session: Session, incident_ids: list[str]) -> dict[tuple[str, str], RoleReminderSent]:
    """The last reminder about each (incident, role) of these incidents."""
    if not incident_ids:
        return {}
    rows = session.scalars(
        select(RoleReminderSent).where(RoleReminderSent.incident_id.in_(incident_ids))
    )
    return {(row.incident_id, row.role_id): row for row in rows}
