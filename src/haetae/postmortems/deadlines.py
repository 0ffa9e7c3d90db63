"""When each of the policy's post-mortem deadlines falls, and which are met, due or overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from haetae.policy.followup import Deadline
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration


def due_at(policy: Policy, deadline: Deadline, start: datetime) -> datetime:
    if deadline.within is not None:
        return start + parse_duration(deadline.within)
    assert deadline.within_business_days is not None
    return policy.business_days_after(start, deadline.within_business_days)


def schedule(policy: Policy, start: datetime) -> dict[str, str]:
    """Every deadline's due time (ISO, UTC), fixed when the post-mortem starts so that a later
    policy change does not move a deadline people were already told."""
    return {d.id: due_at(policy, d, start).isoformat() for d in policy.postmortem.deadlines}


@dataclass(frozen=True)
class DeadlineState:
    id: str
    deadline: Deadline
    due: datetime
    met_at: datetime | None

    def state(self, now: datetime) -> str:
        """met | overdue | due_soon (inside remind_before) | pending."""
        if self.met_at is not None:
            return "met"
        if now >= self.due:
            return "overdue"
        if now >= self.due - parse_duration(self.deadline.remind_before):
            return "due_soon"
        return "pending"


def states(
    policy: Policy, due: dict[str, str], met: dict[str, datetime | None]
) -> list[DeadlineState]:
    """The post-mortem's deadlines in the policy's order. `met` maps each done_when event
    (submitted, meeting_held, published) to when it happened. Only the deadlines fixed when the
    post-mortem started are shown: one the policy dropped since is gone, one it added since
    does not apply to a post-mortem already under way."""
    result: list[DeadlineState] = []
    for deadline in policy.postmortem.deadlines:
        if deadline.id not in due:
            continue
        result.append(
            DeadlineState(
                id=deadline.id,
                deadline=deadline,
                due=datetime.fromisoformat(due[deadline.id]),
                met_at=met.get(deadline.done_when),
            )
        )
    return result
