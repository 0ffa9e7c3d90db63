"""The role checklists an incident shows (the policy's `response.checklists` for its
severity: each role's, with the role's current holder, then everyone's) and ticking their
items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from haetae.checklists import queries
from haetae.checklists.models import CHECKLIST_STATUSES, ChecklistProgress
from haetae.errors import HaetaeError
from haetae.incidents import roles, service
from haetae.incidents.models import Incident
from haetae.policy.response import Checklist
from haetae.policy.schema import Policy
from haetae.policy.terms import Text, localized
from haetae.timeline import service as timeline


@dataclass(frozen=True)
class ItemState:
    id: str
    text: Text
    stage: Text | None
    status: str
    by: str | None
    at: datetime | None
    note: str


@dataclass(frozen=True)
class IncidentChecklist:
    """One checklist on one incident. `role` None: everyone's; `mine`: the viewer holds
    its role."""

    id: str
    title: Text
    role: str | None
    holder: str | None
    mine: bool
    items: list[ItemState]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.status == "done")

    @property
    def skipped(self) -> int:
        return sum(1 for item in self.items if item.status == "skipped")

    @property
    def total(self) -> int:
        return len(self.items)

    def stages(self) -> list[tuple[Text | None, list[ItemState]]]:
        """The items grouped under their stage headings, in the policy's order."""
        groups: list[tuple[Text | None, list[ItemState]]] = []
        for item in self.items:
            if groups and groups[-1][0] == item.stage:
                groups[-1][1].append(item)
            else:
                groups.append((item.stage, [item]))
        return groups


def applicable(policy: Policy, severity: str) -> list[Checklist]:
    """The policy's checklists for an incident of this severity: each role's, in the order
    of the policy's roles, then everyone's."""
    found: list[Checklist] = []
    for role in policy.roles:
        found += policy.response.checklists_for(role.id, severity)
    return found + policy.response.checklists_for(None, severity)


def incident_checklists(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    viewer: str | None = None,
    role: str | None = None,
) -> list[IncidentChecklist]:
    """The checklists the incident shows with each item's state; the ones of a role the
    viewer holds come first. `role` (an id or a display name) keeps that role's only."""
    wanted = roles.role_id(policy, role) if role is not None else None
    holders = roles.current_roles(session, incident.id)
    states = queries.progress(session, incident.id)
    shown = []
    for checklist in applicable(policy, incident.severity):
        if wanted is not None and checklist.role != wanted:
            continue
        holder = holders.get(checklist.role) if checklist.role else None
        shown.append(
            IncidentChecklist(
                id=checklist.id,
                title=checklist.title,
                role=checklist.role,
                holder=holder,
                mine=viewer is not None and holder == viewer,
                items=[
                    _state(item.id, item.text, item.stage, states.get((checklist.id, item.id)))
                    for item in checklist.items
                ],
            )
        )
    # A stable sort: the viewer's own first, the policy's order otherwise.
    return sorted(shown, key=lambda c: not c.mine)


def _state(
    item_id: str, text: Text, stage: Text | None, row: ChecklistProgress | None
) -> ItemState:
    if row is None:
        return ItemState(item_id, text, stage, "pending", None, None, "")
    return ItemState(item_id, text, stage, row.status, row.by, row.at, row.note)


def find(policy: Policy, severity: str, checklist_id: str) -> Checklist:
    checklist = next((c for c in applicable(policy, severity) if c.id == checklist_id), None)
    if checklist is None:
        raise HaetaeError(
            "UNKNOWN_CHECKLIST",
            f"The policy has no checklist '{checklist_id}' for a {severity} incident.",
            checklist_id=checklist_id,
        )
    return checklist


def set_item(
    session: Session,
    policy: Policy,
    incident_id: str,
    checklist_id: str,
    item_id: str,
    *,
    status: str,
    note: str = "",
    by: str,
    now: datetime,
) -> ItemState:
    """Mark one item done, skipped or pending again, recording who, when and why, with a
    `checklist_item` event on the timeline. Anyone who can respond may tick any checklist:
    a holder's checklist is shown first to them, never closed to the others."""
    if status not in CHECKLIST_STATUSES:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"status must be one of {', '.join(CHECKLIST_STATUSES)}",
            field="status",
        )
    # The incident's row lock orders two ticks of one item; the second sees the first's row.
    incident = service.get_incident(session, incident_id, for_update=True)
    service.require_open(incident)
    checklist = find(policy, incident.severity, checklist_id)
    item = next((i for i in checklist.items if i.id == item_id), None)
    if item is None:
        raise HaetaeError(
            "UNKNOWN_CHECKLIST_ITEM",
            f"Checklist '{checklist_id}' has no item '{item_id}'.",
            checklist_id=checklist_id,
            item_id=item_id,
        )
    note = note.strip()
    row = queries.progress_row(session, incident.id, checklist_id, item_id)
    if row is not None and row.status == status and row.note == note:
        return _state(item.id, item.text, item.stage, row)
    if row is None and status == "pending" and not note:
        return _state(item.id, item.text, item.stage, None)
    if row is None:
        row = ChecklistProgress(incident_id=incident.id, checklist_id=checklist_id, item_id=item_id)
        session.add(row)
    row.status, row.by, row.at, row.note = status, by, now, note
    incident.updated_at = now
    timeline.record(
        session,
        incident.id,
        kind="checklist_item",
        actor=by,
        at=now,
        summary=f"{localized(checklist.title, 'en')}: {localized(item.text, 'en')} ({status})",
        checklist_id=checklist_id,
        item_id=item_id,
        role=checklist.role,
        status=status,
        note=note,
        # The words as the policy had them, so the entry reads the same after a policy change.
        title=checklist.title,
        text=item.text,
    )
    session.flush()
    return _state(item.id, item.text, item.stage, row)
