"""A review's Document as a file: Markdown (also the email's body), a standalone HTML page
with its own Content-Security-Policy, or CSV (one row per table cell).

Typed text (titles, root causes) is data: the Markdown escapes it as the timeline export's
cells are, the HTML escapes it, and the CSV quotes a would-be formula.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from typing import Literal

from markupsafe import escape

from haetae.incidents.export import markdown_cell
from haetae.reviews.document import Document

Format = Literal["md", "html", "csv"]
FORMATS: tuple[Format, ...] = ("md", "html", "csv")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#1c1c1c}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;"
    "border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}.muted{color:#555}@media print{h2{break-after:avoid}}"
)


def content_security_policy() -> str:
    """The HTML's own policy: its one inline stylesheet by hash, and nothing else."""
    digest = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def _cell(value: str) -> str:
    return markdown_cell(value.strip()) if value.strip() else "-"


def markdown(doc: Document) -> str:
    out = [f"# {_cell(doc.title)}", "", f"_{_cell(doc.subtitle)}_", ""]
    for section in doc.sections:
        out += [f"## {_cell(section.title)}", ""]
        for line in section.lines:
            out += [_cell(line), ""]
        for table in section.tables:
            out.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
            out.append("|" + "---|" * len(table.columns))
            for row in table.rows:
                out.append("| " + " | ".join(_cell(c) for c in row) + " |")
            out.append("")
        for question in section.questions:
            out.append(f"- [ ] {_cell(question)}")
        if section.questions:
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def html(doc: Document) -> str:
    parts = [
        "<!doctype html>",
        f'<html lang="{escape(doc.locale)}"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
        f'<p class="muted">{escape(doc.subtitle)}</p>',
    ]
    for section in doc.sections:
        parts.append(f'<section id="{escape(section.id)}"><h2>{escape(section.title)}</h2>')
        parts += [f"<p>{escape(line)}</p>" for line in section.lines]
        for table in section.tables:
            head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                for row in table.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if section.questions:
            items = "".join(f"<li>{escape(q)}</li>" for q in section.questions)
            parts.append(f'<ul class="questions">{items}</ul>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _csv_cell(value: str) -> str:
    """Shown by a spreadsheet as text: a would-be formula gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_text(doc: Document) -> str:
    """One row per table cell: section, row (its first cell), column, value; a section's
    sentences are rows with an empty column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "row", "column", "value"])
    for section in doc.sections:
        for line in section.lines:
            writer.writerow([section.id, "", "", _csv_cell(line)])
        for table in section.tables:
            for row in table.rows:
                for column, value in zip(table.columns[1:], row[1:], strict=False):
                    writer.writerow(
                        [section.id, _csv_cell(row[0]), _csv_cell(column), _csv_cell(value)]
                    )
    return buffer.getvalue()


def render(doc: Document, fmt: Format) -> str:
    if fmt == "html":
        return html(doc)
    if fmt == "csv":
        return csv_text(doc)
    return markdown(doc)
