"""An incident's timeline as a Markdown document or a CSV file, for the scribe's record.

The Markdown follows seed 000's scribe template: the incident's facts, then a table of
time, activity, actor and details. Times are in the policy's zone; labels in the
reader's language.

Both formats treat every text as data (docs/security.md, "Exports"): a CSV cell that a
spreadsheet would run as a formula starts with a quote, and the Markdown carries no HTML
or link of its own making from what people typed, so a renderer cannot run a script.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from haetae import i18n
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.labels import EVENT_LABELS, STATUS_LABELS
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline
from haetae.timeline.models import TimelineEvent

Format = Literal["markdown", "csv"]
MEDIA_TYPES = {"markdown": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8"}
EXTENSIONS = {"markdown": "md", "csv": "csv"}

_HEADINGS = (N_("Time"), N_("Activity"), N_("Actor"), N_("Details"))


@dataclass(frozen=True)
class Download:
    """A document to answer with: an attachment when it has a file name, else shown."""

    text: str
    media_type: str
    filename: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers)
        if self.filename:
            headers["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return headers


def export_incident(
    session: Session, policy: Policy, incident_id: str, *, fmt: Format, locale: str, now: datetime
) -> Download:
    """An incident's timeline as a file to download (NOT_FOUND if there is no such incident)."""
    incident = incidents.get_incident(session, incident_id)
    text = export(
        incident, timeline.events(session, incident_id), policy, fmt=fmt, locale=locale, now=now
    )
    return Download(text, MEDIA_TYPES[fmt], f"{incident.id}-timeline.{EXTENSIONS[fmt]}")


def export(
    incident: Incident,
    events: list[TimelineEvent],
    policy: Policy,
    *,
    fmt: Format,
    locale: str,
    now: datetime,
) -> str:
    rows = [
        (
            _when(event.at, policy),
            i18n.gettext_for(locale, EVENT_LABELS.get(event.kind, event.kind)),
            event.actor,
            _details(event),
        )
        for event in events
    ]
    headings = [i18n.gettext_for(locale, h) for h in _HEADINGS]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headings)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
        return out.getvalue()
    return _markdown(incident, policy, locale, now, headings, rows)


def _markdown(
    incident: Incident,
    policy: Policy,
    locale: str,
    now: datetime,
    headings: list[str],
    rows: list[tuple[str, str, str, str]],
) -> str:

    def t(message: str) -> str:
        return i18n.gettext_for(locale, message)

    severity = policy.severity(incident.severity)
    severity_text = incident.severity + (
        f" ({localized(severity.name, locale)})" if severity else ""
    )
    end = incident.resolved_at or incident.canceled_at
    facts = [
        (t(N_("ID")), incident.id),
        (t(N_("Services")), ", ".join(incident.services) or "-"),
        (t(N_("Severity")), severity_text),
        (t(N_("Status")), t(STATUS_LABELS.get(incident.status, incident.status))),
        (t(N_("Started")), _when(incident.started_at, policy)),
        (t(N_("Resolved")), _when(incident.resolved_at, policy) if incident.resolved_at else "-"),
        (t(N_("Duration")), _duration((end or now) - incident.started_at)),
    ]
    lines = [f"# {incident.id} {markdown_cell(incident.title)}", ""]
    lines += [f"- **{name}**: {markdown_cell(value)}" for name, value in facts]
    lines += ["", f"## {t(N_('Timeline'))}", ""]
    lines.append("| " + " | ".join(headings) + " |")
    lines.append("|" + "---|" * len(headings))
    lines += ["| " + " | ".join(markdown_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _details(event: TimelineEvent) -> str:
    data = event.data or {}
    if event.kind in ("note", "evidence"):
        return " ".join(part for part in (data.get("body"), data.get("url")) if part)
    if event.kind == "status_update":
        return data.get("situation") or event.summary
    if event.kind == "decision":
        return (
            " / ".join(part for part in (data.get("decision"), data.get("reason")) if part)
            or event.summary
        )
    return event.summary


def _when(at: datetime, policy: Policy) -> str:
    return at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z")


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds()) // 60, 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


# OWASP's list of characters with which a spreadsheet starts a formula (or, tab and
# carriage return, can be made to): a cell starting with one is prefixed with a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A character reference (&lt; &#60; &#x3c; &colon;) would let a renderer decode typed text
# into "<" or a hidden "javascript:", so its ampersand is escaped; "R&D" stays as it is.
_REFERENCE = re.compile(r"&(?=#|[A-Za-z][A-Za-z0-9]*;)")
# "javascript:" with any case and with blanks or control characters between its letters,
# which browsers drop from a scheme.
_SCRIPT_SCHEME = re.compile(
    r"(" + r"[\s\x00-\x1f]*".join("javascript") + r"[\s\x00-\x1f]*):", re.IGNORECASE
)


def _csv_cell(value: str) -> str:
    """One CSV cell a spreadsheet shows as text: a would-be formula gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def markdown_cell(value: str) -> str:
    """One Markdown table cell holding typed text as text.

    Backslashes, pipes and brackets are escaped (no cell split, no Markdown link or
    image), so are HTML's <, > and character references; a "javascript:" scheme loses
    its colon to an escape. Line breaks are kept as <br>, the only tag the export writes,
    so rows stay rows.
    """
    text = value.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("[", "\\[").replace("]", "\\]")
    text = _REFERENCE.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    text = _SCRIPT_SCHEME.sub(r"\1\\:", text)
    return text.replace("\r", "").replace("\n", "<br>")
