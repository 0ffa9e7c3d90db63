"""The actions domain's background job: remind an action item's owner before its due date,
and flag it overdue once the date has passed (issue 11: no follow-up is forgotten)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.service import code
from haetae.auth.models import User
from haetae.jobs import Job, JobContext
from haetae.notify import outbox
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

BATCH = 200
DONE = "done"
# Due dates looked at ahead of today: the reminder's day is the business day before the due
# date, which a long run of holidays can put this far back.
HORIZON = timedelta(days=15)


def remind_from(policy: Policy, due: date) -> datetime:
    """When the reminder before `due` is sent: the start of business hours on the last
    business day before the due date, in the policy's zone (due on a Monday: reminded on
    Friday morning)."""
    day = due
    for _ in range(HORIZON.days):
        day -= timedelta(days=1)
        if policy.is_business_day(day):
            break
    else:
        day = due - timedelta(days=1)
    return datetime.combine(day, policy.business_hours.start, tzinfo=policy.zone)


def overdue_from(policy: Policy, due: date) -> datetime:
    """An item is overdue once its due date has passed in the policy's zone."""
    return datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=policy.zone)


def stage_owed(policy: Policy, item: ActionItem, *, now: datetime) -> str | None:
    """ "before", "overdue" or None: what the item is owed now. Each is sent once per due
    date; a new due date is owed both again."""
    due = item.due_date
    if item.column == DONE or item.owner is None or due is None:
        return None
    if now >= overdue_from(policy, due):
        return "overdue" if item.reminded_overdue != due else None
    if now >= remind_from(policy, due):
        return "before" if item.reminded_before != due else None
    return None


def _candidates(policy: Policy, *, now: datetime, limit: int) -> Select[ActionItem]:
    today = now.astimezone(policy.zone).date()
    return (
        select(ActionItem)
        .where(
            ActionItem.column != DONE,
            ActionItem.owner.is_not(None),
            ActionItem.due_date.is_not(None),
            ActionItem.due_date <= today + HORIZON,
            # Already flagged overdue for this date: nothing more is owed.
            or_(
                ActionItem.reminded_overdue.is_(None),
                ActionItem.reminded_overdue != ActionItem.due_date,
            ),
            # Reminded for this date and not yet past it: nothing is owed until it passes.
            or_(
                ActionItem.due_date < today,
                ActionItem.reminded_before.is_(None),
                ActionItem.reminded_before != ActionItem.due_date,
            ),
        )
        # Earliest first: every item whose reminder is due comes before any whose is not.
        .order_by(ActionItem.due_date, ActionItem.id)
        .limit(limit)
    )


def due_items(session: Session, policy: Policy, *, now: datetime, limit: int) -> list[int]:
    """Ids of items owed a reminder or an overdue flag (a read: the worker does it in a
    read-only transaction, so that SQLite's one writer is not held meanwhile)."""
    return [
        item.id
        for item in session.scalars(_candidates(policy, now=now, limit=limit))
        if stage_owed(policy, item, now=now) is not None
    ]


def remind_items(
    session: Session,
    policy: Policy,
    *,
    now: datetime,
    ids: list[int] | None = None,
    limit: int = BATCH,
    skip_locked: bool = False,
) -> int:
    """Remind the owner of each item in `ids` (or found now) of what it is owed; how many
    were owed. Decided again on the locked row and marked (reminded_before/reminded_overdue)
    in the transaction that queues the message under an idempotency key, so a second worker,
    or a second look at stale `ids`, sends nothing."""
    if ids is None:
        ids = due_items(session, policy, now=now, limit=limit)
    if not ids:
        return 0
    query = select(ActionItem).where(ActionItem.id.in_(ids)).order_by(ActionItem.id)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query))
    owners = {
        u.username: u
        for u in session.scalars(
            select(User).where(
                User.username.in_({i.owner for i in items if i.owner}), User.active.is_(True)
            )
        )
    }
    done = 0
    for item in items:
        stage = stage_owed(policy, item, now=now)
        if stage is None or item.due_date is None:
            continue
        due = item.due_date
        owner = owners.get(item.owner or "")
        if owner is not None:
            outbox.notify_user(
                session,
                owner.id,
                kind="action_item_due",
                # AI items keep their key of before; TI items name their series.
                idem_key=f"action:{item.number if item.series == 'AI' else code(item)}:{stage}:"
                f"{due.isoformat()}:u{owner.id}",
                incident_id=item.incident_id,
                now=now,
                data={
                    "stage": stage,
                    "item": code(item),
                    "title": item.title,
                    "priority": item.priority,
                    "due_date": due.isoformat(),
                },
                first_method_only=True,
            )
        if stage == "before":
            item.reminded_before = due
        else:
            item.reminded_overdue = due
            if item.incident_id is not None:
                timeline.record(
                    session,
                    item.incident_id,
                    kind="action_item_overdue",
                    actor="haetae",
                    at=now,
                    summary=f"{code(item)} {item.title}: due {due.isoformat()}, not done; "
                    + (f"reminded {owner.username}" if owner is not None else "owner unreachable"),
                    item=code(item),
                    owner=item.owner,
                    due_date=due.isoformat(),
                )
        done += 1
    return done


def _remind(ctx: JobContext) -> int:
    with ctx.session(write=False) as session:
        ids = due_items(session, ctx.policy, now=ctx.now, limit=BATCH)
    if not ids:
        return 0
    with ctx.session() as session:
        return remind_items(session, ctx.policy, now=ctx.now, ids=ids, skip_locked=ctx.skip_locked)


# Due dates are days: a look a minute is soon enough.
JOBS = [
    Job(
        "action_item_reminders",
        _remind,
        batch=BATCH,
        max_runs=5,
        every=timedelta(minutes=1),
    )
]
