"""Applying deliveries of alerts to the database, in one transaction per batch.

For each event: a trigger updates the open alert with the same key or opens a new one;
an acknowledge or resolve changes the open alert, or is ignored when there is none. New
alerts are routed; the first alert of a group declares its incident (or reopens the
group's recently resolved one), later ones attach. Incidents whose alerts have all
resolved move on as their rule says.

Two parts: the alert rows (alerts/alert_rows.py: reading, changing and writing the alerts
themselves) and the incident linkage (alerts/linkage.py: groups, incidents, timelines). The
order below keeps a batch's writes few: one INSERT for the new alerts, shared UPDATEs for
repeats, then the incidents' moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from haetae.alerts.alert_rows import AlertRows, Outcome
from haetae.alerts.integrations import Sender
from haetae.alerts.linkage import IncidentLinkage
from haetae.alerts.senders import AlertEvent
from haetae.policy.schema import Policy

__all__ = ["Job", "Outcome", "apply_jobs"]


@dataclass(slots=True)
class Job:
    """One accepted request: its integration and its events, in the order sent."""

    sender: Sender
    events: list[AlertEvent]
    truncated: int = 0


def apply_jobs(
    session: Session, policy: Policy, jobs: list[Job], *, now: datetime
) -> list[list[Outcome]]:
    alerts = AlertRows(session, now)
    incidents = IncidentLinkage(session, policy, now)
    alerts.load_open((job.sender, job.events) for job in jobs)
    results = [[alerts.apply(job.sender, event) for event in job.events] for job in jobs]
    if alerts.new:
        for new in alerts.new:
            incidents.file(new)
        alerts.insert_new()
        incidents.record_attached(alerts.new)
    alerts.write_updates()
    incidents.follow(acknowledged=alerts.acknowledged, resolved=alerts.resolved)
    return results
