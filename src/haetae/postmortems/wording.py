"""How the post-mortem exports and the incident reports write things: typed text escaped for
Markdown, times in the policy's zone, spans, impact, measures by term, the reader's language,
the templates that put them together, and the file they make.

Every text people typed is data (docs/security.md, "Exports"): the Markdown escapes it as the
timeline export does, so a table cannot be broken and no HTML or link is made of it; the HTML
templates autoescape it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from haetae import i18n
from haetae.actions.models import ActionItem
from haetae.actions.service import TERMS, code
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents.export import markdown_cell
from haetae.incidents.lifecycle import AUTOMATIC_SUMMARIES
from haetae.incidents.models import Incident
from haetae.labels import PRIORITY_LABELS, TERM_LABELS
from haetae.policy.schema import Policy
from haetae.postmortems import queries

MARKDOWN = "text/markdown; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

OTHER_TERM = N_("Other")  # a measure without a term
# The seed writes the board's columns and a measure's state in English in its Korean template
# too (6.5 "To Do / In Progress / Done", 6.6 "Backlog / In Progress / Done"): kept as written.
COLUMN_WORDS = {
    "backlog": "Backlog",
    "in_progress": "In Progress",
    "review": "Review",
    "done": "Done",
}
STATE_WORDS = {"backlog": "To Do", "in_progress": "In Progress", "review": "Review", "done": "Done"}


def chosen_locale(locale: str) -> str:
    """The reader's language, one of i18n.LOCALES (VALIDATION_ERROR otherwise)."""
    chosen = i18n.supported(locale)
    if chosen is None:
        raise HaetaeError("VALIDATION_ERROR", f"lang must be one of {', '.join(i18n.LOCALES)}")
    return chosen


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


def when(policy: Policy, at: datetime | None, *, day: date | None = None) -> str:
    """A time in the policy's zone: HH:MM when it falls on `day`, else with its date."""
    if at is None:
        return "-"
    local = at.astimezone(policy.zone)
    if day is not None and local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def full_time(policy: Policy, at: datetime | None) -> str:
    """A time in the policy's zone with its date and seconds."""
    return "-" if at is None else at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M:%S")


def span(minutes: float | None, locale: str) -> str:
    """Minutes as "1h 5m" or "5m" in the reader's language."""
    if minutes is None:
        return "-"
    total = max(round(minutes), 0)
    hours, mins = divmod(total, 60)
    if hours:
        return i18n.gettext_for(locale, N_("%(h)dh %(m)dm")) % {"h": hours, "m": mins}
    return i18n.gettext_for(locale, N_("%(m)dm")) % {"m": mins}


def zone_name(policy: Policy, at: datetime) -> str:
    return at.astimezone(policy.zone).strftime("%Z")


def impact_of(impact: dict[str, Any], locale: str) -> str:
    """The incident's own impact fields in a line, for when nobody has written one."""
    parts: list[str] = []
    if impact.get("users") is not None:
        parts.append(i18n.gettext_for(locale, N_("%(n)s users")) % {"n": impact["users"]})
    for key in ("users_description", "features", "regions"):
        value = impact.get(key)
        if value:
            parts.append(", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return " · ".join(parts)


def resolution_text(incident: Incident, locale: str) -> str:
    """How the incident was resolved; the automatic summaries in the reader's language."""
    summary = (incident.resolution_summary or "").strip()
    if summary in AUTOMATIC_SUMMARIES:
        return i18n.gettext_for(locale, summary)
    return summary


# Measures


def item_row(item: queries.MeasureRow | ActionItem, locale: str) -> dict[str, str]:
    """A measure or action item as the templates' tables show it."""
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


def by_term(rows: list[tuple[str | None, dict[str, str]]], locale: str) -> list[dict[str, Any]]:
    """Seed 001 6.5: every term with its measures (an empty term still shows, with a dash)."""
    groups: list[dict[str, Any]] = []
    for term in (*TERMS, None):  # seed 001 6.5's order
        items = [row for t, row in rows if t == term]
        if term is None and not items:
            continue
        title = TERM_LABELS[term] if term else OTHER_TERM
        groups.append({"title": i18n.gettext_for(locale, title), "items": items})
    return groups


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


def render(name: str, **context: Any) -> str:
    """One of postmortems/templates/ filled in; `context` needs the reader's `locale`."""
    text = _environment().get_template(name).render(**context)
    # Typed text holds no raw line break (<br> instead), so this only tidies the layout.
    return re.sub(r"\n{3,}", "\n\n", text) if name.endswith(".md") else text
