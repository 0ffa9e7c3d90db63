"""What the metrics API answers (docs/metrics.md defines each figure). Durations are in
seconds; a figure with no incident to measure is null, never 0."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["none", "severity", "category", "service", "team", "source", "week", "month"]
GROUP_BYS: tuple[GroupBy, ...] = (
    "none",
    "severity",
    "category",
    "service",
    "team",
    "source",
    "week",
    "month",
)
# The timed figures, in the order reports show them.
FigureKey = Literal["mttd", "mtta", "mttm", "mttr", "mttr_from_detect", "communicate"]
FIGURES: tuple[FigureKey, ...] = ("mttd", "mtta", "mttm", "mttr", "mttr_from_detect", "communicate")


class Stat(BaseModel):
    """One duration figure over a set of incidents: how many had it, mean, median, p90."""

    n: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class Share(BaseModel):
    """A compliance share: of `n` incidents (or updates) measured, `met` met the target."""

    n: int
    met: int
    rate: float | None = None  # met / n, null when n == 0


class Load(BaseModel):
    """Responder load and cost (seed 000's 비용 및 리소스)."""

    pages: int  # page messages sent (drills excluded)
    people_paged: int  # distinct people paged
    pages_out_of_hours: int  # pages sent outside the policy's business hours
    role_hours: float  # hours role holders held their roles
    cost: float | None = None  # role_hours * metrics.hourly_cost, null without a rate
    currency: str | None = None


class Figures(BaseModel):
    count: int  # incidents counted (declared in the window, not drills, not canceled)
    canceled: int  # canceled incidents, counted apart
    mttd: Stat
    mtta: Stat
    mttm: Stat
    mttr: Stat
    mttr_from_detect: Stat
    communicate: Stat
    response: Share  # acknowledged within the severity's response target
    recovery: Share  # resolved within the severity's recovery target
    updates: Share  # status updates posted by the time the cadence asked for them
    recurrences: int
    load: Load


class Group(BaseModel):
    key: str  # the severity id, category id, service, team slug, alert|manual, or the period
    label: str  # as shown, in the reader's language
    figures: Figures


class TargetCheck(BaseModel):
    """Target against actual (seed 000's 목표 및 현황), marked met or missed."""

    scope: str  # a severity id, or "all" for MTBF and recurrence
    figure: Literal["mttd", "mtta", "mttr", "communicate", "mtbf", "recurrence_rate"]
    target: float  # seconds, or a share for recurrence_rate
    actual: float | None  # the mean (seed 000 defines means); the median and p90 are beside it
    median: float | None = None
    p90: float | None = None
    met: bool | None  # None when nothing was measured


class Mtbf(BaseModel):
    """Seed 000: (last resolved - previous resolved) / (count - 1), overall and per service."""

    scope: str  # "all" or a service
    incidents: int
    seconds: float | None


class Recurrence(BaseModel):
    count: int  # incidents counted
    marked: int  # marked as a recurrence (recurrence_of)
    matched: int  # matched by root cause or alert fingerprint within the window, not marked
    rate: float | None
    target: float
    met: bool | None


class MetricsReport(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    timezone: str
    group_by: GroupBy
    totals: Figures
    groups: list[Group]
    drills: int  # drill incidents in the window, left out of every figure
    targets: list[TargetCheck]
    mtbf: list[Mtbf]
    recurrence: Recurrence

    model_config = {"populate_by_name": True}


class Bucket(BaseModel):
    upper: float | None  # seconds; null for the last, open bucket
    count: int


class Distribution(BaseModel):
    """One figure's spread per severity: histogram buckets and the box's five numbers."""

    severity: str
    label: str
    n: int
    min: float | None
    q1: float | None
    median: float | None
    q3: float | None
    p90: float | None
    max: float | None
    buckets: list[Bucket]


class DistributionReport(BaseModel):
    figure: FigureKey
    from_: datetime = Field(alias="from")
    to: datetime
    severities: list[Distribution]

    model_config = {"populate_by_name": True}
