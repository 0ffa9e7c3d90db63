"""What crosses the API for drills: the drill to create, its synthetic alerts, seed 001 8.2's
chaos template, the scorecard (seed 001 8.3) and its improvement items (TI-NNN)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from haetae.inputs import Input
from haetae.policy.measures import DrillKind
from haetae.policy.terms import parse_duration

DRILL_STATUSES = ("scheduled", "running", "ended", "canceled")
END_REASONS = ("completed", "kill_switch", "max_duration", "canceled")
Communication = Literal["adequate", "lacking"]
RunbookAccuracy = Literal["accurate", "partly_wrong"]
# The longest a synthetic alert may wait after the drill's start (a drill runs at most 1d).
MAX_AFTER_SECONDS = 86_400
MAX_INJECT = 50


def _duration_text(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise ValueError(f"not a duration ({exc})") from None
    return value


class InjectAlert(Input):
    """One synthetic alert, sent as an Alertmanager v4 alert `after_seconds` after the start."""

    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    after_seconds: int = Field(default=0, ge=0, le=MAX_AFTER_SECONDS)

    @field_validator("labels", "annotations")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 50 or any(len(k) > 200 or len(v) > 2000 for k, v in value.items()):
            raise ValueError("at most 50 entries, keys of 200 and values of 2000 characters")
        return value


class ChaosTemplate(Input):
    """Seed 001 8.2: 실험명, 가설, 대상, 장애 유형, 안전 장치 (kill switch and maximum duration,
    the drill's max_duration), 성공 기준."""

    name: str = Field(min_length=1, max_length=300)
    hypothesis: str = Field(min_length=1, max_length=5000)
    target: str = Field(min_length=1, max_length=500)
    fault_type: str = Field(min_length=1, max_length=300)
    kill_switch: str = Field(min_length=1, max_length=2000)
    success_criteria: str = Field(min_length=1, max_length=5000)


class TargetsIn(Input):
    """The scorecard's timed targets as durations ("5m"); a row not given keeps the policy's."""

    detect: str | None = None
    escalate: str | None = None
    recover: str | None = None

    _durations = field_validator("detect", "escalate", "recover")(_duration_text)


class DrillIn(Input):
    title: str = Field(min_length=1, max_length=300)
    kind: DrillKind
    scenario: str = Field(default="", max_length=20_000)
    severity: str | None = Field(default=None, min_length=1, max_length=32)
    services: list[str] = Field(default_factory=list, max_length=50)
    participants: list[str] = Field(default_factory=list, max_length=200)
    targets: TargetsIn | None = None
    max_duration: str | None = Field(default=None, description="e.g. 90m; default the policy's")
    scheduled_at: datetime | None = None
    inject: list[InjectAlert] = Field(default_factory=list, max_length=MAX_INJECT)
    chaos: ChaosTemplate | None = None

    _max = field_validator("max_duration")(_duration_text)

    @model_validator(mode="after")
    def _chaos_needs_template(self) -> DrillIn:
        if self.kind == "chaos" and self.chaos is None:
            raise ValueError(
                "a chaos experiment needs its template (seed 001 8.2): chaos.name, "
                "hypothesis, target, fault_type, kill_switch, success_criteria"
            )
        if self.kind != "chaos" and self.chaos is not None:
            raise ValueError("only a chaos experiment carries the chaos template")
        return self


class EndIn(Input):
    note: str = Field(default="", max_length=2000)


class ScoreRow(BaseModel):
    """One timed row of the scorecard: target and actual in minutes, met Y/N (None: not
    measured yet)."""

    row: Literal["detect", "escalate", "recover"]
    label: str
    label_ko: str
    target_minutes: float
    actual_minutes: float | None
    met: bool | None
    measured_from: datetime | None
    measured_to: datetime | None


class JudgedRow(BaseModel):
    """A row people judge: communication (adequate/lacking), runbook accuracy."""

    row: Literal["communication", "runbook"]
    label: str
    label_ko: str
    value: str | None
    suggested: str | None = None
    note: str = ""
    # What Haetae saw, beside the judgement: each attached runbook's accuracy and step counts.
    evidence: list[str] = Field(default_factory=list)


class ScorecardOut(BaseModel):
    drill: str
    title: str
    kind: str
    status: str
    incident_id: str | None
    fault_started_at: datetime | None
    timed: list[ScoreRow]
    judged: list[JudgedRow]
    participants: list[str]
    assessment: str
    items: list[DrillItemOut]


class ScorecardIn(Input):
    """What people fill in; a field not given stays as it was."""

    communication: Communication | None = None
    communication_note: str | None = Field(default=None, max_length=5000)
    runbook: RunbookAccuracy | None = None
    runbook_note: str | None = Field(default=None, max_length=5000)
    participants: list[str] | None = Field(default=None, max_length=200)
    assessment: str | None = Field(default=None, max_length=20_000)


class DrillItemIn(Input):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    due_date: date | None = None
    priority: Literal["high", "medium", "low"] = "medium"


class DrillItemOut(BaseModel):
    code: str  # TI-001
    title: str
    owner: str | None
    due_date: date | None
    column: str  # the board's column: its status
    priority: str


class DrillOut(BaseModel):
    id: int
    code: str  # DR-001
    number: int
    kind: str
    title: str
    scenario: str
    severity: str
    services: list[str]
    status: str
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    max_duration_seconds: int
    incident_id: str | None
    integration_id: int | None
    inject: list[dict[str, Any]]
    injected_at: datetime | None
    chaos: dict[str, Any]
    targets: dict[str, Any]
    participants: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime


class DrillPage(BaseModel):
    drills: list[DrillOut]
    total: int


ScorecardOut.model_rebuild()
