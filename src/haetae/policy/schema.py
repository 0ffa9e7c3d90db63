"""The Pydantic schema of a policy file."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from haetae.inputs import Strict
from haetae.policy.communications import CommunicationsSection
from haetae.policy.escalation import EscalationSection
from haetae.policy.followup import BoardSection, PostmortemSection
from haetae.policy.measures import DrillsSection, FigureName, MetricsSection, ReviewsSection
from haetae.policy.response import ResponseSection
from haetae.policy.routing import Routing, severity_problems
from haetae.policy.terms import ID_PATTERN, Text, parse_duration

SPECIAL_TARGETS = ("next_business_day", "next_release")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Loc = tuple[int | str, ...]


def check_zone(value: str) -> str:
    """The value, if it names an IANA time zone; else ValueError (never OSError: a name too
    long for a file name, or one with a NUL, is just not a zone)."""
    try:
        if len(value) > 64 or "\x00" in value:
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = value if len(value) <= 64 else value[:61] + "..."
        raise ValueError(f"'{shown}' is not an IANA time zone such as Asia/Seoul") from None
    return value


class PolicyReferenceError(ValueError):
    """Mistakes found across fields, each with the location of the offending value.

    A model validator can only fail as a whole; the loader adds each `loc` to the model's own
    location so that the report names the exact line and field.
    """

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


class Target(Strict):
    """A time target: a duration, or a named point (next business day, next release)."""

    value: str

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, data: object) -> object:
        if isinstance(data, str):
            if data not in SPECIAL_TARGETS:
                parse_duration(data)  # report a bad duration at the target itself
            return {"value": data}
        if isinstance(data, dict | Target):
            return data
        raise ValueError(
            f"'{data}' is not a duration like 90s, 15m, 2h or 1d, "
            "nor next_business_day or next_release"
        )

    @field_validator("value")
    @classmethod
    def _valid(cls, value: str) -> str:
        if value not in SPECIAL_TARGETS:
            parse_duration(value)
        return value

    @property
    def duration(self) -> timedelta | None:
        return None if self.value in SPECIAL_TARGETS else parse_duration(self.value)


class ResolutionCondition(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: Text
    # manual: a responder confirms it; roles_assigned: the roles are filled;
    # update_posted: at least one status update was posted.
    kind: Literal["manual", "roles_assigned", "update_posted"] = "manual"
    roles: list[str] = Field(default_factory=list)


class Severity(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text = ""
    response_target: Target
    recovery_target: Target
    update_interval: Target | None = None
    weight: float = Field(gt=0, description="severity factor of the priority score")
    required_roles: list[str] = Field(default_factory=list)
    resolution_conditions: list[ResolutionCondition] = Field(default_factory=list)

    @field_validator("update_interval")
    @classmethod
    def _interval_is_duration(cls, value: Target | None) -> Target | None:
        if value is not None and value.duration is None:
            raise ValueError("update_interval must be a duration like 15m")
        return value


class ImpactLevel(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: Text
    weight: float = Field(gt=0)


class ImpactMatrix(Strict):
    """Rows are business-impact levels, columns user-impact levels, cells severities."""

    business_impact: list[ImpactLevel] = Field(min_length=1)
    user_impact: list[ImpactLevel] = Field(min_length=1)
    cells: dict[str, list[str]]

    @model_validator(mode="after")
    def _shape(self) -> ImpactMatrix:
        problems: list[tuple[Loc, str]] = []
        problems += _duplicates(("business_impact",), [lv.id for lv in self.business_impact])
        problems += _duplicates(("user_impact",), [lv.id for lv in self.user_impact])
        rows = [level.id for level in self.business_impact]
        for row in rows:
            if row not in self.cells:
                problems.append((("cells",), f"cells has no row for business impact '{row}'"))
        for row, cells in self.cells.items():
            if row not in rows:
                problems.append(
                    (
                        ("cells", row),
                        f"cells row '{row}' is not a business_impact level "
                        f"(one of: {', '.join(rows)})",
                    )
                )
            elif len(cells) != len(self.user_impact):
                problems.append(
                    (
                        ("cells", row),
                        f"cells row '{row}' has {len(cells)} entries; "
                        f"user_impact has {len(self.user_impact)} levels",
                    )
                )
        if problems:
            raise PolicyReferenceError(problems)
        return self


class Role(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: Text
    description: Text = ""


class Category(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: Text


class BusinessHours(Strict):
    """The working week: business days, the day's hours, and holidays."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time = time(9, 0)
    # The end of the business day: pages before start or from end on are out of hours (the
    # metrics' responder load). Must be after start.
    end: time = time(18, 0)
    # Days that are not business days although their weekday is (public holidays).
    holidays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _end_after_start(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business_hours.end must be after business_hours.start")
        return self


class Priority(Strict):
    """Seed 000: priority = (severity x business impact x user impact) / technical complexity."""

    default_complexity: int = Field(default=1, ge=1, le=5)


class Privacy(Strict):
    """What people may see of each other."""

    # Viewers are often people outside the on-call team (or a wall screen's key); they see
    # their own e-mail address only unless this is true.
    viewers_see_emails: bool = False


class Policy(Strict):
    version: Literal[1] = 1
    name: str
    description: Text = ""
    timezone: str = "Asia/Seoul"
    severities: list[Severity] = Field(min_length=1)
    impact_matrix: ImpactMatrix | None = None
    roles: list[Role] = Field(min_length=1)
    categories: list[Category] = Field(default_factory=list)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    priority: Priority = Field(default_factory=Priority)
    routing: Routing = Field(default_factory=Routing)
    escalation: EscalationSection = Field(default_factory=EscalationSection)
    privacy: Privacy = Field(default_factory=Privacy)
    postmortem: PostmortemSection = Field(default_factory=PostmortemSection)
    board: BoardSection = Field(default_factory=BoardSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    reviews: ReviewsSection = Field(default_factory=ReviewsSection)
    drills: DrillsSection = Field(default_factory=DrillsSection)
    response: ResponseSection = Field(default_factory=ResponseSection)
    communications: CommunicationsSection = Field(default_factory=CommunicationsSection)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @model_validator(mode="after")
    def _references(self) -> Policy:
        problems: list[tuple[Loc, str]] = []
        problems += _duplicates(("severities",), [s.id for s in self.severities])
        problems += _duplicates(("roles",), [r.id for r in self.roles])
        problems += _duplicates(("categories",), [c.id for c in self.categories])
        role_ids = list(dict.fromkeys(r.id for r in self.roles))
        known_roles = ", ".join(role_ids)
        for i, sev in enumerate(self.severities):
            conditions = sev.resolution_conditions
            problems += _duplicates(
                ("severities", i, "resolution_conditions"), [c.id for c in conditions]
            )
            for k, role in enumerate(sev.required_roles):
                if role not in role_ids:
                    problems.append(
                        (
                            ("severities", i, "required_roles", k),
                            f"severity {sev.id}: required role '{role}' is not in roles "
                            f"(one of: {known_roles})",
                        )
                    )
            for j, cond in enumerate(conditions):
                for k, role in enumerate(cond.roles):
                    if role not in role_ids:
                        problems.append(
                            (
                                ("severities", i, "resolution_conditions", j, "roles", k),
                                f"severity {sev.id}: condition '{cond.id}' names unknown role "
                                f"'{role}' (one of: {known_roles})",
                            )
                        )
        if self.impact_matrix:
            sev_ids = list(dict.fromkeys(s.id for s in self.severities))
            for row, cells in self.impact_matrix.cells.items():
                for k, cell in enumerate(cells):
                    if cell not in sev_ids:
                        problems.append(
                            (
                                ("impact_matrix", "cells", row, k),
                                f"impact_matrix row '{row}': '{cell}' is not a severity "
                                f"(one of: {', '.join(sev_ids)})",
                            )
                        )
        severity_ids = list(dict.fromkeys(s.id for s in self.severities))
        category_ids = [c.id for c in self.categories]
        problems += _duplicates(("routing", "rules"), [r.name for r in self.routing.rules], "name")
        for where, rule in [
            *((("routing", "rules", i), r) for i, r in enumerate(self.routing.rules)),
            (("routing", "default"), self.routing.default),
        ]:
            problems += [
                ((*where, *loc), message)
                for loc, message in severity_problems(rule, severity_ids, category_ids)
            ]
        problems += _escalation_problems(self.escalation, severity_ids, role_ids)
        problems += _followup_problems(self, severity_ids)
        if problems:
            raise PolicyReferenceError(problems)
        return self

    # Lookups used by the incident rules.
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def severity(self, severity_id: str) -> Severity | None:
        return next((s for s in self.severities if s.id == severity_id), None)

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def classify(self, business_impact: str, user_impact: str) -> str | None:
        """The matrix's severity for one cell, or None if either level is unknown."""
        matrix = self.impact_matrix
        if matrix is None:
            return None
        columns = [level.id for level in matrix.user_impact]
        if business_impact not in matrix.cells or user_impact not in columns:
            return None
        return matrix.cells[business_impact][columns.index(user_impact)]

    def is_business_day(self, day: date) -> bool:
        hours = self.business_hours
        return WEEKDAYS[day.weekday()] in hours.days and day not in hours.holidays

    def next_business_day(self, after: datetime) -> datetime:
        """The start of business on the next business day after `after`, in UTC."""
        local = after.astimezone(self.zone)
        day = local.date()
        while True:
            day += timedelta(days=1)
            if self.is_business_day(day):
                start = datetime.combine(day, self.business_hours.start, tzinfo=self.zone)
                return start.astimezone(after.tzinfo)

    def business_days_after(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th business day after `start`'s own day, in `start`'s zone:
        resolved on a Friday with 3 business days means by the end of Wednesday."""
        day = start.astimezone(self.zone).date()
        left = days
        while left:
            day += timedelta(days=1)
            if self.is_business_day(day):
                left -= 1
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.zone)
        return end.astimezone(start.tzinfo)

    def target_due(self, target: Target, start: datetime) -> datetime | None:
        if target.duration is not None:
            return start + target.duration
        if target.value == "next_business_day":
            return self.next_business_day(start)
        return None  # next_release has no clock time

    def figure_target(self, severity_id: str, figure: FigureName) -> timedelta | None:
        """A severity's target for a metric figure (metrics.targets), falling back to the
        severity's response_target (acknowledge) or recovery_target (resolve) when those are
        durations; None when there is no target."""
        given = self.metrics.targets.get(severity_id)
        value = getattr(given, figure) if given is not None else None
        if value is not None:
            return parse_duration(value)
        sev = self.severity(severity_id)
        if sev is None:
            return None
        if figure == "acknowledge":
            return sev.response_target.duration
        if figure == "resolve":
            return sev.recovery_target.duration
        return None


def _escalation_problems(
    section: EscalationSection, severity_ids: list[str], role_ids: list[str]
) -> list[tuple[Loc, str]]:
    problems = _duplicates(("escalation", "policies"), [p.id for p in section.policies])
    policy_ids = [p.id for p in section.policies]
    for severity, slugs in section.by_severity.items():
        if severity not in severity_ids:
            problems.append(
                (
                    ("escalation", "by_severity", severity),
                    f"'{severity}' is not a severity (one of: {', '.join(severity_ids)})",
                )
            )
        for k, slug in enumerate(slugs):
            if slug not in policy_ids:
                problems.append(
                    (
                        ("escalation", "by_severity", severity, k),
                        f"escalation policy '{slug}' is not in escalation.policies "
                        f"(one of: {', '.join(policy_ids) or 'none'})",
                    )
                )
    for i, spec in enumerate(section.policies):
        for j, step in enumerate(spec.steps):
            for k, target in enumerate(step.notify):
                if target.role is not None and target.role not in role_ids:
                    problems.append(
                        (
                            ("escalation", "policies", i, "steps", j, "notify", k, "role"),
                            f"role '{target.role}' is not in roles (one of: {', '.join(role_ids)})",
                        )
                    )
    return problems


def _followup_problems(policy: Policy, severity_ids: list[str]) -> list[tuple[Loc, str]]:
    known = ", ".join(severity_ids)
    problems: list[tuple[Loc, str]] = []
    for where, ids in (
        (("postmortem", "required_severities"), policy.postmortem.required_severities),
        (("board", "expedite_severities"), policy.board.expedite_severities),
        (("board", "backlog_severities"), policy.board.backlog_severities),
    ):
        for k, sev in enumerate(ids):
            if sev not in severity_ids:
                problems.append(((*where, k), f"'{sev}' is not a severity (one of: {known})"))
    problems += _duplicates(
        ("postmortem", "deadlines"), [d.id for d in policy.postmortem.deadlines]
    )
    problems += _duplicates(("postmortem", "sections"), [s.id for s in policy.postmortem.sections])
    problems += _response_problems(policy, severity_ids)
    for sev in policy.metrics.targets:
        if sev not in severity_ids:
            problems.append(
                (("metrics", "targets", sev), f"'{sev}' is not a severity (one of: {known})")
            )
    drill_sev = policy.drills.default_severity
    if drill_sev is not None and drill_sev not in severity_ids:
        problems.append(
            (("drills", "default_severity"), f"'{drill_sev}' is not a severity (one of: {known})")
        )
    return problems


def _response_problems(policy: Policy, severity_ids: list[str]) -> list[tuple[Loc, str]]:
    known = ", ".join(severity_ids)
    role_ids = [r.id for r in policy.roles]
    section = policy.response
    problems = _duplicates(("response", "checklists"), [c.id for c in section.checklists])
    for i, checklist in enumerate(section.checklists):
        where: Loc = ("response", "checklists", i)
        problems += _duplicates((*where, "items"), [item.id for item in checklist.items])
        if checklist.role is not None and checklist.role not in role_ids:
            problems.append(
                (
                    (*where, "role"),
                    f"role '{checklist.role}' is not in roles (one of: {', '.join(role_ids)})",
                )
            )
        for k, sev in enumerate(checklist.severities):
            if sev not in severity_ids:
                problems.append(
                    ((*where, "severities", k), f"'{sev}' is not a severity (one of: {known})")
                )
    watched = section.certificate_watch.incident_severity
    if watched is not None and watched not in severity_ids:
        problems.append(
            (
                ("response", "certificate_watch", "incident_severity"),
                f"'{watched}' is not a severity (one of: {known})",
            )
        )
    comms = policy.communications
    severity_lists: list[tuple[Loc, list[str]]] = [
        (("communications", "routes", i, "severities"), r.severities)
        for i, r in enumerate(comms.routes)
    ]
    severity_lists.append(
        (
            ("communications", "management_summary", "severities"),
            comms.management_summary.severities,
        )
    )
    for where, ids in severity_lists:
        for k, sev in enumerate(ids):
            if sev not in severity_ids:
                problems.append(((*where, k), f"'{sev}' is not a severity (one of: {known})"))
    for sev in comms.required_fields:
        if sev not in severity_ids:
            problems.append(
                (
                    ("communications", "required_fields", sev),
                    f"'{sev}' is not a severity (one of: {known})",
                )
            )
    for k, sev in enumerate(section.first_analysis.severities):
        if sev not in severity_ids:
            problems.append(
                (
                    ("response", "first_analysis", "severities", k),
                    f"'{sev}' is not a severity (one of: {known})",
                )
            )
    return problems


def _duplicates(where: Loc, ids: list[str], key: str = "id") -> list[tuple[Loc, str]]:
    """A problem at the `id` of every item whose id an earlier item already has."""
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for index, item in enumerate(ids):
        if item in seen:
            problems.append(((*where, index, key), f"{where[-1]}: '{item}' is defined twice"))
        seen.add(item)
    return problems
