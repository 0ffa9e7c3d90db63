"""Post-mortem and incident exports, parsed back: the Markdown with markdown-it-py, the HTML
with html.parser, the short report line by line (issue 11, part 3). Real HTTP into a running
server on both databases, and the real `haetae` CLI."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from haetae.cli.common import EXIT_USAGE
from haetae.clock import clock
from haetae.db import Database
from tests.api.helpers import declare, error_code, move
from tests.cli.conftest import Haetae, _base_env
from tests.support import people
from tests.support.server import RunningServer

# Thursday 26 November 2026, 10:00 in Seoul (the default policy's zone, KST).
DECLARED = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
WHYS = [
    "Checkout pods ran out of database connections",
    "The pool size | was halved by a config change",
    "<script>alert(1)</script> the review missed it",
    "Config changes have no load test",
    "Config changes skip the staging soak",
]
MEASURES = [
    ("short", "Restore the pool size", "high"),
    ("short", "Alert on pool saturation", "medium"),
    ("mid", "Load test config changes", "medium"),
    ("long", "Staging soak for every config change", "low"),
]
EN_SECTIONS = [
    "Basic information",
    "Incident summary",
    "Timeline",
    "Alerts",
    "Roles",
    "Decisions",
    "Status updates",
    "Measured durations",
    "Root cause analysis (5 Whys)",
    "Contributing factors",
    "Recurrence prevention",
    "Action Items",
    "What went well",
    "What didn't go well",
    "Where we got lucky",
    "Lessons learned",
]
KO_SECTIONS = [
    "기본 정보",
    "장애 요약",
    "타임라인",
    "알림",
    "역할",
    "의사결정",
    "상황 공유",
    "측정된 소요 시간",
    "근본 원인 분석 (5 Whys)",
    "기여 요인",
    "재발 방지 대책",
    "Action Items",
    "잘 된 점",
    "개선이 필요한 점",
    "행운이었던 점",
    "교훈 (Lessons Learned)",
]


# Reading the documents back


def _inline_text(token: Any) -> str:
    return "".join(
        child.content for child in token.children or [] if child.type in ("text", "code_inline")
    )


def parse_markdown(text: str) -> dict[str, Any]:
    """Headings (level, text) in order, and every table as rows of cell texts, keyed by the
    heading above it (the h3 when there is one)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    headings: list[tuple[int, str]] = []
    tables: dict[str, list[list[str]]] = {}
    current = ""
    rows: list[list[str]] = []
    row: list[str] | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            current = _inline_text(tokens[index + 1])
            headings.append((int(token.tag[1]), current))
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            assert row is not None
            row.append(_inline_text(tokens[index + 1]))
        elif token.type == "tr_close":
            assert row is not None
            rows.append(row)
        elif token.type == "table_close":
            tables[current] = rows
            rows = []
    return {
        "headings": headings,
        "tables": tables,
        "html": MarkdownIt("commonmark").enable("table").render(text),
    }


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.title = ""
        self.style = ""
        self.sections: list[str] = []
        self.h2: list[str] = []
        self.tags: set[str] = set()
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.stack.append(tag)
        if tag == "section":
            self.sections.append(dict(attrs)["id"] or "")
        if tag == "h2":
            self.h2.append("")
        if tag in ("td", "th"):
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        where = self.stack[-1] if self.stack else ""
        if where == "title":
            self.title += data
        elif where == "style":
            self.style += data
        elif where == "h2":
            self.h2[-1] += data
        elif where in ("td", "th"):
            self.cells[-1] += data


def parse_short(text: str) -> dict[str, str]:
    lines = text.strip().splitlines()
    fields = {}
    for line in lines[1:]:
        assert line.startswith("- "), line
        name, _, value = line[2:].partition(": ")
        fields[name] = value
    return {"heading": lines[0], **fields}


# Building a real incident and its post-mortem


