"""What crosses the reviews API: a build request, a kept report and the list of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from haetae.inputs import Strict


class ReviewBuild(Strict):
    kind: Literal["weekly", "monthly"]
    # A day in the period (policy zone); default: the last full period.
    period: date | None = None
    # Build again with today's figures when one is kept for the period already.
    rebuild: bool = False


class ReviewSummary(BaseModel):
    id: int
    kind: str
    period_start: date
    period_end: date
    built_at: datetime
    built_by: str
    sent_at: datetime | None


class ReviewOut(ReviewSummary):
    data: dict[str, Any]  # the figures and lists as kept (docs/reviews.md)
    markdown: str  # the report in the caller's language


class ReviewPage(BaseModel):
    items: list[ReviewSummary]
    next_cursor: str | None
    limit: int
