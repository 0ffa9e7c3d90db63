"""The engine's jobs on durable timers: due escalation steps, update reminders and on-call
hand-off notices. Each job runs inside the caller's transaction; on PostgreSQL the due
rows are claimed with SKIP LOCKED so several workers never run one step twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.escalation import recipients
from haetae.escalation.models import Escalation
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.notify import outbox
from haetae.policy.escalation import EscalationPolicySpec, Target
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
    # By user id: the contact-method kinds the step's targets page them through (None:
    # their own notification rules) and the Slack mention.
    via: dict[int, tuple[set[str] | None, str | None]]


def _run_steps(
    session: Session, policy: Policy, escalations: list[Escalation], *, now: datetime
) -> list[StepRun]:
    """Several steps in one go: their people's contact methods are read in one query and
    their pages inserted in one statement, each step as if it ran alone."""
    plans = [p for e in escalations if (p := _plan(session, policy, e, now=now)) is not None]
    targets = outbox.contacts_by_user(session, {u.id for p in plans for u in p.users})
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
    via: dict[int, tuple[set[str] | None, str | None]] = {}
    for target in spec.steps[index].notify:
        found, problem = recipients.resolve(session, policy, incident, target, now=now)
        if problem:
            problems.append(problem)
        users += found
        for user in found:
            via[user.id] = _channels(via.get(user.id), target)
    return _Plan(escalation, incident, spec, index, users, problems, via)


def _channels(
    before: tuple[set[str] | None, str | None] | None, target: Target
) -> tuple[set[str] | None, str | None]:
    """A person named by several targets of a step: the kinds of all of them (any target
    without `via` means their own rules), and the first mention."""
    kinds: set[str] | None = set(target.via) if target.via else None
    if before is None:
        return kinds, str(target.mention) if target.mention else None
    mention: str | None = before[1] or target.mention
    return (None if before[0] is None or kinds is None else before[0] | kinds), mention


def _page(
    session: Session,
    plan: _Plan,
    targets: dict[int, outbox.Contacts],
    rows: list[dict[str, Any]],
    *,
    now: datetime,
) -> StepRun:
    """The plan's pages (added to `rows`), its timeline entry, and the next step."""
    escalation, incident, spec, index = plan.escalation, plan.incident, plan.spec, plan.index
    step = spec.steps[index]
    kind = spec.message_kind(index, escalation.loop_count)
    note = localized(step.note, "en") if step.note else ""
    paged: list[str] = []
    problems = list(plan.problems)
    base = f"esc:{escalation.id}:{escalation.started_at.timestamp():.0f}"
    for user in plan.users:
        contacts = targets.get(user.id)
        if contacts is None or not contacts.rules:
            problems.append(f"{user.username} has no contact method")
            continue
        rows += outbox.rows_for_user(
            user.id,
            contacts.choose(*plan.via.get(user.id, (None, None))),
            kind=kind,
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
                "heading": spec.heading_of(index),
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
