"""The postmortems domain's background job: remind the author and the IC before each of a
post-mortem's deadlines, and flag the deadline overdue once it passes unmet (seed 001 App. A:
the report draft within 24 hours, the meeting within 3 business days; seed 000: published
within 48 hours)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.incidents.models import RoleAssignment
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.notify.messages import template_locale
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.postmortems import deadlines as deadline_rules
from haetae.postmortems.models import Postmortem
from haetae.timeline import service as timeline

BATCH = 200
# How many unpublished post-mortems one read looks at per query while looking for due work.
SCAN_PAGE = 1000
IC_ROLE = "ic"
# What a deadline's state asks for: a reminder while it is due soon, a flag once overdue.
STAGES = {"due_soon": "before", "overdue": "overdue"}


def _met(pm: Postmortem) -> dict[str, datetime | None]:
    return {
        "submitted": pm.submitted_at,
        "meeting_held": pm.meeting_held_at,
        "published": pm.published_at,
    }


def owed(policy: Policy, pm: Postmortem, *, now: datetime) -> list[tuple[str, str, datetime]]:
    """The reminders the post-mortem is owed now: (deadline id, "before" | "overdue", due).
    A met deadline is owed nothing, even when it was met late; one already reminded for
    this stage is owed nothing either."""
    if pm.status == "published":
        return []
    found = []
    for state in deadline_rules.states(policy, pm.deadlines or {}, _met(pm)):
        stage = STAGES.get(state.state(now))
        if stage is not None and stage not in (pm.reminded or {}).get(state.id, []):
            found.append((state.id, stage, state.due))
    return found


def due_postmortems(session: Session, policy: Policy, *, now: datetime, limit: int) -> list[int]:
    """Ids of unpublished post-mortems owed a reminder, up to `limit` (a read: the worker does
    it in a read-only transaction, so that SQLite's one writer is not held meanwhile). The
    deadlines are JSON, so the rule is applied here rather than in SQL; the columns read are
    the few it needs."""
    found: list[int] = []
    after = 0
    while len(found) < limit:
        rows = session.execute(
            select(
                Postmortem.id,
                Postmortem.status,
                Postmortem.deadlines,
                Postmortem.reminded,
                Postmortem.submitted_at,
                Postmortem.meeting_held_at,
                Postmortem.published_at,
            )
            .where(Postmortem.status != "published", Postmortem.id > after)
            .order_by(Postmortem.id)
            .limit(SCAN_PAGE)
        ).all()
        for row in rows:
            pm = Postmortem(
                status=row.status,
                deadlines=row.deadlines,
                reminded=row.reminded,
                submitted_at=row.submitted_at,
                meeting_held_at=row.meeting_held_at,
                published_at=row.published_at,
            )
            if owed(policy, pm, now=now):
                found.append(row.id)
                if len(found) >= limit:
                    break
        if len(rows) < SCAN_PAGE:
            break
        after = rows[-1].id
    return found


def remind_deadlines(
    session: Session,
    policy: Policy,
    *,
    now: datetime,
    ids: list[int] | None = None,
    limit: int = BATCH,
    skip_locked: bool = False,
) -> int:
    """Send what each post-mortem in `ids` (or found now) is owed; how many reminders and
    flags were due. Each is decided again on the locked row, and marked in
    `Postmortem.reminded` in the transaction that queues its messages under idempotency keys:
    a second worker, or a second look at stale `ids`, sends nothing."""
    if ids is None:
        ids = due_postmortems(session, policy, now=now, limit=limit)
    if not ids:
        return 0
    query = select(Postmortem).where(Postmortem.id.in_(ids)).order_by(Postmortem.id)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    done = 0
    for pm in session.scalars(query):
        due = owed(policy, pm, now=now)
        if not due:
            continue
        recipients = _recipients(session, pm)
        reminded = {k: list(v) for k, v in (pm.reminded or {}).items()}
        for deadline_id, stage, due_at in due:
            _send(session, policy, pm, recipients, deadline_id, stage, due_at, now=now)
            reminded.setdefault(deadline_id, []).append(stage)
            done += 1
        # A new dict: the JSON column only sees an assignment.
        pm.reminded = reminded
    return done


def _send(
    session: Session,
    policy: Policy,
    pm: Postmortem,
    recipients: list[User],
    deadline_id: str,
    stage: str,
    due_at: datetime,
    *,
    now: datetime,
) -> None:
    deadline = next(d for d in policy.postmortem.deadlines if d.id == deadline_id)
    for user in recipients:
        outbox.notify_user(
            session,
            user.id,
            kind="postmortem_deadline",
            idem_key=f"postmortem:{pm.incident_id}:{deadline_id}:{stage}:"
            f"{due_at.timestamp():.0f}:u{user.id}",
            incident_id=pm.incident_id,
            now=now,
            data={
                "stage": stage,
                "deadline": deadline_id,
                # In the reader's language, as the policy names it.
                "name": localized(deadline.name, template_locale(user.locale)),
                "due_at": due_at.isoformat(),
                "due": due_at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z"),
            },
            first_method_only=True,
        )
    if stage == "overdue":
        timeline.record(
            session,
            pm.incident_id,
            kind="postmortem_overdue",
            actor="haetae",
            at=now,
            summary=f"Post-mortem deadline '{localized(deadline.name, 'en')}' passed unmet "
            f"({due_at.astimezone(policy.zone):%Y-%m-%d %H:%M %Z}); "
            f"told {len(recipients)} people",
            deadline=deadline_id,
            due_at=due_at.isoformat(),
            users=[user.id for user in recipients],
        )


def _recipients(session: Session, pm: Postmortem) -> list[User]:
    """The author and the IC (the current holder of the role, or else the last one), once
    each; people who are not (or no longer) active users are skipped."""
    ic = session.scalar(
        select(RoleAssignment.assignee)
        .where(RoleAssignment.incident_id == pm.incident_id, RoleAssignment.role == IC_ROLE)
        .order_by(
            RoleAssignment.ended_at.is_(None).desc(),
            RoleAssignment.assigned_at.desc(),
            RoleAssignment.id.desc(),
        )
        .limit(1)
    )
    names = list(dict.fromkeys(n for n in (pm.author, ic) if n))
    users = {
        u.username: u
        for u in session.scalars(
            select(User).where(User.username.in_(names), User.active.is_(True))
        )
    }
    return [users[n] for n in names if n in users]


def _remind(ctx: JobContext) -> int:
    with ctx.session(write=False) as session:
        ids = due_postmortems(session, ctx.policy, now=ctx.now, limit=BATCH)
    if not ids:
        return 0
    with ctx.session() as session:
        return remind_deadlines(
            session, ctx.policy, now=ctx.now, ids=ids, skip_locked=ctx.skip_locked
        )


# Deadlines are hours and days away: a look a minute is soon enough, and the read of every
# unpublished post-mortem is not repeated each cycle.
JOBS = [
    Job(
        "postmortem_reminders",
        _remind,
        batch=BATCH,
        max_runs=5,
        every=timedelta(minutes=1),
    )
]
