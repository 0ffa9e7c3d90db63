"""The policy's measuring sections: `metrics:` (each severity's MTTD/MTTA/MTTR/communication
targets, MTBF and the recurrence target), `reviews:` (when the weekly and monthly review
reports are built and who gets them) and `drills:` (the scorecard's targets and the safety
limit of a drill).

Seed 000 sets MTTD Sev0 1 min / Sev1 5 min, MTTR Sev0 15 min / Sev1 30 min, MTBF "fewer than
one a month" and a recurrence rate under 10%; seed 002 sets detect < 5 min, respond < 10,
recover < 30 and communicate < 15; seed 001 8.3 scores a drill on detection, escalation and
recovery (RTO) time, communication and runbook accuracy.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from haetae.inputs import Strict
from haetae.policy.terms import parse_duration

# The figures a severity may set a target for (Policy.figure_target).
FigureName = Literal["detect", "acknowledge", "resolve", "communicate"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class FigureTargets(Strict):
    """One severity's targets, each a duration. A figure not given falls back to the
    severity's own target where there is one: acknowledge to response_target, resolve to
    recovery_target (when those are durations); detect and communicate have no fallback."""

    detect: str | None = None  # MTTD: detected - started
    acknowledge: str | None = None  # MTTA: acknowledged - detected
    resolve: str | None = None  # MTTR: resolved - (started | detected, per mttr_from)
    communicate: str | None = None  # first status update - detected (seed 002)

    @field_validator("detect", "acknowledge", "resolve", "communicate")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)


class MetricsSection(Strict):
    # Severity id -> its targets.
    targets: dict[str, FigureTargets] = Field(default_factory=dict)
    # Which start the MTTR target is measured from. Both durations are always reported;
    # seed 000 measures MTTR from detection, the other seeds from the start.
    mttr_from: Literal["started", "detected"] = "started"
    # MTBF at least this long (seed 000: fewer than one incident a month = 30d). None: no target.
    mtbf: str | None = "30d"
    # The recurrence rate at most this share (0.10 = 10%).
    recurrence_rate: float = Field(default=0.10, ge=0, le=1)
    # An incident whose root cause or alert fingerprint matches an earlier one resolved within
    # this window counts as a recurrence, besides those marked as one.
    recurrence_window: str = "90d"
    # Responder cost: an hour of a role holder's time, in `currency` (None: hours only).
    hourly_cost: float | None = Field(default=None, ge=0)
    currency: str = "KRW"

    @field_validator("mtbf", "recurrence_window")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)

    @property
    def recurrence_window_delta(self) -> timedelta:
        return parse_duration(self.recurrence_window)


class ReviewSchedule(Strict):
    """When a review report is built, in the policy's time zone, and who receives it."""

    enabled: bool = True
    # Weekly: the weekday; monthly: the day of the month (1-28).
    weekday: Weekday = "mon"
    day: int = Field(default=1, ge=1, le=28)
    at: time = time(10, 0)
    # Usernames, or team:<slug> for a team's members; each reads it in their own language.
    recipients: list[str] = Field(default_factory=list)


class ReviewsSection(Strict):
    """Seed 000's weekly review (statistics, procedure compliance, tools, team) and monthly
    review (trends and causes, policy, budget and resources)."""

    weekly: ReviewSchedule = Field(default_factory=ReviewSchedule)
    monthly: ReviewSchedule = Field(default_factory=ReviewSchedule)


DrillKind = Literal["tabletop", "simulation", "game_day", "chaos"]
DRILL_KINDS: tuple[DrillKind, ...] = ("tabletop", "simulation", "game_day", "chaos")


class DrillTargets(Strict):
    """Seed 001 8.3's timed rows: detection, escalation and recovery (RTO), in minutes."""

    detect: str = "5m"
    escalate: str = "10m"
    recover: str = "30m"

    @field_validator("detect", "escalate", "recover")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)


class DrillsSection(Strict):
    targets: DrillTargets = Field(default_factory=DrillTargets)
    # The longest a drill may run before its kill switch ends it by itself.
    max_duration: str = "2h"
    # Drills are declared at this severity unless the drill names one.
    default_severity: str | None = None

    @field_validator("max_duration")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)

    @model_validator(mode="after")
    def _bounded(self) -> DrillsSection:
        if parse_duration(self.max_duration) > timedelta(days=1):
            raise ValueError("drills.max_duration must be at most 1d")
        return self
