"""What the status page editor shows: components by group, public incidents with their updates
and previews, maintenance, and the prefilled form that opens a public incident for an
incident; state names in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import i18n
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.policy.communications import TEMPLATE_KINDS
from haetae.statuspage import service
from haetae.statuspage.models import (
    COMPONENT_STATES,
    IMPACTS,
    INCIDENT_STATES,
    MAINTENANCE_STATES,
    Component,
    ComponentGroup,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)
from haetae.web.console import Console, Refused
from haetae.web.forms import CODE_MESSAGES, Failure, refusal_messages
from haetae.web.render import render

COMPONENT_STATE_LABELS = {
    "operational": N_("Operational"),
    "degraded_performance": N_("Degraded performance"),
    "partial_outage": N_("Partial outage"),
    "major_outage": N_("Major outage"),
    "under_maintenance": N_("Under maintenance"),
}
INCIDENT_STATE_LABELS = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "postmortem": N_("Post-incident review"),
}
IMPACT_LABELS = {
    "none": N_("None"),
    "minor": N_("Minor"),
    "major": N_("Major"),
    "critical": N_("Critical"),
    "maintenance": N_("Maintenance"),
}
MAINTENANCE_STATE_LABELS = {
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "verifying": N_("Verifying"),
    "completed": N_("Completed"),
}
# The templates a public update may be drafted from: what customers may read.
PUBLIC_TEMPLATES = ("customer_first_notice", "public_announcement", "recovery_notice")
TEMPLATE_LABELS = {
    "customer_first_notice": N_("Customer first notice"),
    "public_announcement": N_("Public announcement"),
    "recovery_notice": N_("Recovery notice"),
}
DONE = {
    "component": N_("Component state saved."),
    "opened": N_("Public incident opened. Nothing is public until its first update is published."),
    "drafted": N_("Update drafted. Check both languages, then publish it."),
    "published": N_("Update published: readers see it on the status page now."),
    "scheduled": N_("Maintenance scheduled."),
    "maintenance": N_("Maintenance status saved."),
}
DRILL_REFUSAL = CODE_MESSAGES["DRILL_NOT_PUBLIC"]
# The languages of the public page, side by side on the forms.
LANGUAGES = ("en", "ko")
# Resolved public incidents shown under the open ones.
RECENT_RESOLVED = 10
assert set(COMPONENT_STATE_LABELS) == set(COMPONENT_STATES)
assert set(INCIDENT_STATE_LABELS) == set(INCIDENT_STATES)
assert set(IMPACT_LABELS) == set(IMPACTS)
assert set(MAINTENANCE_STATE_LABELS) == set(MAINTENANCE_STATES)
assert set(PUBLIC_TEMPLATES) <= set(TEMPLATE_KINDS)


@dataclass
class Prefill:
    """The Open public incident form: empty, or from an incident (None if it is a drill's)."""

    incident_id: str = ""
    title: dict[str, str] = field(default_factory=dict)
    impact: str = "minor"
    states: dict[int, str] = field(default_factory=dict)
    refusal: str = ""


def words(console: Console) -> dict[str, dict[str, str]]:
    t = console.gettext
    tables = {
        "components": COMPONENT_STATE_LABELS,
        "incidents": INCIDENT_STATE_LABELS,
        "impacts": IMPACT_LABELS,
        "maintenance": MAINTENANCE_STATE_LABELS,
        "templates": TEMPLATE_LABELS,
    }
    return {name: {k: t(v) for k, v in table.items()} for name, table in tables.items()}


def reader_words() -> dict[str, dict[str, str]]:
    """The incident states as each language's readers see them, for the side by side preview."""
    return {
        lang: {k: i18n.gettext_for(lang, v) for k, v in INCIDENT_STATE_LABELS.items()}
        for lang in LANGUAGES
    }


def refusal(console: Console, exc: HaetaeError) -> str:
    return refusal_messages(console, exc)[0]


def prefill_for(session: Session, console: Console, incident_id: str) -> Prefill:
    try:
        incident: Incident = incidents.get_incident(session, incident_id)
    except HaetaeError as exc:
        raise Refused(404, exc.message) from None
    if incident.drill:
        return Prefill(incident_id=incident.id, refusal=console.gettext(DRILL_REFUSAL))
    return Prefill(
        incident_id=incident.id,
        title={"en": incident.title, "ko": incident.title},
        impact=service.impact_for_severity(console.policy, incident.severity),
        states=service.components_for_incident(session, console.policy, incident),
    )


def _grouped(session: Session) -> list[tuple[ComponentGroup | None, list[Component]]]:
    groups = list(session.scalars(select(ComponentGroup).order_by(ComponentGroup.position)))
    components = list(session.scalars(select(Component).order_by(Component.position, Component.id)))
    out: list[tuple[ComponentGroup | None, list[Component]]] = [
        (g, [c for c in components if c.group_id == g.id]) for g in groups
    ]
    known = {g.id for g in groups}
    loose = [c for c in components if c.group_id not in known]
    if loose:
        out.append((None, loose))
    return [(g, members) for g, members in out if members or g is not None]


def _public_incidents(session: Session) -> list[dict[str, Any]]:
    open_ones = list(
        session.scalars(
            select(PublicIncident)
            .where(PublicIncident.resolved_at.is_(None))
            .order_by(PublicIncident.created_at.desc())
        )
    )
    resolved = list(
        session.scalars(
            select(PublicIncident)
            .where(PublicIncident.resolved_at.is_not(None))
            .order_by(PublicIncident.resolved_at.desc())
            .limit(RECENT_RESOLVED)
        )
    )
    rows = []
    for public in open_ones + resolved:
        updates = list(
            session.scalars(
                select(PublicUpdate)
                .where(PublicUpdate.public_incident_id == public.id)
                .order_by(PublicUpdate.created_at.desc(), PublicUpdate.id.desc())
            )
        )
        rows.append(
            {
                "public": public,
                "drafts": [u for u in updates if u.state == "draft"],
                "published": [u for u in updates if u.state == "published"],
            }
        )
    return rows


def _maintenances(session: Session, console: Console) -> list[Maintenance]:
    # Finished windows drop off after a week; the public page keeps the history.
    since = console.now() - timedelta(days=7)
    return list(
        session.scalars(
            select(Maintenance)
            .where((Maintenance.status != "completed") | (Maintenance.scheduled_until >= since))
            .order_by(Maintenance.scheduled_for)
        )
    )


def editor_page(
    console: Console,
    *,
    incident_id: str = "",
    failure: Failure | None = None,
    status: int = 200,
    done: str = "",
) -> Response:
    with console.read() as session:
        # Read, not service.settings(): that creates the row, and this is a read.
        page = session.scalar(select(StatusPageSettings).limit(1))
        grouped = _grouped(session)
        components = [c for _, members in grouped for c in members]
        prefill = prefill_for(session, console, incident_id) if incident_id else Prefill()
        rows = _public_incidents(session)
        maintenances = _maintenances(session, console)
        # Rendered inside the read: the rows' JSON columns stay loaded.
        return render(
            console,
            "statuspage/admin.html",
            status_code=status,
            active="status_page",
            page=page,
            grouped=grouped,
            components=components,
            component_names={c.id: c.name for c in components},
            rows=rows,
            maintenances=maintenances,
            prefill=prefill,
            words=words(console),
            reader_words=reader_words(),
            sp_languages=LANGUAGES,
            public_templates=PUBLIC_TEMPLATES,
            failure=failure,
            values=failure.values if failure else {},
            notice=console.gettext(DONE[done]) if done in DONE else "",
        )
