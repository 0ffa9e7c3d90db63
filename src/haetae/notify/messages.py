"""The words of a notification: one plain-text template per kind and language.

A template file (templates/{en,ko}/KIND.txt) holds the subject on its first line, then a
blank line, then the body. Text only: the same words go to email, chat and SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from haetae import i18n
from haetae.incidents.lifecycle import AUTOMATIC_SUMMARIES
from haetae.incidents.models import Incident
from haetae.labels import STATUS_LABELS
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

KINDS = (
    "page",
    "escalation",
    "update_reminder",
    "resolved",
    "handoff",
    "test",
    "bundle",
    # Follow-up reminders (postmortems/jobs.py, actions/jobs.py): their data holds the words.
    "postmortem_deadline",
    "action_item_due",
    # A weekly or monthly review (reviews/jobs.py): its data holds the report's Markdown.
    "review_report",
    # A required role still empty (checklists/jobs.py): data holds the roles and their names.
    "role_reminder",
    # A manual escalation ("page now", contacts/service.py): a plain page, and seed 000's
    # external support and business escalation messages; data holds who asked and the note.
    "manual_page",
    "external_support",
    "business",
    # A public incident's next update is due (statuspage/page_jobs.py): data holds its code,
    # public title {en, ko} and the cadence in minutes.
    "public_update_reminder",
    # Status page subscribers (statuspage/subscribers.py): the double opt-in's confirmation,
    # and a published public update or maintenance notice; data holds their words.
    "status_confirm",
    "status_update",
    # An approval-gated stakeholder message (comms/approvals.py): data holds its text.
    "approval_request",
    # A message to stakeholders (comms/service.py): data names the message, written already.
    "stakeholder",
)
# The start of every message about a drill incident (subject, and so the short form too).
DRILL_MARK = {"en": "[DRILL]", "ko": "[훈련]"}
# An SMS carries about this much; a short message is cut to it.
SHORT_LIMIT = 300
# Seed 000's escalation headings, by the name a policy gives them (policy/escalation.py).
# The seed writes them in English, and Korean messages keep them as written.
HEADINGS = {
    "required": "⚠️ ESCALATION REQUIRED ⚠️",
    "critical": "🚨 CRITICAL ESCALATION 🚨",
    "external": "🔧 EXTERNAL SUPPORT REQUIRED 🔧",
    "business": "💼 BUSINESS ESCALATION 💼",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("haetae.notify", "templates"),
        autoescape=False,  # plain text, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def template_locale(locale: str) -> str:
    return "ko" if (locale or "").lower().startswith("ko") else "en"


def incident_url(public_url: str, incident_id: str) -> str:
    return f"{public_url.rstrip('/')}/incidents/{incident_id}"


def _when(policy: Policy, value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z")


def _span(delta_seconds: float, locale: str) -> str:
    minutes = max(int(delta_seconds // 60), 0)
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ("일", "시간", "분") if locale == "ko" else ("d", "h", "m")
    parts = []
    if days:
        parts.append(f"{days}{units[0]}")
    if hours:
        parts.append(f"{hours}{units[1]}")
    if mins or not parts:
        parts.append(f"{mins}{units[2]}")
    return " ".join(parts)


def _impact(incident: Incident, policy: Policy, locale: str) -> str:
    impact = incident.impact or {}
    parts: list[str] = []
    users = impact.get("users")
    if users is not None:
        parts.append(f"{users}명" if locale == "ko" else f"{users} users")
    for key in ("regions", "features"):
        if impact.get(key):
            parts.append(", ".join(str(v) for v in impact[key]))
    if impact.get("users_description"):
        parts.append(str(impact["users_description"]))
    matrix = policy.impact_matrix
    if matrix is not None:
        for levels, value in (
            (matrix.business_impact, incident.business_impact),
            (matrix.user_impact, incident.user_impact),
        ):
            level = next((lv for lv in levels if lv.id == value), None)
            if level is not None:
                parts.append(localized(level.name, locale))
    return " · ".join(parts)


def _severity_label(severity_id: str, name: str) -> str:
    """'P1 (Critical)', or just 'Sev1' when the policy names it by its id."""
    return severity_id if name == severity_id else f"{severity_id} ({name})"


def _incident_view(incident: Incident, policy: Policy, locale: str) -> dict[str, Any]:
    severity = policy.severity(incident.severity)
    severity_name = localized(severity.name, locale) if severity else incident.severity
    category = next((c for c in policy.categories if c.id == incident.category), None)
    return {
        "id": incident.id,
        "title": incident.title,
        "summary": (incident.summary or "").strip(),
        "status": (
            i18n.gettext_for(locale, STATUS_LABELS[incident.status])
            if incident.status in STATUS_LABELS
            else incident.status
        ),
        "severity": _severity_label(incident.severity, severity_name),
        "severity_id": incident.severity,
        # A canceled incident (declared by mistake) is told so, not "resolved" with a
        # post-mortem to prepare.
        "canceled": incident.status == "canceled",
        "category": localized(category.name, locale) if category else (incident.category or ""),
        "services": ", ".join(incident.services or []),
        "impact": _impact(incident, policy, locale),
        "declared_by": incident.declared_by,
        "started_at": _when(policy, incident.started_at),
        "declared_at": _when(policy, incident.declared_at),
        "acknowledged_at": _when(policy, incident.acknowledged_at),
        "resolved_at": _when(policy, incident.resolved_at),
        "next_update_due": _when(policy, incident.next_update_due),
        "resolution_summary": (
            i18n.gettext_for(locale, incident.resolution_summary)
            if incident.resolution_summary in AUTOMATIC_SUMMARIES
            else (incident.resolution_summary or "").strip()
        ),
        "duration": (
            _span((incident.resolved_at - incident.started_at).total_seconds(), locale)
            if incident.resolved_at is not None
            else ""
        ),
    }


def _extra_view(extra: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """Times in `extra` shown in the policy's zone; everything else as given."""
    return {k: _when(policy, v) if isinstance(v, datetime) else v for k, v in extra.items()}


