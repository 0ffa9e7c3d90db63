"""What a communication template may read about an incident, in one language.

Plain values only (text, numbers, lists and dicts of them): a sandboxed template reaches
nothing but this. The public form keeps only what anyone may read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import i18n
from haetae.auth.models import User
from haetae.i18n import N_
from haetae.incidents.lifecycle import AUTOMATIC_SUMMARIES
from haetae.incidents.models import Incident, RoleAssignment, StatusUpdate
from haetae.labels import STATUS_LABELS
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.statuspage.models import Component
from haetae.timeline.models import TimelineEvent

# The status update fields a severity may require (communications.UpdateField), as the
# console, the CLI and the templates name them.
FIELD_LABELS = {
    "next_steps": N_("Next steps"),
    "customer_impact": N_("Customer impact"),
    "workaround": N_("Workaround"),
    "mitigation_eta": N_("Mitigation ETA"),
    "final_eta": N_("Final ETA"),
    "permanent_fix": N_("Permanent fix schedule"),
}
EXTRA_FIELDS = tuple(k for k in FIELD_LABELS if k != "next_steps")
# Set by templates.configure(): the process's override folders and public address.
CONFIGURED: dict[str, str] = {"templates_dir": "", "policy_file": "", "public_url": ""}
# Keys a public context keeps; everything else (names, notes, the URL, the id, severity and
# category labels, the internal update's words) stays inside.
PUBLIC_KEYS = frozenset(
    {
        "title",
        "status",
        "status_id",
        "services",
        "service_name",
        "impact",
        "started",
        "detected",
        "resolved",
        "duration",
        "recovery_target",
        "update",
        "next_update",
        "public",
        "locale",
        "drill",
    }
)
PUBLIC_UPDATE_KEYS = frozenset({"eta", "at"})


def current_roles(session: Session, incident_id: str) -> dict[str, str]:
    """The incident's role holders now, read as incidents/roles.py reads them: importing that
    module here would close an import cycle (incidents/service.py -> comms/service.py, which
    renders the automatic messages, -> this module -> incidents/roles.py -> incidents/service)."""
    rows = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, RoleAssignment.ended_at.is_(None)
        )
    )
    return {row.role: row.assignee for row in rows}


def when(policy: Policy, value: datetime | None) -> str:
    """Seed 002's way: `2025-08-14 14:30 (KST)`, in the policy's zone."""
    if value is None:
        return ""
    return value.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M (%Z)")


def span(delta: timedelta, locale: str) -> str:
    """`1시간 15분` (seed 000) or `1 h 15 min`."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ("일", "시간", "분") if locale == "ko" else (" d", " h", " min")
    parts = [f"{n}{u}" for n, u in zip((days, hours), units[:2], strict=True) if n]
    if mins or not parts:
        parts.append(f"{mins}{units[2]}")
    return " ".join(parts)


def _level(levels: list[Any], value: str | None, locale: str) -> str:
    level = next((lv for lv in levels if lv.id == value), None)
    return localized(level.name, locale) if level is not None else (value or "")


def _latest_update(session: Session, incident_id: str) -> StatusUpdate | None:
    return session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.incident_id == incident_id)
        .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())
        .limit(1)
    ).first()


def _update_view(policy: Policy, update: StatusUpdate | None, locale: str) -> dict[str, Any]:
    stored = dict(update.fields or {}) if update is not None else {}
    fields = {name: str(stored.get(name) or "") for name in EXTRA_FIELDS}
    return {
        "posted": update is not None,
        "at": when(policy, update.created_at) if update else "",
        "situation": update.situation if update else "",
        "impact": update.impact if update else "",
        "progress": update.progress if update else "",
        "eta": (update.eta or "") if update else "",
        "next_steps": update.next_steps if update else "",
        "fields": fields,
        "field_list": [
            {"name": name, "label": i18n.gettext_for(locale, FIELD_LABELS[name]), "value": value}
            for name, value in fields.items()
            if value
        ],
    }


def _previous_severity(session: Session, incident: Incident) -> str:
    """The severity before the latest change to the current one (the severity_change
    message), read from the timeline so every caller gets it without passing it."""
    data = session.scalars(
        select(TimelineEvent.data)
        .where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "severity_changed")
        .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        .limit(1)
    ).first()
    if not data or data.get("to") != incident.severity or data.get("from") == incident.severity:
        return ""
    return str(data.get("from") or "")


def _names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames))
    )
    return {username: display or username for username, display in rows}


