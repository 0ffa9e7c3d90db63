"""An incident's reports, with or without a post-mortem: seed 001 App. B's short report, ready
to paste into a chat, and the incident report of seeds 003 §4.1 and 004 step 5 as Markdown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import i18n
from haetae.actions.models import ActionItem
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.incidents.durations import durations
from haetae.incidents.export import Download
from haetae.incidents.models import Incident, StatusUpdate
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.postmortems import drafting, queries
from haetae.postmortems.wording import (
    MARKDOWN,
    TEXT,
    by_term,
    chosen_locale,
    full_time,
    impact_of,
    item_row,
    render,
    resolution_text,
    span,
    when,
    zone_name,
)

Form = Literal["short", "full"]
FORMS: tuple[Form, ...] = ("short", "full")

PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
OPEN_STATUSES = frozenset({"triage", "investigating", "identified", "monitoring"})


def _items_of(session: Session, incident_id: str) -> list[ActionItem]:
    return list(
        session.scalars(
            select(ActionItem)
            .where(ActionItem.incident_id == incident_id)
            .order_by(ActionItem.number)
        )
    )


def _last_progress(session: Session, incident_id: str) -> str:
    update = session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.incident_id == incident_id)
        .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())
        .limit(1)
    ).first()
    if update is None:
        return ""
    return (update.progress or update.situation or "").strip()


def _state(incident: Incident, published: bool) -> str:
    if incident.status in OPEN_STATUSES:
        return "ongoing"
    if incident.status == "canceled":
        return "canceled"
    return "postmortem_done" if published else "recovered"


def short_report(
    session: Session, policy: Policy, incident_id: str, *, locale: str, now: datetime
) -> str:
    """Seed 001 App. B, ready to paste into a chat. Times in the policy's zone, with the date
    when it is not today there."""
    locale = chosen_locale(locale)
    incident = incidents.get_incident(session, incident_id)
    pm = queries.find(session, incident_id)
    today = now.astimezone(policy.zone).date()
    impact = (pm.impact.strip() if pm else "") or impact_of(incident.impact or {}, locale)
    resolution = resolution_text(incident, locale)
    cause = (pm.root_cause.strip() if pm else "") or resolution
    action = resolution or _last_progress(session, incident_id)
    context = {
        "locale": locale,
        "id": incident.id,
        "severity": incident.severity,
        "started": when(policy, incident.started_at, day=today),
        "recovered": when(policy, incident.resolved_at, day=today),
        "impact": _one_line(impact),
        "cause": _one_line(cause),
        "action": _one_line(action),
        "state": _state(incident, pm is not None and pm.status == "published"),
    }
    return render(f"short.{locale}.txt", **context)


def _one_line(text: str) -> str:
    """A report line stays one line: line breaks become spaces."""
    return " ".join(text.split()) or "-"


def incident_report(
    session: Session, policy: Policy, incident_id: str, *, locale: str, now: datetime
) -> str:
    """Seeds 003 §4.1 and 004 step 5 as a Markdown document: basic facts, details, follow-ups,
    timeline, root cause, prevention, the recovery target (SLO) and the backlog's priorities."""
    locale = chosen_locale(locale)
    incident = incidents.get_incident(session, incident_id)
    pm = queries.find(session, incident_id)
    view = queries.build_view(session, policy, pm, incident, now=now, locale=locale) if pm else None
    day = incident.started_at.astimezone(policy.zone).date()
    if view is not None:
        events = [(e.at, e.text, e.note) for e in view.key_events]
    else:
        events = [
            (datetime.fromisoformat(e["at"]), e["text"], e["note"])
            for e in drafting.key_events(session, incident_id)
        ]
    items = _items_of(session, incident_id)
    rows = [(i.term, item_row(i, locale)) for i in items]
    open_items = sorted(
        (i for i in items if i.column != "done"),
        key=lambda i: (PRIORITY_ORDER.get(i.priority, 9), i.due_date or date.max, i.number),
    )
    measured = durations(policy, incident)
    minutes = measured.minutes()
    severity = policy.severity(incident.severity)
    resolution = resolution_text(incident, locale)
    context = {
        "locale": locale,
        "incident_id": incident.id,
        "title": incident.title,
        "occurred": full_time(policy, incident.started_at),
        "recovered": full_time(policy, incident.resolved_at),
        "severity": incident.severity
        + (f" ({localized(severity.name, locale)})" if severity else ""),
        "impact": (view.impact.strip() if view else "") or impact_of(incident.impact or {}, locale),
        "symptom": (view.summary.strip() if view else "") or incident.summary,
        "whys": list(view.whys) if view else [],
        "root_cause": view.root_cause if view else "",
        "action": resolution or _last_progress(session, incident_id),
        "decisions": [
            (when(policy, d.at, day=day), d.decision) for d in (view.decisions if view else [])
        ],
        "terms": by_term(rows, locale) if rows else [],
        # The policy's own sections (seed 003's follow-up plans, for one) are follow-ups too.
        "custom": (
            [(s.title, view.custom.get(s.id, "")) for s in view.sections if not s.builtin]
            if view
            else []
        ),
        "zone": zone_name(policy, incident.started_at),
        "timeline": [(when(policy, at, day=day), text, note) for at, text, note in events],
        "measures": [row for term, row in rows if term is not None],
        "slo": [
            (
                i18n.gettext_for(locale, N_("Recovery target")),
                full_time(policy, measured.recovery_due),
            ),
            (i18n.gettext_for(locale, N_("Recovered at")), full_time(policy, incident.resolved_at)),
            (
                i18n.gettext_for(locale, N_("Minutes past the recovery target")),
                "-" if measured.minutes_past_target is None else str(measured.minutes_past_target),
            ),
            (
                i18n.gettext_for(locale, N_("Time to detect")),
                span(minutes["time_to_detect"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to acknowledge")),
                span(minutes["time_to_acknowledge"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to mitigate")),
                span(minutes["time_to_mitigate"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to resolve")),
                span(minutes["time_to_resolve"], locale),
            ),
        ],
        "backlog": [item_row(i, locale) for i in open_items],
    }
    return render("report.md", **context)


def export_report(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    form: str,
    locale: str,
    now: datetime,
) -> Download:
    """The short report (text to paste) or the incident report (a Markdown file)."""
    if form not in FORMS:
        raise HaetaeError("VALIDATION_ERROR", f"form must be one of {', '.join(FORMS)}")
    if form == "short":
        return Download(short_report(session, policy, incident_id, locale=locale, now=now), TEXT)
    return Download(
        incident_report(session, policy, incident_id, locale=locale, now=now),
        MARKDOWN,
        f"{incident_id}-report.md",
    )