def render(
    kind: str,
    *,
    incident: Incident | None,
    policy: Policy,
    locale: str,
    public_url: str,
    note: str = "",
    ack_url: str | None = None,
    resolve_url: str | None = None,
    recipient: str = "",
    extra: dict[str, Any] | None = None,
    short: bool = False,
) -> Message:
    """The subject and body of one notification in `locale` ("ko" Korean, else English).

    `short=True` gives an SMS-sized form: the subject, then the ack link (or the incident's).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind '{kind}' (one of {', '.join(KINDS)})")
    lang = template_locale(locale)
    extra = dict(extra or {})
    if kind == "bundle":
        items = [str(item) for item in extra.get("items", [])]
        extra["items"] = items
    context: dict[str, Any] = {
        "incident": _incident_view(incident, policy, lang) if incident is not None else None,
        "incident_url": incident_url(public_url, incident.id) if incident is not None else "",
        "public_url": public_url.rstrip("/"),
        "policy_name": policy.name,
        "note": note.strip(),
        "ack_url": ack_url or "",
        "resolve_url": resolve_url or "",
        "recipient": recipient,
        "extra": _extra_view(extra, policy),
        "heading": HEADINGS.get(str(extra.get("heading") or ""), HEADINGS["required"]),
        "checklist": [localized(item.text, lang) for item in policy.escalation.handoff_checklist],
        # Hand-over: who hands over to whom (extra "from"/"to", or "from_user"/"to_user").
        "from_name": str(extra.get("from") or extra.get("from_user") or ""),
        "to_name": str(extra.get("to") or extra.get("to_user") or ""),
        # Update reminder: when the update was due (extra "due_at", else the incident's).
        "due_at": (
            _when(policy, extra["due_at"])
            if isinstance(extra.get("due_at"), datetime)
            else (_when(policy, incident.next_update_due) if incident is not None else "")
        ),
    }
    text = _environment().get_template(f"{lang}/{kind}.txt").render(context)
    subject, _, body = text.strip("\n").partition("\n")
    subject = " ".join(subject.split())
    body = body.strip("\n")
    # A bundle is marked only when every incident in it is a drill's (notify/dispatch.py).
    drill = extra.get("drill") if kind == "bundle" else incident is not None and incident.drill
    if drill and not subject.startswith(DRILL_MARK[lang]):
        # A drill's messages say so first, in every channel and kind (docs/drills.md): the
        # subject, the body (a chat shows only that) and so the short form.
        subject = f"{DRILL_MARK[lang]} {subject}"
        body = f"{DRILL_MARK[lang]} {body}"
    if short:
        link = ack_url or context["incident_url"]
        body = f"{subject}\n{link}" if link else subject
        if len(body) > SHORT_LIMIT and link:
            room = SHORT_LIMIT - len(link) - 2
            body = f"{subject[:room]}…\n{link}"
    return Message(subject=subject, body=body)
