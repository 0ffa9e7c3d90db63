"""The communications' worker jobs: the management summary on the policy's cadence, and the
approval requests of gated messages however they were created (API, CLI, console, events)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.comms import approvals, service
from haetae.comms.models import CommsMessage
from haetae.errors import HaetaeError
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.jobs import Job, JobContext
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration

log = logging.getLogger(__name__)
BATCH = 200
SUMMARY = "management_summary"


def summary_source(incident: Incident, every: timedelta, *, now: datetime) -> str | None:
    """The summary due now for this incident (`summary:N`, the Nth period since the
    declaration), or None before the first period has passed. The same N for every worker
    in a period, so create_message makes it once."""
    elapsed = now - incident.declared_at
    if elapsed < every:
        return None
    return f"summary:{int(elapsed / every)}"


def send_management_summaries(
    session: Session, policy: Policy, *, now: datetime, skip_locked: bool
) -> int:
    """Seed 002: a management summary every `every` (30 min) while an incident of the
    section's severities is active, to its channels. Never for drills. Returns how many
    messages were created."""
    setting = policy.communications.management_summary
    if not setting.severities:
        return 0
    every = parse_duration(setting.every)
    query = (
        select(Incident)
        .where(
            Incident.status.in_(lifecycle.ACTIVE),
            Incident.severity.in_(setting.severities),
            Incident.drill.is_(False),
            Incident.declared_at <= now - every,
        )
        .order_by(Incident.declared_at, Incident.id)
        .limit(BATCH)
    )
    if skip_locked:
        # A second worker skips the incident the first is summarising; once the first
        # commits, the period's source is there and nothing is made twice.
        query = query.with_for_update(skip_locked=True)
    made = 0
    for incident in session.scalars(query).all():
        source = summary_source(incident, every, now=now)
        if source is None:
            continue
        done = session.scalar(
            select(CommsMessage.id).where(
                CommsMessage.incident_id == incident.id,
                CommsMessage.kind == SUMMARY,
                CommsMessage.source == source,
            )
        )
        if done is not None:
            continue
        try:
            message = service.create_message(
                session,
                policy,
                incident,
                SUMMARY,
                channels=list(setting.channels) or None,
                by="haetae",
                now=now,
                source=source,
            )
        except HaetaeError as exc:
            # A channel the section names is missing or disabled: the others' summaries
            # still go (`haetae policy check` and the channels' config say which).
            log.warning("management summary of %s not sent: %s", incident.id, exc)
            continue
        if message.status == approvals.PENDING:
            approvals.request(session, message, now=now)
        made += 1
    return made


def request_approvals(session: Session, *, now: datetime, skip_locked: bool) -> int:
    """Ask the approvers of gated messages not asked yet (created by any path)."""
    query = (
        select(CommsMessage)
        .where(CommsMessage.status == approvals.PENDING)
        .order_by(CommsMessage.created_at, CommsMessage.id)
        .limit(BATCH)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    asked = 0
    for message in session.scalars(query).all():
        if not (message.data or {}).get("approval_requested_at"):
            approvals.request(session, message, now=now)
            asked += 1
    return asked


def _summaries(ctx: JobContext) -> int:
    with ctx.session() as session:
        return send_management_summaries(
            session, ctx.policy, now=ctx.now, skip_locked=ctx.skip_locked
        )


def _approval_requests(ctx: JobContext) -> int:
    with ctx.session() as session:
        return request_approvals(session, now=ctx.now, skip_locked=ctx.skip_locked)


JOBS = [
    Job("management_summaries", _summaries, every=timedelta(seconds=30)),
    Job("approval_requests", _approval_requests, every=timedelta(seconds=5)),
]
