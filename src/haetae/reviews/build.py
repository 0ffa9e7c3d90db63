"""What a review report holds, gathered for one period: the metrics (by severity and
category, and per week for a monthly review), the post-mortems' causes, and the open and
overdue action items. Kept as plain JSON (ids and numbers, no words), so that it reads in
any language later (document.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.queries import is_overdue, today
from haetae.actions.service import code
from haetae.incidents.models import Incident
from haetae.metrics import queries as metrics
from haetae.metrics.schemas import GroupBy, MetricsReport
from haetae.policy.schema import Policy
from haetae.postmortems.models import Postmortem
from haetae.reviews.periods import Period

# Bumped when the shape of `data` changes, so old reports are read the way they were kept.
VERSION = 1
# The longest lists a report keeps; the counts beside them are always whole.
MAX_ITEMS = 50
MAX_CAUSES = 30
CAUSE_CHARS = 500
REVIEWED = ("in_review", "published")


def _metrics(
    session: Session,
    policy: Policy,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    now: datetime,
) -> MetricsReport:
    # With `now`, work still open past its target counts as missing it.
    return metrics.report(
        session, policy, start=start, end=end, group_by=group_by, locale="en", now=now
    )


def _groups(found: MetricsReport) -> list[dict[str, Any]]:
    return [
        {"key": group.key, "figures": group.figures.model_dump(mode="json")}
        for group in found.groups
    ]


def gather(session: Session, policy: Policy, period: Period, *, now: datetime) -> dict[str, Any]:
    """The report's data for `period` (its figures read as of `now` for the action items)."""
    start, end = period.bounds(policy.zone)
    by_severity = _metrics(session, policy, start, end, "severity", now)
    data: dict[str, Any] = {
        "version": VERSION,
        "kind": period.kind,
        "period_start": period.first.isoformat(),
        "period_end": period.last.isoformat(),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": policy.timezone,
        "totals": by_severity.totals.model_dump(mode="json"),
        "drills": by_severity.drills,
        "targets": [t.model_dump(mode="json") for t in by_severity.targets],
        "mtbf": [m.model_dump(mode="json") for m in by_severity.mtbf],
        "recurrence": by_severity.recurrence.model_dump(mode="json"),
        "by_severity": _groups(by_severity),
        "by_category": _groups(_metrics(session, policy, start, end, "category", now)),
        "actions": action_items(session, policy, now=now),
    }
    if period.kind == "monthly":
        data["by_week"] = _groups(_metrics(session, policy, start, end, "week", now))
        data["causes"] = causes(session, start=start, end=end)
    return data


def causes(session: Session, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Seed 000's top causes: the root causes and categories of the post-mortems in review or
    published, of the period's incidents or submitted in the period (drills left out)."""
    rows = session.execute(
        select(
            Incident.id,
            Incident.title,
            Incident.severity,
            Incident.category,
            Postmortem.status,
            Postmortem.root_cause,
        )
        .join(Postmortem, Postmortem.incident_id == Incident.id)
        .where(
            Postmortem.status.in_(REVIEWED),
            Incident.drill.is_(False),
            or_(
                (Incident.declared_at >= start) & (Incident.declared_at < end),
                (Postmortem.submitted_at >= start) & (Postmortem.submitted_at < end),
            ),
        )
        .order_by(Incident.declared_at, Incident.id)
    ).all()
    categories = Counter(row.category or "" for row in rows)
    return {
        "postmortems": len(rows),
        # Most frequent first; "" is an incident without a category.
        "categories": [{"category": c, "count": n} for c, n in categories.most_common()],
        "items": [
            {
                "incident_id": row.id,
                "title": row.title,
                "severity": row.severity,
                "category": row.category,
                "status": row.status,
                "root_cause": (row.root_cause or "").strip()[:CAUSE_CHARS],
            }
            for row in rows[:MAX_CAUSES]
        ],
    }


def action_items(session: Session, policy: Policy, *, now: datetime) -> dict[str, Any]:
    """The action items not done (open), and those past their due date in the policy's zone
    (overdue), as of `now`: the counts, and the items, overdue and soonest due first."""
    on = today(policy, now)
    open_items = ActionItem.column != "done"
    late = open_items & (ActionItem.due_date < on)
    open_count = session.scalar(select(func.count(ActionItem.id)).where(open_items))
    overdue_count = session.scalar(select(func.count(ActionItem.id)).where(late))
    rows = session.scalars(
        select(ActionItem)
        .where(open_items)
        .order_by(
            ActionItem.due_date.is_(None),
            ActionItem.due_date,
            ActionItem.number,
        )
        .limit(MAX_ITEMS)
    ).all()
    return {
        "as_of": on.isoformat(),
        "open": open_count or 0,
        "overdue": overdue_count or 0,
        "items": [
            {
                "code": code(item),
                "title": item.title,
                "owner": item.owner,
                "due_date": item.due_date.isoformat() if item.due_date else None,
                "priority": item.priority,
                "column": item.column,
                "incident_id": item.incident_id,
                "overdue": is_overdue(item.due_date, item.column, on),
            }
            for item in rows
        ],
    }
