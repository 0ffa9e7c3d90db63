"""The timeline exports hold typed text as data: no spreadsheet formula, no HTML, no script link."""

from __future__ import annotations

import csv
import io
import re

import httpx
from markdown_it import MarkdownIt

from tests.api.helpers import declare

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript :alert(1))",
    "[x](javascript&#58;alert(1))",
]
FORMULAS = PAYLOADS[:4]


def _incident_carrying_the_payloads(api: httpx.Client) -> str:
    inc = str(declare(api, title=" ".join(PAYLOADS))["id"])
    for payload in PAYLOADS:
        r = api.post(f"/api/v1/incidents/{inc}/notes", json={"body": payload})
        assert r.status_code == 201, r.text
    return inc


def test_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(api):
    inc = _incident_carrying_the_payloads(api)
    r = api.get(f"/api/v1/incidents/{inc}/timeline/export", params={"format": "csv"})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["Time", "Activity", "Actor", "Details"]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    notes = [row[3] for row in rows[1:] if row[1] == "Note"]
    assert notes == ["'" + p if p in FORMULAS else p for p in PAYLOADS]
    # The title sits inside the declaration's summary, where it is never a formula.
    assert any(" ".join(PAYLOADS) in cell for cell in cells)


def test_markdown_export_has_no_raw_html_and_no_javascript_link(api):
    inc = _incident_carrying_the_payloads(api)
    for lang in ("en", "ko"):
        r = api.get(f"/api/v1/incidents/{inc}/timeline/export", params={"lang": lang})
        assert r.status_code == 200
        md = r.text
        assert "<script" not in md.lower() and "<img" not in md.lower()
        # <br> for a line break inside a cell is the only tag the export writes.
        assert set(re.findall(r"<[^\s<>]*", md)) <= {"<br"}
        assert not re.search(r"j\W*a\W*v\W*a\W*s\W*c\W*r\W*i\W*p\W*t\s*:", md, re.IGNORECASE)
        assert "&#58;" not in md.replace("&amp;#58;", "")  # no entity hiding a colon
        # Rendered by a CommonMark renderer that lets raw HTML through and checks no link,
        # the page has no script, no image, no link at all: the payloads stay text.
        renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
        renderer.validateLink = lambda url: True
        html = renderer.render(md)
        assert "<table>" in html
        assert not re.search(r"<(script|img|a)\b", html, re.IGNORECASE)
        assert not re.search(r"(href|src|on\w+)=\"", html, re.IGNORECASE)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        # The typed text is still there to read, escaped rather than dropped.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
        assert md.count("| admin | ") >= len(PAYLOADS)


def test_markdown_export_keeps_ordinary_text_readable(api):
    inc = declare(api, title="R&D | checkout <> down")["id"]
    api.post(f"/api/v1/incidents/{inc}/notes", json={"body": "see https://status.example/x\nok"})
    md = api.get(f"/api/v1/incidents/{inc}/timeline/export").text
    assert md.startswith(f"# {inc} R&D \\| checkout &lt;&gt; down\n")
    assert "| see https://status.example/x<br>ok |" in md
