"""What crosses the API about role checklists: an incident's checklists with each item's
state, and a tick."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from haetae.checklists.service import IncidentChecklist, ItemState
from haetae.inputs import Input
from haetae.policy.terms import localized


class ItemIn(Input):
    status: Literal["pending", "done", "skipped"]
    note: str = Field(default="", max_length=2000)


class ItemOut(BaseModel):
    id: str
    text: str
    stage: str | None
    status: str
    by: str | None
    at: datetime | None
    note: str


class ChecklistOut(BaseModel):
    id: str
    title: str
    # None: everyone's checklist.
    role: str | None
    holder: str | None
    # The caller holds its role; such checklists come first.
    mine: bool
    done: int
    skipped: int
    total: int
    items: list[ItemOut]


def item_out(item: ItemState, locale: str) -> ItemOut:
    return ItemOut(
        id=item.id,
        text=localized(item.text, locale),
        stage=localized(item.stage, locale) if item.stage is not None else None,
        status=item.status,
        by=item.by,
        at=item.at,
        note=item.note,
    )


def checklist_out(checklist: IncidentChecklist, locale: str) -> ChecklistOut:
    return ChecklistOut(
        id=checklist.id,
        title=localized(checklist.title, locale),
        role=checklist.role,
        holder=checklist.holder,
        mine=checklist.mine,
        done=checklist.done,
        skipped=checklist.skipped,
        total=checklist.total,
        items=[item_out(item, locale) for item in checklist.items],
    )