def context_for(
    session: Session,
    policy: Policy,
    incident: Incident,
    locale: str,
    *,
    now: datetime,
    public: bool = False,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The incident's fields a template may use, in `locale` (ko, else en); `public=True`
    keeps only what the public may read (the status page's drafts)."""
    lang = "ko" if (locale or "").lower().startswith("ko") else "en"
    severity = policy.severity(incident.severity)
    severity_name = localized(severity.name, lang) if severity else incident.severity
    category = next((c for c in policy.categories if c.id == incident.category), None)
    matrix = policy.impact_matrix
    business = _level(matrix.business_impact, incident.business_impact, lang) if matrix else ""
    users = _level(matrix.user_impact, incident.user_impact, lang) if matrix else ""
    update = _update_view(policy, _latest_update(session, incident.id), lang)
    roles = current_roles(session, incident.id)
    names = _names(session, {*roles.values(), incident.declared_by})
    target = severity.recovery_target.duration if severity else None
    end = incident.resolved_at or incident.canceled_at or now
    url = (base_url if base_url is not None else CONFIGURED["public_url"]) or ""
    resolution = incident.resolution_summary or ""
    if resolution in AUTOMATIC_SUMMARIES:
        resolution = i18n.gettext_for(lang, resolution)
    services = ", ".join(incident.services or [])
    context: dict[str, Any] = {
        "locale": lang,
        "public": public,
        "drill": bool(incident.drill),
        "id": incident.id,
        "title": incident.title,
        "summary": (incident.summary or "").strip(),
        "severity": {
            "id": incident.severity,
            "name": severity_name,
            "label": incident.severity
            if severity_name == incident.severity
            else f"{incident.severity} ({severity_name})",
        },
        "previous_severity": _previous_severity(session, incident),
        "status_id": incident.status,
        "status": i18n.gettext_for(lang, STATUS_LABELS[incident.status])
        if incident.status in STATUS_LABELS
        else incident.status,
        "services": services,
        # Seed 002's "{service} 서비스": the services, else the incident's title.
        "service_name": services or incident.title,
        "category": localized(category.name, lang) if category else (incident.category or ""),
        "tags": ", ".join(incident.tags or []),
        "impact": {
            "business": business,
            "user": users,
            "summary": " · ".join(v for v in (users, business) if v),
        },
        "started": when(policy, incident.started_at),
        "detected": when(policy, incident.detected_at),
        "declared": when(policy, incident.declared_at),
        "resolved": when(policy, incident.resolved_at),
        "duration": span(end - incident.started_at, lang),
        "recovery_target": span(target, lang) if target else "",
        "update": update,
        "next_update": when(policy, incident.next_update_due),
        "roles": [
            {
                "id": role_id,
                "role": localized(r.name, lang) if (r := policy.role(role_id)) else role_id,
                "name": names.get(username, username),
            }
            for role_id, username in roles.items()
        ],
        "declared_by": names.get(incident.declared_by, incident.declared_by),
        "url": f"{url.rstrip('/')}/incidents/{incident.id}" if url else f"/incidents/{incident.id}",
        "affected_version": incident.affected_version or "",
        "resolution": resolution.strip(),
    }
    if not public:
        return context
    # The public never reads Haetae's own service names: the status page's components linked
    # to them stand in (their public names), else the incident's public title.
    shown = public_names(session, incident.services or [], locale)
    context["services"] = ", ".join(shown)
    context["service_name"] = context["services"] or incident.title
    return to_public(context)


def public_names(session: Session, services: list[str], locale: str) -> list[str]:
    """The public names of the status page components linked to these services."""
    wanted = {s.lower() for s in services}
    if not wanted:
        return []
    names: list[str] = []
    for component in session.scalars(select(Component).order_by(Component.position, Component.id)):
        linked = {s.lower() for s in component.services or []}
        if component.visible and linked & wanted:
            name = component.name or {}
            names.append(name.get(locale) or name.get("en") or component.slug)
    return names


def to_public(context: dict[str, Any]) -> dict[str, Any]:
    """Only what the public may read: no names, notes, labels, URLs or internal ids."""
    kept = {k: v for k, v in context.items() if k in PUBLIC_KEYS}
    update = context.get("update") or {}
    kept["update"] = {k: v for k, v in update.items() if k in PUBLIC_UPDATE_KEYS}
    kept["public"] = True
    return kept


def sample_context(locale: str, *, public: bool = False) -> dict[str, Any]:
    """A made-up incident with every field filled: `templates check` renders each file with it."""
    ko = locale == "ko"
    fields = {name: "…" for name in EXTRA_FIELDS}
    context: dict[str, Any] = {
        "locale": locale,
        "public": public,
        "drill": False,
        "id": "INC-2025-0001",
        "title": "결제 API 오류" if ko else "Payment API errors",
        "summary": "",
        "severity": {"id": "P1", "name": "Critical", "label": "P1 (Critical)"},
        "previous_severity": "P2",
        "status_id": "investigating",
        "status": "조사 중" if ko else "Investigating",
        "services": "payment-api",
        "service_name": "payment-api",
        "category": "Application",
        "tags": "payment",
        "impact": {"business": "매출 직접 영향", "user": "다수", "summary": "다수 · 매출"},
        "started": "2025-08-14 14:30 (KST)",
        "detected": "2025-08-14 14:31 (KST)",
        "declared": "2025-08-14 14:32 (KST)",
        "resolved": "2025-08-14 15:15 (KST)",
        "duration": "45분" if ko else "45 min",
        "recovery_target": "30분" if ko else "30 min",
        "update": {
            "posted": True,
            "at": "2025-08-14 14:45 (KST)",
            "situation": "…",
            "impact": "…",
            "progress": "…",
            "eta": "15:15",
            "next_steps": "…",
            "fields": fields,
            "field_list": [{"name": k, "label": k, "value": v} for k, v in fields.items()],
        },
        "next_update": "2025-08-14 15:00 (KST)",
        "roles": [{"id": "ic", "role": "Incident Commander", "name": "Kim"}],
        "declared_by": "kim",
        "url": "https://haetae.example/incidents/INC-2025-0001",
        "affected_version": "1.2.3",
        "resolution": "…",
    }
    return to_public(context) if public else context