@pytest.fixture
def incident(api: httpx.Client, db: Database, server: RunningServer) -> str:
    """A P1 declared at 10:00 KST, acknowledged at 10:03, IC at 10:05, a decision and a status
    update, resolved at 11:35 (35 minutes past its 1-hour recovery target); the post-mortem
    (started by itself on resolve) holds 5 whys, measures in every term, and what people
    wrote, with a `|` and a typed <script>."""
    people.make_user(db, "minji")
    people.make_user(db, "jun")
    clock.freeze(DECLARED)
    incident_id = str(declare(api, title="Checkout | returns 502")["id"])
    clock.advance(minutes=3)
    assert api.post(f"/api/v1/incidents/{incident_id}/acknowledge").status_code == 200
    clock.advance(minutes=2)
    held = api.put(f"/api/v1/incidents/{incident_id}/roles/ic", json={"assignee": "minji"})
    assert held.status_code == 200, held.text
    clock.advance(minutes=10)
    decided = api.post(
        f"/api/v1/incidents/{incident_id}/decisions",
        json={"kind": "technical", "decision": "Roll back the release", "reason": "Fastest"},
    )
    assert decided.status_code == 201, decided.text
    updated = api.post(
        f"/api/v1/incidents/{incident_id}/updates",
        json={"situation": "Rolling back", "progress": "Rollback at 50%"},
    )
    assert updated.status_code == 201, updated.text
    clock.advance(minutes=80)
    for condition in ("core_functions_verified", "metrics_normal_30m", "recovery_notice_sent"):
        checked = api.post(f"/api/v1/incidents/{incident_id}/conditions/{condition}", json={})
        assert checked.status_code == 200, checked.text
    resolved = move(api, incident_id, "resolved", summary="Rolled back the release")
    assert resolved.status_code == 200, resolved.text
    pm = api.get(f"/api/v1/postmortems/{incident_id}")
    assert pm.status_code == 200, pm.text  # P1: started on resolve
    edited = api.patch(
        f"/api/v1/postmortems/{incident_id}",
        json={
            "summary": "Checkout failed for 95 minutes.\nAll users saw 502.",
            "impact": "All checkout users",
            "whys": WHYS,
            "root_cause": "Config changes reach production without a load test",
            "contributing_factors": ["No pool saturation alert"],
            "went_well": ["Rollback was quick"],
            "went_wrong": ["# not a heading | nor a cell"],
            "lucky": ["Low traffic hour"],
            "lessons": "Treat config as code.",
        },
    )
    assert edited.status_code == 200, edited.text
    for term, title, priority in MEASURES:
        added = api.post(
            f"/api/v1/postmortems/{incident_id}/measures",
            json={"title": title, "term": term, "owner": "jun", "priority": priority},
        )
        assert added.status_code == 201, added.text
    return incident_id


def _export(api: httpx.Client, incident_id: str, **params: str) -> httpx.Response:
    return api.get(f"/api/v1/postmortems/{incident_id}/export", params=params)


def _report(api: httpx.Client, incident_id: str, **params: str) -> httpx.Response:
    return api.get(f"/api/v1/incidents/{incident_id}/report", params=params)


# The Markdown post-mortem


