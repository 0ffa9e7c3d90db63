"""The engine's jobs on durable timers: due escalation steps, update reminders and on-call
hand-off notices. Each job runs inside the caller's transaction; on PostgreSQL the due
rows are claimed with SKIP LOCKED so several workers never run one step twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.escalation import recipients
from haetae.escalation.models import Escalation
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident, RoleAssignment
from haetae.notify import outbox
from haetae.oncall import service as oncall
from haetae.policy.escalation import EscalationPolicySpec
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline


@dataclass(frozen=True)
class StepRun:
    escalation_id: int
    incident_id: str
    due_at: datetime
    ran_at: datetime
    paged: int


def run_due_steps(
    session: Session, policy: Policy, *, now: datetime, limit: int, skip_locked: bool
) -> list[StepRun]:
    query = (
        select(Escalation)
        .where(Escalation.status == "active", Escalation.due_at <= now)
        .order_by(Escalation.due_at, Escalation.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    escalations = list(session.scalars(query))
    if not escalations:
        return []
    # Their incidents in one query (run_step's session.get finds them loaded), read after
    # the escalation rows are locked, as one step at a time would.
    # The list keeps them in the identity map (it holds objects weakly) until the loop ends.
    incidents = list(
        session.scalars(
            select(Incident).where(Incident.id.in_({e.incident_id for e in escalations}))
        )
    )
    runs = []
    # The steps' own writes (timeline events, the escalations' next due) go out in one
    # flush at commit rather than in one before each of the steps' queries.
    with session.no_autoflush:
        runs = _run_steps(session, policy, escalations, now=now)
    del incidents
    return runs


def run_step(
    session: Session, policy: Policy, escalation: Escalation, *, now: datetime
) -> StepRun | None:
    """Page the step's targets and move to the next step; stop instead if the incident was
    acknowledged or resolved meanwhile (the guard that makes an ack win every race)."""
    runs = _run_steps(session, policy, [escalation], now=now)
    return runs[0] if runs else None


@dataclass
class _Plan:
    """A due step whose guard passed, with the people its targets name right now."""

    escalation: Escalation
    incident: Incident
    spec: EscalationPolicySpec
    index: int
    users: list[User]
    problems: list[str]


def _run_steps(
    session: Session, policy: Policy, escalations: list[Escalation], *, now: datetime
) -> list[StepRun]:
    """Several steps in one go: their people's contact methods are read in one query and
    their pages inserted in one statement, each step as if it ran alone."""
    plans = [p for e in escalations if (p := _plan(session, policy, e, now=now)) is not None]
    targets = outbox.targets_by_user(session, {u.id for p in plans for u in p.users})
    rows: list[dict[str, Any]] = []
    runs = [_page(session, plan, targets, rows, now=now) for plan in plans]
    outbox.insert_rows(session, rows)
    return runs


def _plan(
    session: Session, policy: Policy, escalation: Escalation, *, now: datetime
) -> _Plan | None:
    incident = session.get(Incident, escalation.incident_id)
    if incident is None or incident.status not in lifecycle.ACTIVE:
        _finish(escalation, "stopped", "resolved", now)
        return None
    if escalation.stop_on == "acknowledged" and incident.acknowledged_at is not None:
        _finish(escalation, "stopped", "acknowledged", now)
        return None
    spec = EscalationPolicySpec.model_validate(escalation.policy)
    index = min(escalation.step_index, len(spec.steps) - 1)
    users: list[User] = []
    problems: list[str] = []
    for target in spec.steps[index].notify:
        found, problem = recipients.resolve(session, policy, incident, target, now=now)
        if problem:
            problems.append(problem)
        users += found
    return _Plan(escalation, incident, spec, index, users, problems)


def _page(
    session: Session,
    plan: _Plan,
    targets: dict[int, list[outbox.Target]],
    rows: list[dict[str, Any]],
    *,
    now: datetime,
) -> StepRun:
    """The plan's pages (added to `rows`), its timeline entry, and the next step."""
    escalation, incident, spec, index = plan.escalation, plan.incident, plan.spec, plan.index
    step = spec.steps[index]
    first = index == 0 and escalation.loop_count == 0
    note = localized(step.note, "en") if step.note else ""
    paged: list[str] = []
    problems = list(plan.problems)
    base = f"esc:{escalation.id}:{escalation.started_at.timestamp():.0f}"
    for user in plan.users:
        if not targets.get(user.id):
            problems.append(f"{user.username} has no contact method")
            continue
        rows += outbox.rows_for_user(
            user.id,
            targets[user.id],
            kind="page" if first else "escalation",
            idem_key=f"{base}:{escalation.loop_count}:{index}:u{user.id}",
            incident_id=incident.id,
            escalation_id=escalation.id,
            cancel_on=escalation.stop_on,
            now=now,
            data={
                "policy": escalation.policy_slug,
                "step": index + 1,
                "loop": escalation.loop_count,
                "note": step.note,
                "step_due": escalation.due_at.isoformat(),  # lateness = handed - due
            },
        )
        if user.username not in paged:
            paged.append(user.username)
    lateness = (now - escalation.due_at).total_seconds()
    summary = (
        f"{escalation.policy_slug} step {index + 1}/{len(spec.steps)}"
        + (f" (repeat {escalation.loop_count})" if escalation.loop_count else "")
        + ": "
        + (f"notified {', '.join(paged)}" if paged else "nobody notified")
        + (f"; {'; '.join(problems)}" if problems else "")
    )
    timeline.record(
        session,
        incident.id,
        kind="escalation_step",
        actor="haetae",
        at=now,
        summary=summary,
        policy=escalation.policy_slug,
        step=index + 1,
        loop=escalation.loop_count,
        notified=paged,
        problems=problems,
        note=note,
        late_seconds=round(lateness, 3),
    )
    due_at = escalation.due_at
    _advance(escalation, spec, now=now)
    return StepRun(escalation.id, incident.id, due_at, now, len(paged))


