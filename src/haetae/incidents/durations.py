"""The measured durations of an incident: time to detect, acknowledge, mitigate and resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from haetae.incidents.models import Incident
from haetae.policy.schema import Policy


@dataclass(frozen=True)
class Durations:
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    # Seed 002's "SLA breach: X minutes beyond target"; 0 when the target was met.
    minutes_past_target: int | None
    recovery_due: datetime | None

    def minutes(self) -> dict[str, float | None]:
        """Each duration in minutes (one decimal), as the post-mortem and metrics show them."""
        return {
            name: None if value is None else round(value.total_seconds() / 60, 1)
            for name, value in (
                ("time_to_detect", self.time_to_detect),
                ("time_to_acknowledge", self.time_to_acknowledge),
                ("time_to_mitigate", self.time_to_mitigate),
                ("time_to_resolve", self.time_to_resolve),
            )
        }


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return end - start


def durations(policy: Policy, incident: Incident) -> Durations:
    """What the incident's record measures, None for what has not happened yet.

    - time to detect: detected_at - started_at (when it began to when someone noticed);
    - time to acknowledge: acknowledged_at - detected_at;
    - time to mitigate: mitigated_at - started_at;
    - time to resolve: resolved_at - started_at (the total outage, seed 001 6.1);
    - minutes past the target: resolved_at - the severity's recovery target counted from
      started_at, in whole minutes rounded up, 0 when resolved in time, None when not resolved
      yet, when the severity is unknown to the policy, or when the target has no clock time
      (next_release).

    Plain arithmetic on the incident's own columns: the metrics issue reuses it.
    """
    due: datetime | None = None
    sev = policy.severity(incident.severity)
    if sev is not None:
        due = policy.target_due(sev.recovery_target, incident.started_at)
    past: int | None = None
    if due is not None and incident.resolved_at is not None:
        late = (incident.resolved_at - due).total_seconds()
        past = 0 if late <= 0 else int(-(-late // 60))
    return Durations(
        time_to_detect=_between(incident.started_at, incident.detected_at),
        time_to_acknowledge=_between(incident.detected_at, incident.acknowledged_at),
        time_to_mitigate=_between(incident.started_at, incident.mitigated_at),
        time_to_resolve=_between(incident.started_at, incident.resolved_at),
        minutes_past_target=past,
        recovery_due=due,
    )