def test_markdown_postmortem_follows_the_policys_sections_in_english(api, incident):
    r = _export(api, incident, format="markdown", lang="en")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-disposition"] == (f'attachment; filename="{incident}-postmortem.md"')
    doc = parse_markdown(r.text)
    assert doc["headings"][0] == (1, f"Post-mortem: {incident} Checkout | returns 502")
    assert [text for level, text in doc["headings"] if level == 2] == EN_SECTIONS
    assert [text for level, text in doc["headings"] if level == 3] == [
        "Short term (within a week)",
        "Mid term (within a month)",
        "Long term (within a quarter)",
    ]
    basic = dict(doc["tables"]["Basic information"][1:])
    assert basic["Incident ID"] == incident
    assert basic["Occurred at"] == "2026-11-26 10:00:00"
    assert basic["Recovered at"] == "2026-11-26 11:35:00"
    assert basic["Total outage"] == "1h 35m"
    assert basic["Incident Commander"] == "minji"
    assert basic["Incident severity"].startswith("P1")
    # The timeline's key events, in KST.
    timeline = doc["tables"]["Timeline"]
    assert timeline[0] == ["Time (KST)", "Event", "Remarks"]
    times = [row[0] for row in timeline[1:]]
    assert times[0] == "10:00" and times[-1] == "11:35"
    assert "10:03" in times and "10:05" in times
    # The 5 whys, in order, each question asking about the answer before it; the `|` typed
    # in the second answer stays inside its cell.
    whys = doc["tables"]["Root cause analysis (5 Whys)"]
    assert whys[0] == ["Question", "Answer"]
    assert [row[1] for row in whys[1:]] == WHYS
    assert whys[1][0] == "1. Why did the incident happen?"
    assert whys[2][0] == f"2. Why did “{WHYS[0]}” happen?"
    assert whys[3][0] == f"3. Why did “{WHYS[1]}” happen?"
    assert all(len(row) == 2 for row in whys)
    assert "**Root cause summary:** Config changes reach production without a load test" in r.text
    # Measures by term, and every action item with its AI code.
    short = doc["tables"]["Short term (within a week)"]
    assert short[0] == ["Item", "Description", "Assignee", "Due", "Status"]
    assert [row[0] for row in short[1:]] == ["Restore the pool size", "Alert on pool saturation"]
    assert short[1][2] == "jun" and short[1][4] == "To Do"
    items = doc["tables"]["Action Items"]
    assert items[0] == ["ID", "Action Item", "Assignee", "Due", "Priority", "Kanban state"]
    assert [row[0] for row in items[1:]] == ["AI-001", "AI-002", "AI-003", "AI-004"]
    assert [row[4] for row in items[1:]] == ["High", "Medium", "Medium", "Low"]
    assert {row[5] for row in items[1:]} == {"Backlog"}
    # Typed text stays text: no tag of anyone's making, no heading from a list item.
    assert "<script" not in doc["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc["html"]
    assert "<li># not a heading | nor a cell</li>" in doc["html"]


def test_markdown_postmortem_in_korean_uses_the_seed_words(api, incident):
    r = _export(api, incident, lang="ko")
    assert r.status_code == 200, r.text
    doc = parse_markdown(r.text)
    assert [text for level, text in doc["headings"] if level == 2] == KO_SECTIONS
    assert [text for level, text in doc["headings"] if level == 3] == [
        "단기 (1주 이내)",
        "중기 (1개월 이내)",
        "장기 (분기 이내)",
    ]
    basic = dict(doc["tables"]["기본 정보"][1:])
    assert basic["장애 ID"] == incident
    assert basic["발생 일시"] == "2026-11-26 10:00:00"
    assert basic["복구 일시"] == "2026-11-26 11:35:00"
    assert basic["총 장애 시간"] == "1시간 35분"
    assert basic["장애 등급"].startswith("P1")
    assert doc["tables"]["타임라인"][0] == ["시간 (KST)", "이벤트", "비고"]
    whys = doc["tables"]["근본 원인 분석 (5 Whys)"]
    assert whys[0] == ["질문", "답변"]
    assert whys[1][0] == "1. 왜 장애가 발생했는가?"
    assert [row[1] for row in whys[1:]] == WHYS
    assert "**근본 원인 요약:**" in r.text
    assert doc["tables"]["단기 (1주 이내)"][0] == ["항목", "설명", "담당자", "기한", "상태"]
    items = doc["tables"]["Action Items"]
    assert items[0] == ["ID", "Action Item", "담당자", "기한", "우선순위", "칸반 상태"]
    assert [row[4] for row in items[1:]] == ["상", "중", "중", "하"]


def test_a_pipe_in_a_why_does_not_break_the_table(api, incident):
    r = _export(api, incident, lang="en")
    line = next(line for line in r.text.splitlines() if "pool size" in line and "halved" in line)
    assert "The pool size \\| was halved" in line
    whys = parse_markdown(r.text)["tables"]["Root cause analysis (5 Whys)"]
    assert whys[2] == [
        "2. Why did “Checkout pods ran out of database connections” happen?",
        WHYS[1],
    ]


# The printable HTML


def test_printable_html_is_escaped_and_allows_exactly_its_own_stylesheet(api, incident):
    r = _export(api, incident, format="html", lang="en")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="{incident}-postmortem.html"'
    )
    page = _Html()
    page.feed(r.text)
    assert page.title == f"Post-mortem: {incident} Checkout | returns 502"
    assert page.h2 == EN_SECTIONS
    assert page.sections[:3] == ["basic", "summary", "timeline"]
    # What a user typed is shown, never run.
    assert "script" not in page.tags and "nav" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert WHYS[2] in page.cells
    # One policy only, the export's own, and its hash is the served stylesheet's.
    policies = r.headers.get_list("content-security-policy")
    assert len(policies) == 1
    digest = base64.b64encode(hashlib.sha256(page.style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policies[0]
    assert "default-src 'none'" in policies[0] and "script-src" not in policies[0]
    # The print stylesheet: A4, page breaks before the long sections, bordered tables.
    assert "@media print" in page.style and "size: A4" in page.style
    assert "section.major { break-before: page; }" in page.style
    assert 'class="major"' in r.text
    # The other answers keep the console's policy.
    other = api.get(f"/api/v1/postmortems/{incident}")
    assert other.headers["content-security-policy"].startswith("default-src 'none'; script-src")


def test_html_in_korean(api, incident):
    r = _export(api, incident, format="html", lang="ko")
    page = _Html()
    page.feed(r.text)
    assert page.h2 == KO_SECTIONS
    assert '<html lang="ko">' in r.text


# The short report (seed 001 App. B)


def test_short_report_of_an_open_incident_without_a_postmortem(api, server):
    clock.freeze(DECLARED)
    incident_id = str(
        declare(api, title="Search slow", business_impact="operations", user_impact="some")["id"]
    )
    clock.advance(hours=26)  # a day later: the start shows its date
    r = _report(api, incident_id, form="short", lang="ko")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    report = parse_short(r.text)
    assert report == {
        "heading": "[장애 보고]",
        "장애 ID": incident_id,
        "등급": report["등급"],
        "발생 시각": "2026-11-26 10:00",
        "복구 시각": "-",
        "영향": report["영향"],
        "원인": "-",
        "조치": "-",
        "상태": "진행중",
    }
    assert report["등급"].startswith("P")
    english = parse_short(_report(api, incident_id, form="short", lang="en").text)
    assert list(english) == [
        "heading",
        "Incident ID",
        "Severity",
        "Started",
        "Recovered",
        "Impact",
        "Cause",
        "Action taken",
        "Status",
    ]
    assert english["heading"] == "[Incident report]"
    assert english["Status"] == "Ongoing"


def test_short_report_of_a_published_postmortem(api, server, incident):
    jun = people.api_token(server.url, "jun")
    assert (
        api.post(f"/api/v1/postmortems/{incident}/submit", json={"reviewers": ["jun"]}).status_code
        == 200
    )
    approved = httpx.post(
        f"{server.url}/api/v1/postmortems/{incident}/reviews",
        json={"verdict": "approved"},
        headers={"Authorization": f"Bearer {jun}"},
    )
    assert approved.status_code == 200, approved.text
    assert api.post(f"/api/v1/postmortems/{incident}/publish").status_code == 200
    ko = parse_short(_report(api, incident, lang="ko").text)
    assert ko["heading"] == "[장애 보고]"
    assert ko["발생 시각"] == "10:00" and ko["복구 시각"] == "11:35"  # today in Seoul
    assert ko["원인"] == "Config changes reach production without a load test"
    assert ko["조치"] == "Rolled back the release"
    assert ko["영향"] == "All checkout users"
    assert ko["상태"] == "Post-mortem 완료"
    en = parse_short(_report(api, incident, lang="en").text)
    assert en["Status"] == "Post-mortem complete"
    assert en["Cause"] == ko["원인"]


def test_short_report_of_a_resolved_incident_says_recovered(api, incident):
    en = parse_short(_report(api, incident, form="short", lang="en").text)
    assert en["Status"] == "Recovered"
    assert en["Recovered"] == "11:35"


# The incident report (seeds 003 §4.1, 004 step 5)


def test_incident_report_has_the_seeds_sections(api, incident):
    r = _report(api, incident, form="full", lang="en")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="{incident}-report.md"'
    doc = parse_markdown(r.text)
    assert [text for level, text in doc["headings"] if level == 2] == [
        "Basic information",
        "Incident details",
        "Follow-up actions",
        "Timeline",
        "Root cause",
        "Preventive measures",
        "SLO / error budget status",
        "Backlog priorities",
    ]
    basic = dict(doc["tables"]["Basic information"][1:])
    assert basic["Occurred at"] == "2026-11-26 10:00:00"
    assert basic["Impact scope"] == "All checkout users"
    slo = dict(doc["tables"]["SLO / error budget status"][1:])
    assert slo["Minutes past the recovery target"] == "35"
    assert slo["Time to resolve"] == "1h 35m"
    backlog = doc["tables"]["Backlog priorities"]
    assert [row[4] for row in backlog[1:]] == ["High", "Medium", "Medium", "Low"]
    assert doc["tables"]["Timeline"][1][0] == "10:00"
    ko = parse_markdown(_report(api, incident, form="full", lang="ko").text)
    assert [text for level, text in ko["headings"] if level == 2] == [
        "기본 정보",
        "상세 내용",
        "후속 조치",
        "타임라인",
        "근본 원인",
        "예방 조치",
        "SLO/오류 예산 상태",
        "백로그 우선순위",
    ]
    assert [text for level, text in ko["headings"] if level == 3][:4] == [
        "장애 현상",
        "원인 분석",
        "조치 내용",
        "재발 방지 대책",
    ]


def test_incident_report_works_without_a_postmortem(api):
    incident_id = str(
        declare(api, title="Search slow", business_impact="operations", user_impact="some")["id"]
    )
    r = _report(api, incident_id, form="full", lang="ko")
    assert r.status_code == 200, r.text
    doc = parse_markdown(r.text)
    assert doc["headings"][0][1].startswith("장애 보고서")
    assert len(doc["tables"]["타임라인"]) >= 2  # the declaration at least


# Refusals


def test_unknown_format_form_or_language_is_422_and_a_missing_postmortem_404(api, incident):
    for response in (
        _export(api, incident, format="pdf"),
        _export(api, incident, lang="fr"),
        _report(api, incident, form="long"),
        _report(api, incident, lang="xx"),
    ):
        assert response.status_code == 422, response.text
        assert error_code(response) == "VALIDATION_ERROR"
    bare = str(declare(api, title="No post-mortem here")["id"])
    missing = _export(api, bare)
    assert missing.status_code == 404 and error_code(missing) == "NOT_FOUND"
    assert _report(api, "INC-20000101-999").status_code == 404


# The CLI


def test_cli_exports_to_a_file_and_to_stdout(database_url, incident, tmp_path):
    haetae = Haetae({**_base_env(tmp_path), "DATABASE_URL": database_url})
    target = tmp_path / "pm.md"

    haetae(f"postmortem export {incident} --format markdown --lang ko -o {target}")
    doc = parse_markdown(target.read_text("utf-8"))
    assert [text for level, text in doc["headings"] if level == 2] == KO_SECTIONS
    short = haetae(f"postmortem export {incident} --format short")
    assert parse_short(short.out)["Incident ID"] == incident
    report = haetae(f"postmortem export {incident} --format report --lang ko")
    assert "## 백로그 우선순위" in report.out
    haetae(f"postmortem export {incident} --format html -o {tmp_path / 'pm.html'}")
    assert "<style>" in (tmp_path / "pm.html").read_text("utf-8")
    haetae(f"postmortem export {incident} --format pdf", expect=EXIT_USAGE)
