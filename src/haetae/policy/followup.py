"""The policy's post-incident sections: `postmortem:` (when one is required, its deadlines and
its template) and `board:` (the follow-up board's columns, WIP limits and classes of service)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from haetae.inputs import Strict
from haetae.policy.terms import ID_PATTERN, Text, parse_duration

# The sections Haetae knows how to draft, fill and render. A policy may also name sections of
# its own (any other id): those are free text, written by people.
BUILTIN_SECTIONS = (
    "basic",  # seed 001 6.1: ID, title, occurred/detected/recovered, outage, severity, IC, author
    "summary",
    "timeline",  # key events, preselected from the incident's timeline and editable
    "alerts",
    "roles",
    "decisions",
    "updates",
    "durations",  # time to detect/acknowledge/mitigate/resolve and minutes past the target
    "impact",
    "five_whys",  # the ordered chain and the root-cause summary
    "contributing_factors",
    "went_well",
    "went_wrong",
    "lucky",
    "measures",  # short-, mid- and long-term measures: action items with a term
    "action_items",
    "lessons",
)

# What marks a deadline as met.
DeadlineEvent = Literal["submitted", "meeting_held", "published"]


class SectionSpec(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: Text | None = None  # None: the built-in section's own title
    prompt: Text = ""  # a hint shown above the field while writing

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, data: object) -> object:
        return {"id": data} if isinstance(data, str) else data


class Deadline(Strict):
    """One post-mortem deadline, counted from the incident's resolution (or the post-mortem's
    start when it began before that): `within` a duration or `within_business_days` of the
    policy's calendar (business_hours.days without business_hours.holidays)."""

    id: str = Field(pattern=ID_PATTERN)
    name: Text
    done_when: DeadlineEvent
    within: str | None = None
    within_business_days: int | None = Field(default=None, ge=1, le=60)
    remind_before: str = "4h"

    @model_validator(mode="after")
    def _one_measure(self) -> Deadline:
        if (self.within is None) == (self.within_business_days is None):
            raise ValueError("give exactly one of within (a duration) or within_business_days")
        if self.within is not None:
            parse_duration(self.within)
        parse_duration(self.remind_before)
        return self


def _default_deadlines() -> list[Deadline]:
    return [
        Deadline(
            id="draft",
            name={"en": "Report draft", "ko": "장애 보고서 초안"},
            done_when="submitted",
            within="24h",
        ),
        Deadline(
            id="meeting",
            name={"en": "Post-mortem meeting", "ko": "Post-mortem 미팅"},
            done_when="meeting_held",
            within_business_days=3,
            remind_before="1d",
        ),
        Deadline(
            id="published",
            name={"en": "Post-mortem published", "ko": "포스트모템 완료"},
            done_when="published",
            within="48h",
        ),
    ]


def _default_sections() -> list[SectionSpec]:
    return [SectionSpec(id=s) for s in BUILTIN_SECTIONS]


class PostmortemSection(Strict):
    # Severities whose resolution starts a post-mortem by itself (anyone may start one for any).
    required_severities: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=_default_deadlines)
    sections: list[SectionSpec] = Field(default_factory=_default_sections, min_length=1)
    # Approvals needed to publish (0: the author may publish without review).
    approvals_required: int = Field(default=1, ge=0, le=10)


Column = Literal["backlog", "in_progress", "review", "done"]
COLUMNS: tuple[Column, ...] = ("backlog", "in_progress", "review", "done")
ClassOfService = Literal["expedite", "fixed_date", "standard"]


class BoardSection(Strict):
    """Seed 001 App. C: lanes Incident, Post-mortem, Incident Action Items; classes of service
    Expedite (ignores WIP limits), Fixed Date and Standard."""

    review_column: bool = True
    # Cards a column may hold, per column; a column not named has no limit.
    wip_limits: dict[Column, int] = Field(default_factory=dict)
    # Incidents of these severities are Expedite, and so are their follow-ups by default.
    expedite_severities: list[str] = Field(default_factory=list)
    # Incidents of these severities wait in the Backlog column (seed 001 7.1: P4 백로그 등록).
    backlog_severities: list[str] = Field(default_factory=list)
    # How long a Done card stays on the board.
    done_visible_days: int = Field(default=14, ge=0, le=365)

    @model_validator(mode="after")
    def _limits(self) -> BoardSection:
        for column, limit in self.wip_limits.items():
            if limit < 1:
                raise ValueError(f"wip_limits.{column} must be at least 1")
        if "review" in self.wip_limits and not self.review_column:
            raise ValueError("wip_limits.review needs review_column: true")
        return self

    @property
    def columns(self) -> tuple[Column, ...]:
        return COLUMNS if self.review_column else tuple(c for c in COLUMNS if c != "review")
