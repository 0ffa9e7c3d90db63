"""What crosses the API about runbooks on an incident: the attached runbooks with each step's
state, and the bodies that tick steps and record accuracy."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from haetae.inputs import Strict

TextValue = str | dict[str, str]


class StepState(BaseModel):
    id: str
    title: TextValue
    owner: str | None = None
    command: str | None = None
    text: TextValue | None = None
    # A configured check's id, or a spec of the step's own.
    check: str | dict[str, Any] | None = None
    # A verification step (the runbook's `verify:`), after the steps.
    verify: bool = False
    status: Literal["pending", "done", "skipped"] = "pending"
    by: str | None = None
    at: datetime | None = None
    note: str = ""


class Progress(BaseModel):
    total: int
    done: int
    skipped: int
    pending: int

    @property
    def finished(self) -> int:
        return self.done + self.skipped

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 0


class IncidentRunbookOut(BaseModel):
    id: int
    runbook_id: str
    title: TextValue
    kind: str
    source: str
    symptoms: list[TextValue]
    how: str
    matched_by: list[str]
    attached_by: str
    attached_at: datetime
    digest: str
    steps: list[StepState]
    progress: Progress
    accuracy: Literal["worked", "partly", "failed"] | None = None
    accuracy_note: str = ""
    accuracy_by: str | None = None
    accuracy_at: datetime | None = None


class AttachIn(Strict):
    runbook_id: str = Field(min_length=1, max_length=100)


class StepIn(Strict):
    status: Literal["pending", "done", "skipped"]
    note: str = Field(default="", max_length=2000)


class AccuracyIn(Strict):
    accuracy: Literal["worked", "partly", "failed"]
    note: str = Field(default="", max_length=4000)


class CheckQueued(BaseModel):
    run_id: int
    status: str
    name: str
