"""The demo's tools for the burning incident: the release before it on the change feed (linked
as the suspected cause, its version the affected one), the runbook the intake matched with half
its steps done, the IC's quick checklist under way, and the first analysis, whose checks the
worker runs as soon as `haetae demo` starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from haetae.changes import service as changes
from haetae.changes.schemas import ChangeIn
from haetae.checklists import service as checklists
from haetae.diagnostics.analysis import request_first_analysis
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.runbooks import library, matching
from haetae.runbooks import service as runbooks
from haetae.runbooks.models import IncidentIntake, IncidentRunbook

RELEASE = "2026.11.3"


def seed_response(session: Session, policy: Policy, incident: Incident, now: datetime) -> None:
    t0 = incident.started_at
    release, _ = changes.record_change(
        session,
        ChangeIn.model_validate(
            {
                "service": "payments-api",
                "kind": "deploy",
                "summary": "Connection pool refactor; new retry policy for the card gateway",
                "version": RELEASE,
                "author": "jun",
                "at": (t0 - timedelta(minutes=25)).isoformat(),
                "link": "https://git.example.com/payments/api/-/releases/2026.11.3",
                "rollback": "kubectl rollout undo deployment/payments-api -n payments",
                "environment": "production",
                "id": "deploy-payments-api-2026.11.3",
            }
        ),
        integration_id=None,
        author="jun",
        now=t0 - timedelta(minutes=25),
    )
    changes.record_change(
        session,
        ChangeIn.model_validate(
            {
                "service": "checkout",
                "kind": "config",
                "summary": "Feature flag new-cart-ui to 20%",
                "author": "seoyeon",
                "at": (t0 - timedelta(hours=4)).isoformat(),
                "environment": "production",
            }
        ),
        integration_id=None,
        author="seoyeon",
        now=t0 - timedelta(hours=4),
    )
    changes.link(
        session,
        incident.id,
        release.id,
        verdict="suspected",
        note="Errors began minutes after this release",
        by="minji",
        now=t0 + timedelta(minutes=6),
    )
    changes.set_affected_version(
        session, policy, incident.id, RELEASE, actor="minji", now=t0 + timedelta(minutes=6)
    )

    # What the intake job would have done on declaration: the matched runbook, then the
    # first analysis; the intake row keeps the job from doing it again.
    found = library.load(library.directories("", None, policy))
    rows = [
        runbooks.attach(
            session,
            policy,
            incident,
            matched.loaded,
            how="auto",
            reasons=matched.reasons,
            by="haetae:intake",
            now=t0,
        )
        for matched in matching.match(
            found,
            services=list(incident.services),
            category=incident.category,
            tags=list(incident.tags),
            alert_labels=[],
        )
    ]
    if incident.severity in policy.response.first_analysis.severities:
        request_first_analysis(session, policy, incident, by="haetae:intake", now=now)
    session.add(IncidentIntake(incident_id=incident.id, done_at=t0))
    session.flush()
    _half_done(session, incident, rows, t0)
    _checklist_started(session, policy, incident, t0)


def _half_done(
    session: Session, incident: Incident, rows: list[IncidentRunbook], t0: datetime
) -> None:
    """The first half of each attached runbook's steps done (one skipped), with notes."""
    for row in rows:
        steps = row.snapshot.get("steps", [])
        for k, step in enumerate(steps[: max(1, len(steps) // 2)]):
            skipped = k == 1
            runbooks.set_step(
                session,
                incident.id,
                row.runbook_id,
                step["id"],
                status="skipped" if skipped else "done",
                note="Not needed: the pool size is fixed by the release" if skipped else "",
                by="minji",
                now=t0 + timedelta(minutes=10 + 2 * k),
            )


def _checklist_started(session: Session, policy: Policy, incident: Incident, t0: datetime) -> None:
    for checklist in policy.response.checklists_for(None, incident.severity)[:1]:
        for k, item in enumerate(checklist.items[:4]):
            checklists.set_item(
                session,
                policy,
                incident.id,
                checklist.id,
                item.id,
                status="done",
                by="minji",
                now=t0 + timedelta(minutes=1 + k),
            )
