"""Post-mortem and incident exports: the post-mortem as Markdown or printable HTML, seed 001
App. B's short report, and the incident report of seeds 003 §4.1 and 004 step 5.

Every text people typed is data (docs/security.md, "Exports"): the Markdown escapes it as the
timeline export does, so a table cannot be broken and no HTML or link is made of it; the HTML
is autoescaped and carries a Content-Security-Policy that allows nothing but its own <style>.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae import i18n
from haetae.actions.models import ActionItem
from haetae.actions.service import code
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.incidents.durations import durations
from haetae.incidents.export import markdown_cell
from haetae.incidents.lifecycle import AUTOMATIC_SUMMARIES
from haetae.incidents.models import Incident, StatusUpdate
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.postmortems import drafting, queries
from haetae.postmortems.queries import PostmortemView

Format = Literal["markdown", "html"]
Form = Literal["short", "full"]
FORMATS: tuple[Format, ...] = ("markdown", "html")
FORMS: tuple[Form, ...] = ("short", "full")

MARKDOWN = "text/markdown; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

# Seed 001 6.5's terms, in its order and words.
TERMS = ("short", "mid", "long")
TERM_TITLES = {
    "short": N_("Short term (within a week)"),
    "mid": N_("Mid term (within a month)"),
    "long": N_("Long term (within a quarter)"),
    None: N_("Other"),
}
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
PRIORITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
# The seed writes the board's columns and a measure's state in English in its Korean template
# too (6.5 "To Do / In Progress / Done", 6.6 "Backlog / In Progress / Done"): kept as written.
COLUMN_WORDS = {
    "backlog": "Backlog",
    "in_progress": "In Progress",
    "review": "Review",
    "done": "Done",
}
STATE_WORDS = {"backlog": "To Do", "in_progress": "In Progress", "review": "Review", "done": "Done"}
# Sections that start a new printed page: the long tables.
MAJOR_SECTIONS = frozenset({"timeline", "five_whys", "measures"})
OPEN_STATUSES = frozenset({"triage", "investigating", "identified", "monitoring"})


@dataclass(frozen=True)
class Download:
    text: str
    media_type: str
    filename: str | None = None  # None: shown, not downloaded (the short report)
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers)
        if self.filename:
            headers["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return headers


# Text as the templates write it


def _block_start(text: str) -> str:
    """A paragraph or list item that starts with a Markdown block marker (# > - + * = ` ~ or
    "1.") gets it escaped, so typed text never becomes a heading or a list of its own."""
    if re.match(r"\d+[.)]", text):
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return "\\" + text if re.match(r"[#>\-+*=`~]", text) else text


def markdown_text(value: object) -> str:
    """Typed text in a Markdown table cell or inline: escaped as the timeline export's cells
    are (| \\ [ ] < > character references, javascript:, line breaks as <br>); "-" if empty."""
    text = "" if value is None else str(value).strip()
    return markdown_cell(text) if text else "-"


def markdown_block(value: object) -> str:
    """Typed text as a paragraph or list item: escaped as in a cell, and never a heading, a
    quote or a list of its own."""
    return _block_start(markdown_text(value))


def _when(policy: Policy, at: datetime | None, *, day: date | None = None) -> str:
    """A time in the policy's zone: HH:MM when it falls on `day`, else with its date."""
    if at is None:
        return "-"
    local = at.astimezone(policy.zone)
    if day is not None and local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def _full(policy: Policy, at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M:%S")


def _span(minutes: float | None, locale: str) -> str:
    if minutes is None:
        return "-"
    total = max(round(minutes), 0)
    hours, mins = divmod(total, 60)
    if hours:
        return i18n.gettext_for(locale, N_("%(h)dh %(m)dm")) % {"h": hours, "m": mins}
    return i18n.gettext_for(locale, N_("%(m)dm")) % {"m": mins}


def _zone_name(policy: Policy, at: datetime) -> str:
    return at.astimezone(policy.zone).strftime("%Z")


def _impact_of(impact: dict[str, Any], locale: str) -> str:
    """The incident's own impact fields in a line, for when nobody has written one."""
    parts: list[str] = []
    if impact.get("users") is not None:
        parts.append(i18n.gettext_for(locale, N_("%(n)s users")) % {"n": impact["users"]})
    for key in ("users_description", "features", "regions"):
        value = impact.get(key)
        if value:
            parts.append(", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return " · ".join(parts)


def _resolution(incident: Incident, locale: str) -> str:
    summary = (incident.resolution_summary or "").strip()
    if summary in AUTOMATIC_SUMMARIES:
        return i18n.gettext_for(locale, summary)
    return summary


# Templates


@pass_context
def _gettext(context: Context, message: str) -> str:
    return i18n.gettext_for(context["locale"], message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.ngettext_for(context["locale"], singular, plural, n)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("haetae.postmortems", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["md"] = markdown_text
    env.filters["md_block"] = markdown_block
    env.filters["tuple_of"] = lambda row, *keys: tuple(row[key] for key in keys)
    return env


def _render(name: str, **context: Any) -> str:
    text = _environment().get_template(name).render(**context)
    # Typed text holds no raw line break (<br> instead), so this only tidies the layout.
    return re.sub(r"\n{3,}", "\n\n", text) if name.endswith(".md") else text


@cache
def print_stylesheet() -> str:
    """The printable HTML's one stylesheet, inlined so a saved file keeps its look."""
    return (resources.files("haetae.postmortems") / "templates" / "print.css").read_text("utf-8")


@cache
def style_hash() -> str:
    """The CSP source that allows exactly the inlined stylesheet: 'sha256-<base64>'."""
    digest = hashlib.sha256(print_stylesheet().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy() -> str:
    """The printable HTML's own policy: its inline <style> by hash, and nothing else at all
    (no script, no image, no form, no framing)."""
    return (
        f"default-src 'none'; style-src {style_hash()}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


# The post-mortem


def _item_row(item: queries.MeasureRow | ActionItem, locale: str) -> dict[str, str]:
    number = item.code if isinstance(item, queries.MeasureRow) else code(item)
    return {
        "code": number,
        "title": item.title,
        "description": item.description,
        "owner": item.owner or "-",
        "due": item.due_date.isoformat() if item.due_date else "-",
        "priority": i18n.gettext_for(locale, PRIORITY_LABELS.get(item.priority, item.priority)),
        "state": STATE_WORDS.get(item.column, item.column),
        "column": COLUMN_WORDS.get(item.column, item.column),
    }


def _by_term(rows: list[tuple[str | None, dict[str, str]]], locale: str) -> list[dict[str, Any]]:
    """Seed 001 6.5: every term with its measures (an empty term still shows, with a dash)."""
    groups: list[dict[str, Any]] = []
    for term in (*TERMS, None):
        items = [row for t, row in rows if t == term]
        if term is None and not items:
            continue
        groups.append({"title": i18n.gettext_for(locale, TERM_TITLES[term]), "items": items})
    return groups


def _whys(whys: list[str], locale: str) -> list[tuple[str, str]]:
    """Seed 001 6.4: the first question asks why the incident happened, each next one asks why
    the previous answer happened."""
    rows: list[tuple[str, str]] = []
    for index, answer in enumerate(whys, start=1):
        if index == 1:
            question = i18n.gettext_for(locale, N_("%(n)d. Why did the incident happen?"))
            question %= {"n": index}
        else:
            question = i18n.gettext_for(locale, N_("%(n)d. Why did “%(previous)s” happen?"))
            question %= {"n": index, "previous": whys[index - 2].strip()}
        rows.append((question, answer))
    return rows


def postmortem_context(view: PostmortemView, policy: Policy, *, locale: str) -> dict[str, Any]:
    """Everything the Markdown and the HTML show, in the policy's order and zone and the
    reader's language; texts as people typed them (each template escapes them its way)."""

    def t(message: str) -> str:
        return i18n.gettext_for(locale, message)

    basic = view.basic
    day = basic.occurred.astimezone(policy.zone).date()
    severity = basic.severity + (
        f" ({basic.severity_name})" if basic.severity_name != basic.severity else ""
    )
    impact = view.impact.strip() or basic.impact_text.strip() or _impact_of(basic.impact, locale)
    basic_rows = [
        (t(N_("Incident ID")), basic.incident_id),
        (t(N_("Incident title")), view.title),
        (t(N_("Occurred at")), _full(policy, basic.occurred)),
        (t(N_("Detected at")), _full(policy, basic.detected_at)),
        (t(N_("Recovered at")), _full(policy, basic.recovered)),
        (t(N_("Total outage")), _span(basic.total_outage_minutes, locale)),
        (t(N_("Incident severity")), severity),
        (t(N_("Impact scope")), impact or "-"),
        ("Incident Commander", basic.ic or "-"),
        (t(N_("Written by")), view.author),
        (t(N_("Written on")), view.started_at.astimezone(policy.zone).date().isoformat()),
    ]
    measured = view.durations
    duration_rows = [
        (t(N_("Time to detect")), _span(measured.time_to_detect, locale)),
        (t(N_("Time to acknowledge")), _span(measured.time_to_acknowledge, locale)),
        (t(N_("Time to mitigate")), _span(measured.time_to_mitigate, locale)),
        (t(N_("Time to resolve")), _span(measured.time_to_resolve, locale)),
        (t(N_("Recovery target")), _full(policy, measured.recovery_due)),
        (
            t(N_("Minutes past the recovery target")),
            "-" if measured.minutes_past_target is None else str(measured.minutes_past_target),
        ),
    ]
    items = [(m.term, _item_row(m, locale)) for m in view.measures]
    sections = [
        {"id": s.id, "title": s.title, "major": s.id in MAJOR_SECTIONS, "builtin": s.builtin}
        for s in view.sections
    ]
    return {
        "locale": locale,
        "incident_id": view.incident_id,
        "title": view.title,
        "status": view.status,
        "sections": sections,
        "basic": basic_rows,
        "summary": view.summary,
        "impact": impact,
        "zone": _zone_name(policy, basic.occurred),
        "timeline": [(_when(policy, e.at, day=day), e.text, e.note) for e in view.key_events],
        "alerts": [
            (
                a.name,
                a.fingerprint,
                _when(policy, a.first_seen, day=day),
                _when(policy, a.last_seen, day=day),
                a.status,
            )
            for a in view.alerts
        ],
        "roles": [
            (
                r.role_name,
                r.assignee,
                _when(policy, r.since, day=day),
                _when(policy, r.until, day=day),
            )
            for r in view.roles
        ],
        "decisions": [
            (_when(policy, d.at, day=day), d.decision, d.reason, d.decided_by)
            for d in view.decisions
        ],
        "updates": [
            (_when(policy, u.at, day=day), u.situation, u.progress, u.author) for u in view.updates
        ],
        "durations": duration_rows,
        "whys": _whys(view.whys, locale),
        "root_cause": view.root_cause,
        "contributing_factors": view.contributing_factors,
        "went_well": view.went_well,
        "went_wrong": view.went_wrong,
        "lucky": view.lucky,
        "lessons": view.lessons,
        "custom": view.custom,
        "terms": _by_term(items, locale),
        "action_items": [row for _, row in items],
    }


def postmortem_markdown(view: PostmortemView, policy: Policy, *, locale: str) -> str:
    return _render("postmortem.md", **postmortem_context(view, policy, locale=locale))


def postmortem_html(view: PostmortemView, policy: Policy, *, locale: str) -> str:
    return _render(
        "postmortem.html",
        # Our own file, not typed text; inserted as it is so its hash matches the CSP.
        stylesheet=Markup(print_stylesheet()),
        # A saved file keeps the policy in a <meta>, where frame-ancestors has no effect.
        meta_csp=content_security_policy().replace("; frame-ancestors 'none'", ""),
        **postmortem_context(view, policy, locale=locale),
    )


def export_postmortem(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    fmt: str,
    locale: str,
    now: datetime,
) -> Download:
    """The post-mortem as a file (NOT_FOUND when the incident has none)."""
    if fmt not in FORMATS:
        raise HaetaeError("VALIDATION_ERROR", f"format must be one of {', '.join(FORMATS)}")
    locale = _locale(locale)
    view = queries.view(session, policy, incident_id, now=now, locale=locale)
    if fmt == "html":
        return Download(
            postmortem_html(view, policy, locale=locale),
            HTML,
            f"{incident_id}-postmortem.html",
            {"Content-Security-Policy": content_security_policy()},
        )
    return Download(
        postmortem_markdown(view, policy, locale=locale), MARKDOWN, f"{incident_id}-postmortem.md"
    )


def _locale(locale: str) -> str:
    chosen = i18n.supported(locale)
    if chosen is None:
        raise HaetaeError("VALIDATION_ERROR", f"lang must be one of {', '.join(i18n.LOCALES)}")
    return chosen


# The incident's reports: they work for any incident, with or without a post-mortem


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
    locale = _locale(locale)
    incident = incidents.get_incident(session, incident_id)
    pm = queries.find(session, incident_id)
    today = now.astimezone(policy.zone).date()
    impact = (pm.impact.strip() if pm else "") or _impact_of(incident.impact or {}, locale)
    resolution = _resolution(incident, locale)
    cause = (pm.root_cause.strip() if pm else "") or resolution
    action = resolution or _last_progress(session, incident_id)
    context = {
        "locale": locale,
        "id": incident.id,
        "severity": incident.severity,
        "started": _when(policy, incident.started_at, day=today),
        "recovered": _when(policy, incident.resolved_at, day=today),
        "impact": _one_line(impact),
        "cause": _one_line(cause),
        "action": _one_line(action),
        "state": _state(incident, pm is not None and pm.status == "published"),
    }
    return _render(f"short.{locale}.txt", **context)


def _one_line(text: str) -> str:
    """A report line stays one line: line breaks become spaces."""
    return " ".join(text.split()) or "-"


def incident_report(
    session: Session, policy: Policy, incident_id: str, *, locale: str, now: datetime
) -> str:
    """Seeds 003 §4.1 and 004 step 5 as a Markdown document: basic facts, details, follow-ups,
    timeline, root cause, prevention, the recovery target (SLO) and the backlog's priorities."""
    locale = _locale(locale)
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
    rows = [(i.term, _item_row(i, locale)) for i in items]
    open_items = sorted(
        (i for i in items if i.column != "done"),
        key=lambda i: (PRIORITY_ORDER.get(i.priority, 9), i.due_date or date.max, i.number),
    )
    measured = durations(policy, incident)
    minutes = measured.minutes()
    severity = policy.severity(incident.severity)
    resolution = _resolution(incident, locale)
    context = {
        "locale": locale,
        "incident_id": incident.id,
        "title": incident.title,
        "occurred": _full(policy, incident.started_at),
        "recovered": _full(policy, incident.resolved_at),
        "severity": incident.severity
        + (f" ({localized(severity.name, locale)})" if severity else ""),
        "impact": (view.impact.strip() if view else "")
        or _impact_of(incident.impact or {}, locale),
        "symptom": (view.summary.strip() if view else "") or incident.summary,
        "whys": list(view.whys) if view else [],
        "root_cause": view.root_cause if view else "",
        "action": resolution or _last_progress(session, incident_id),
        "decisions": [
            (_when(policy, d.at, day=day), d.decision) for d in (view.decisions if view else [])
        ],
        "terms": _by_term(rows, locale) if rows else [],
        # The policy's own sections (seed 003's follow-up plans, for one) are follow-ups too.
        "custom": (
            [(s.title, view.custom.get(s.id, "")) for s in view.sections if not s.builtin]
            if view
            else []
        ),
        "zone": _zone_name(policy, incident.started_at),
        "timeline": [(_when(policy, at, day=day), text, note) for at, text, note in events],
        "measures": [row for term, row in rows if term is not None],
        "slo": [
            (i18n.gettext_for(locale, N_("Recovery target")), _full(policy, measured.recovery_due)),
            (i18n.gettext_for(locale, N_("Recovered at")), _full(policy, incident.resolved_at)),
            (
                i18n.gettext_for(locale, N_("Minutes past the recovery target")),
                "-" if measured.minutes_past_target is None else str(measured.minutes_past_target),
            ),
            (
                i18n.gettext_for(locale, N_("Time to detect")),
                _span(minutes["time_to_detect"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to acknowledge")),
                _span(minutes["time_to_acknowledge"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to mitigate")),
                _span(minutes["time_to_mitigate"], locale),
            ),
            (
                i18n.gettext_for(locale, N_("Time to resolve")),
                _span(minutes["time_to_resolve"], locale),
            ),
        ],
        "backlog": [_item_row(i, locale) for i in open_items],
    }
    return _render("report.md", **context)


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
