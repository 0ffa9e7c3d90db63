"""The review reports' rules: which period a request means, building and keeping a report
once per period, reading the kept ones, and queuing a report to the policy's recipients."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.inputs import is_number
from haetae.notify import outbox
from haetae.notify.messages import template_locale
from haetae.people.models import Team, TeamMember
from haetae.policy.schema import Policy
from haetae.reviews import build, document, render
from haetae.reviews.models import ReviewReport
from haetae.reviews.periods import Kind, Period, check_kind, last_full, period_of
from haetae.reviews.schemas import ReviewOut, ReviewPage, ReviewSummary

SYSTEM = "system"
MAX_PAGE = 100


def period_for(policy: Policy, kind: str, day: date | None, *, now: datetime) -> Period:
    """The period holding `day` (a day in the policy's zone), or the last full one. A period
    not over yet is refused: its report would be missing its last days."""
    chosen = check_kind(kind)
    if day is None:
        return last_full(chosen, now, policy.zone)
    period = period_of(chosen, day)
    if period.last >= now.astimezone(policy.zone).date():
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"The {chosen} period {period.label} is not over yet.",
            field="period",
        )
    return period


def find(session: Session, kind: Kind, first: date) -> ReviewReport | None:
    return session.scalars(
        select(ReviewReport).where(ReviewReport.kind == kind, ReviewReport.period_start == first)
    ).one_or_none()


def keep(
    session: Session, period: Period, data: dict[str, Any], *, by: str, now: datetime
) -> ReviewReport:
    """Keep a built report, or return the one kept for the period meanwhile (another worker
    or request): insert-if-absent, so two builders never fail on the unique period."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, ReviewReport.__table__)
    session.connection().execute(
        insert(table)
        .values(
            kind=period.kind,
            period_start=period.first,
            period_end=period.last,
            built_at=now,
            built_by=by,
            data=data,
        )
        .on_conflict_do_nothing(index_elements=["kind", "period_start"])
    )
    found = find(session, period.kind, period.first)
    assert found is not None
    return found


def build_report(
    session: Session,
    policy: Policy,
    period: Period,
    *,
    by: str,
    now: datetime,
    rebuild: bool = False,
) -> tuple[ReviewReport, bool]:
    """The period's report: the kept one, or built and kept now; `rebuild` builds it again
    with today's figures (post-mortems published since, say). True when built now."""
    kept = find(session, period.kind, period.first)
    if kept is not None and not rebuild:
        return kept, False
    data = build.gather(session, policy, period, now=now)
    if kept is not None:
        kept.data, kept.built_at, kept.built_by = data, now, by
        return kept, True
    return keep(session, period, data, by=by, now=now), True


def get(session: Session, report_id: int) -> ReviewReport:
    found = session.get(ReviewReport, report_id)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No review report {report_id}.")
    return found


def list_reports(
    session: Session, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
) -> ReviewPage:
    """Newest period first; the cursor is the last report's id of the previous page."""
    query = select(ReviewReport)
    if kind is not None:
        query = query.where(ReviewReport.kind == check_kind(kind))
    if cursor:
        if not is_number(cursor) or len(cursor) > 9:
            raise HaetaeError("INVALID_QUERY", "cursor is not one this list gave.", field="cursor")
        last = session.get(ReviewReport, int(cursor))
        if last is not None:
            query = query.where(
                (ReviewReport.period_start < last.period_start)
                | ((ReviewReport.period_start == last.period_start) & (ReviewReport.id < last.id))
            )
    rows = list(
        session.scalars(
            query.order_by(ReviewReport.period_start.desc(), ReviewReport.id.desc()).limit(
                limit + 1
            )
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ReviewPage(
        items=[summary(r) for r in rows],
        next_cursor=str(rows[-1].id) if more and rows else None,
        limit=limit,
    )


def summary(report: ReviewReport) -> ReviewSummary:
    return ReviewSummary(
        id=report.id,
        kind=report.kind,
        period_start=report.period_start,
        period_end=report.period_end,
        built_at=report.built_at,
        built_by=report.built_by,
        sent_at=report.sent_at,
    )


def built_text(policy: Policy, report: ReviewReport) -> str:
    return report.built_at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z")


def as_document(policy: Policy, report: ReviewReport, *, locale: str) -> document.Document:
    return document.document(
        report.data, policy, locale=locale, built_at=built_text(policy, report)
    )


def as_text(policy: Policy, report: ReviewReport, *, fmt: str, locale: str) -> str:
    if fmt not in render.FORMATS:
        raise HaetaeError("VALIDATION_ERROR", "format must be md, html or csv", field="format")
    doc = as_document(policy, report, locale=locale)
    return render.render(doc, cast(render.Format, fmt))


def out(policy: Policy, report: ReviewReport, *, locale: str) -> ReviewOut:
    return ReviewOut(
        **summary(report).model_dump(),
        data=report.data,
        markdown=as_text(policy, report, fmt="md", locale=locale),
    )


def filename(report: ReviewReport, fmt: str) -> str:
    return f"review-{report.kind}-{report.period_start.isoformat()}.{fmt}"


# Sending


def recipients(session: Session, names: list[str]) -> list[User]:
    """The active users the policy names: usernames, or team:<slug> for a team's members;
    each once, in the order named."""
    usernames = [n for n in names if not n.startswith("team:")]
    slugs = [n.removeprefix("team:") for n in names if n.startswith("team:")]
    found: dict[int, User] = {}
    by_name = {
        u.username: u
        for u in session.scalars(
            select(User).where(User.username.in_(usernames), User.active.is_(True))
        )
    }
    members: dict[str, list[User]] = {}
    for slug, user in session.execute(
        select(Team.slug, User)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(User, User.id == TeamMember.user_id)
        .where(Team.slug.in_(slugs), User.active.is_(True))
        .order_by(User.username)
    ).all():
        members.setdefault(slug, []).append(user)
    for name in names:
        if name.startswith("team:"):
            for user in members.get(name.removeprefix("team:"), []):
                found.setdefault(user.id, user)
        elif name in by_name:
            found.setdefault(by_name[name].id, by_name[name])
    return list(found.values())


def send(session: Session, policy: Policy, report: ReviewReport, *, now: datetime) -> int:
    """Queue the report to each of the schedule's recipients in their own language (the
    Markdown as the message's body, and a link to its page), under one idempotency key per
    (report, recipient), and mark it sent. How many recipients could be reached."""
    schedule = getattr(policy.reviews, report.kind)
    bodies: dict[str, str] = {}
    queued = 0
    for user in recipients(session, schedule.recipients):
        lang = template_locale(user.locale)
        if lang not in bodies:
            bodies[lang] = as_text(policy, report, fmt="md", locale=lang)
        new = outbox.notify_user(
            session,
            user.id,
            kind="review_report",
            idem_key=f"review:{report.id}:u{user.id}",
            now=now,
            data={
                "report_id": report.id,
                "review": report.kind,
                "period": f"{report.period_start.isoformat()} – {report.period_end.isoformat()}",
                "markdown": bodies[lang],
            },
            first_method_only=True,
        )
        queued += 1 if new is not None else 0
    report.sent_at = now
    return queued