def _advance(escalation: Escalation, spec: EscalationPolicySpec, *, now: datetime) -> None:
    # The next step is due a full wait after this one actually ran: after downtime an
    # overdue step runs once, not a burst of them.
    step = spec.steps[min(escalation.step_index, len(spec.steps) - 1)]
    following = escalation.step_index + 1
    if following >= len(spec.steps):
        if escalation.loop_count >= spec.repeat:
            _finish(escalation, "done", None, now)
            return
        following = 0
        escalation.loop_count += 1
    escalation.step_index = following
    escalation.due_at = now + step.wait_delta
    escalation.updated_at = now


def _finish(escalation: Escalation, status: str, reason: str | None, now: datetime) -> None:
    escalation.status = status
    escalation.stopped_reason = reason
    escalation.updated_at = now


def next_due(session: Session) -> datetime | None:
    return session.scalar(
        select(Escalation.due_at)
        .where(Escalation.status == "active")
        .order_by(Escalation.due_at)
        .limit(1)
    )


# Update reminders (seed 004: every 15/30/60 minutes by severity, or the policy's cadence)


def remind_updates(
    session: Session, policy: Policy, *, now: datetime, limit: int, skip_locked: bool
) -> int:
    """One reminder per missed update, to the IC, or else to whoever was paged."""
    query = (
        select(Incident)
        .where(
            Incident.status.in_(lifecycle.ACTIVE),
            Incident.next_update_due.is_not(None),
            Incident.next_update_due <= now,
        )
        .order_by(Incident.next_update_due)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    sent = 0
    for incident in session.scalars(query):
        due = incident.next_update_due
        if due is None or incident.update_reminded_for == due:
            continue
        incident.update_reminded_for = due
        users = _update_owners(session, incident)
        for user_id in users:
            outbox.notify_user(
                session,
                user_id,
                kind="update_reminder",
                idem_key=f"update:{incident.id}:{due.timestamp():.0f}:u{user_id}",
                incident_id=incident.id,
                cancel_on="resolved",
                now=now,
                data={"due_at": due.isoformat()},
                first_method_only=True,
            )
        timeline.record(
            session,
            incident.id,
            kind="update_reminder",
            actor="haetae",
            at=now,
            summary="Status update overdue since "
            f"{due.astimezone(policy.zone):%H:%M}; reminded {len(users)} people",
            due_at=due.isoformat(),
            users=users,
        )
        sent += 1
    return sent


def _update_owners(session: Session, incident: Incident) -> list[int]:
    ic = session.scalar(
        select(User.id)
        .join(RoleAssignment, RoleAssignment.assignee == User.username)
        .where(
            RoleAssignment.incident_id == incident.id,
            RoleAssignment.role == "ic",
            RoleAssignment.ended_at.is_(None),
        )
    )
    return [ic] if ic is not None else outbox.paged_users(session, incident.id)


# Hand-off notices (seed 001: write the hand-over checklist at every on-call change)

HANDOFF_LOOKBACK = timedelta(minutes=10)


def recent_handoffs(session: Session, *, now: datetime) -> list[oncall.ShiftChange]:
    """The hand-offs of the last few minutes (a read of every schedule: the worker does it
    in a read-only transaction, so that SQLite's one writer is not held meanwhile)."""
    return oncall.shift_changes(session, start=now - HANDOFF_LOOKBACK, end=now)


def notify_handoffs(
    session: Session, *, now: datetime, changes: list[oncall.ShiftChange] | None = None
) -> int:
    """Tell the incoming and outgoing on-call of each hand-off in the last few minutes
    (`changes`, or read now); the idempotency key makes a second look at the same
    hand-off send nothing."""
    queued = 0
    if changes is None:
        changes = recent_handoffs(session, now=now)
    for change in changes:
        for user_id in {change.from_user_id, change.to_user_id} - {None}:
            assert user_id is not None
            new = outbox.notify_user(
                session,
                user_id,
                kind="handoff",
                idem_key=f"handoff:{change.schedule_id}:{change.layer}:"
                f"{change.at.timestamp():.0f}:u{user_id}",
                now=now,
                data={
                    "schedule_id": change.schedule_id,
                    "layer": change.layer,
                    "at": change.at.isoformat(),
                    "from_user_id": change.from_user_id,
                    "to_user_id": change.to_user_id,
                },
                first_method_only=True,
            )
            queued += new or 0
    return queued
