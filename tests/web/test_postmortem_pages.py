"""The post-mortem console pages over real HTTP: started from the incident page, drafted from
the incident, written section by section with plain forms, taken through review to published
in English and Korean, read only for viewers, refusals shown on the page, and its exports."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from haetae.clock import clock
from haetae.db import Database
from tests.api.helpers import declare, move
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from, make_user

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday, 09:00 in Seoul


def _at(minutes: float) -> None:
    clock.freeze(T0 + timedelta(minutes=minutes))


def _resolved(api: httpx.Client, *, severity: str = "P1", ic: str = "alice") -> str:
    """An incident with an IC, a decision and a status update, resolved at minute 96."""
    _at(10)
    inc = str(
        declare(
            api,
            title="Payments API returns 500",
            summary="Card payments fail for every user",
            severity=severity,
            severity_reason="all payments down",
            started_at=(T0 + timedelta(minutes=6)).isoformat(),
            impact={"users": 12000, "regions": ["kr"]},
        )["id"]
    )
    _at(12)
    assert api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": ic}).is_success
    assert api.post(f"/api/v1/incidents/{inc}/acknowledge").is_success
    _at(20)
    decision = {"kind": "technical", "decision": "Roll back release 42", "reason": "fastest"}
    assert api.post(f"/api/v1/incidents/{inc}/decisions", json=decision).status_code == 201
    _at(25)
    update = {"situation": "Rolling back release 42"}
    assert api.post(f"/api/v1/incidents/{inc}/updates", json=update).status_code == 201
    _at(96)
    for cond in api.get(f"/api/v1/incidents/{inc}/conditions").json():
        if cond["kind"] == "manual" and not cond.get("met"):
            api.post(f"/api/v1/incidents/{inc}/conditions/{cond['id']}", json={})
    assert move(api, inc, "resolved").status_code == 200
    return inc


def _post(client: httpx.Client, url: str, page_url: str, **data: object) -> httpx.Response:
    token = csrf_from(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **data})


def _section(page: str, section: str) -> str:
    found = re.search(
        rf'<section class="card pm-section" id="section-{section}".*?</section>', page, re.S
    )
    assert found, f"no section {section}"
    return found.group(0)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


@pytest.fixture
def bob(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    with console_for(server.url, db, "bob") as client:
        yield client


def test_a_post_mortem_started_from_the_incident_page_shows_the_drafted_facts(
    alice: httpx.Client, api: httpx.Client
) -> None:
    inc = _resolved(api, severity="P3")  # P3 is not required: nothing starts by itself
    page = alice.get(f"/incidents/{inc}").text
    panel = re.search(r'<section id="panel-postmortem".*?</section>', page, re.S)
    assert panel and "Start post-mortem" in panel.group(0)
    assert alice.get(f"/postmortems/{inc}").status_code == 404

    started = _post(alice, f"/postmortems/{inc}/start", f"/incidents/{inc}")
    assert started.status_code == 303
    assert started.headers["location"] == f"/postmortems/{inc}?done=started#top"
    page = alice.get(f"/postmortems/{inc}").text
    basic = _text(_section(page, "basic"))
    # Times in the policy's zone (Asia/Seoul): started 00:06 UTC, resolved 01:36 UTC.
    assert "Occurred at 2026-06-01 09:06 KST" in basic
    assert "Detected at 2026-06-01 09:10 KST" in basic
    assert "Recovered at 2026-06-01 10:36 KST" in basic
    assert "Total outage 1h 30m" in basic
    assert "Incident Commander alice" in basic
    assert "Users affected: 12000" in basic
    summary = _section(page, "summary")
    assert "Card payments fail for every user" in summary
    timeline = _section(page, "timeline")
    # Key events are ticked already; the decision is one of them.
    decision_row = re.search(
        r"<tr class=\"is-key\">(?:(?!</tr>).)*Roll back release 42", timeline, re.S
    )
    assert decision_row and "checked" in decision_row.group(0)
    assert "Roll back release 42" in _section(page, "decisions")
    assert "Rolling back release 42" in _section(page, "updates")
    durations = _text(_section(page, "durations"))
    assert "Time to resolve 1h 30m" in durations
    assert "Minutes past the recovery target 0" in durations  # P3: the next business day
    # An empty section shows what to write.
    assert "Ask why the incident happened" in _section(page, "five_whys")
    assert "1. Why did the incident happen?" in _section(page, "five_whys")
    # The incident page now shows its status and deadlines, and the list has it.
    panel = re.search(
        r'<section id="panel-postmortem".*?</section>', alice.get(f"/incidents/{inc}").text, re.S
    )
    assert panel and "Draft" in panel.group(0) and "Report draft" in panel.group(0)
    assert f'data-incident="{inc}"' in alice.get("/postmortems").text
    # Starting again opens the one that exists.
    again = _post(alice, f"/postmortems/{inc}/start", f"/incidents/{inc}")
    assert again.headers["location"] == f"/postmortems/{inc}#top"


def test_whys_sections_and_measures_are_written_with_plain_forms(
    alice: httpx.Client, api: httpx.Client, db: Database
) -> None:
    make_user(db, "bob")
    inc = _resolved(api)  # a P1: its post-mortem started by itself on resolve
    url = f"/postmortems/{inc}"
    page = alice.get(url).text
    assert "Minutes past the recovery target 30" in _text(_section(page, "durations"))
    whys = f"{url}/sections/five_whys"
    answers = ["Card payments failed", "The pool ran dry", "Release 42 leaked connections"]
    saved = _post(alice, whys, url, why=answers, root_cause="No leak test in CI")
    assert saved.status_code == 303, saved.text
    chain = _text(_section(alice.get(url).text, "five_whys"))
    assert "1. Why did the incident happen?" in chain
    assert "2. Why did “Card payments failed” happen?" in chain
    assert "3. Why did “The pool ran dry” happen?" in chain
    assert "4. Why did “Release 42 leaked connections” happen?" in chain
    assert api.get(f"/api/v1/postmortems/{inc}").json()["whys"] == answers
    # Remove the second: the order of the others is kept.
    removed = _post(alice, whys, url, why=[*answers, ""], remove="2", root_cause="x")
    assert removed.status_code == 303
    assert api.get(f"/api/v1/postmortems/{inc}").json()["whys"] == [answers[0], answers[2]]
    # Add one more slot without JavaScript: saved, and the page shows an extra blank why.
    added = _post(alice, whys, url, why=[answers[0], answers[2], ""], op="add", root_cause="x")
    assert added.headers["location"] == f"{url}?slots=2#section-five_whys"
    assert alice.get(f"{url}?slots=2").text.count('name="why"') == 4

    for section, value in (
        ("summary", "Payments failed for 90 minutes."),
        ("went_well", "Rollback was fast\nThe IC was clear"),
        ("lessons", "Load test every release."),
    ):
        assert _post(alice, f"{url}/sections/{section}", url, **{section: value}).status_code == 303
    pm = api.get(f"/api/v1/postmortems/{inc}").json()
    assert pm["summary"] == "Payments failed for 90 minutes."
    assert pm["went_well"] == ["Rollback was fast", "The IC was clear"]
    assert pm["lessons"] == "Load test every release."
    assert pm["root_cause"] == "x"

    # The timeline: untick everything but the decision, note it, and add a row of our own.
    decision = next(e for e in pm["timeline"] if e["kind"] == "decision")
    timeline = _post(
        alice,
        f"{url}/sections/timeline",
        url,
        pick=[str(decision["event_id"])],
        **{f"note_{decision['event_id']}": "The turning point"},
        free_at=["2026-06-01T09:50"],
        free_text=["Traffic back to normal"],
        free_note=[""],
    )
    assert timeline.status_code == 303, timeline.text
    events = api.get(f"/api/v1/postmortems/{inc}").json()["key_events"]
    assert [(e["text"], e["note"]) for e in events] == [
        ("Decision: Roll back release 42", "The turning point")
        if events[0]["text"].startswith("Decision")
        else (events[0]["text"], "The turning point"),
        ("Traffic back to normal", ""),
    ]
    assert events[1]["at"] == "2026-06-01T00:50:00Z"

    # Measures: grouped by term, with their owner, due date and board column.
    added = _post(
        alice,
        f"{url}/measures",
        url,
        title="Add a connection leak test",
        description="In CI, for every release",
        term="short",
        owner="bob",
        due_date="2026-06-05",
        priority="high",
    )
    assert added.status_code == 303, added.text
    _post(alice, f"{url}/measures", url, title="Pool metrics dashboard", term="mid")
    measures = _section(alice.get(url).text, "measures")
    short = measures.split("Mid term (within a month)")[0]
    assert "AI-001" in short and "Add a connection leak test" in short and "bob" in short
    assert "2026-06-05" in short and "High" in short and "Backlog" in short
    assert "AI-002" in measures.split("Mid term (within a month)")[1]
    board = alice.get("/board").text
    assert 'data-code="AI-001"' in board and 'data-code="AI-002"' in board

    # A measure without a title is refused on the page, what was typed kept.
    refused = _post(alice, f"{url}/measures", url, title="", description="kept text")
    assert refused.status_code == 422
    assert "Title is required." in refused.text
    assert "kept text" in refused.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            {
                "refused": "Publishing needs 1 approval(s) of the submitted post-mortem; it has 0.",
                "submitted": "Submitted for review.",
                "in_review": "In review",
                "published": "Published",
                "not_reviewer": "Only a reviewer the post-mortem lists",
                "closed": "The post-mortem is published now, so that step is not open to it.",
                "report": "[Incident report]",
                "met": "Met",
            },
        ),
        (
            "ko",
            {
                "refused": "포스트모템에 승인 1건이 필요합니다. 지금은 0건입니다.",
                "submitted": "검토를 요청했습니다.",
                "in_review": "검토 중",
                "published": "게시됨",
                "not_reviewer": "포스트모템에 지정된 검토자",
                "closed": "포스트모템이 지금 게시됨 상태라 이 단계를 할 수 없습니다.",
                "report": "[장애 보고]",
                "met": "충족",
            },
        ),
    ],
)
def test_submit_approve_and_publish_with_refusals_shown_on_the_page(
    alice: httpx.Client, bob: httpx.Client, api: httpx.Client, lang: str, words: dict[str, str]
) -> None:
    inc = _resolved(api)
    url = f"/postmortems/{inc}"
    alice.cookies.set("lang", lang)
    bob.cookies.set("lang", lang)
    # Publishing without an approval is refused with the reason, on the page, not a 500.
    refused = _post(alice, f"{url}/publish", url)
    assert refused.status_code == 409
    assert words["refused"] in html.unescape(refused.text)
    # The author cannot approve their own.
    assert _post(alice, f"{url}/reviewers", url, reviewer="bob").status_code == 303
    assert _post(alice, f"{url}/submit", url).headers["location"].endswith("done=submitted#life")
    page = alice.get(f"{url}?done=submitted").text
    assert words["submitted"] in page and words["in_review"] in page
    own = _post(alice, f"{url}/review", url, verdict="approved")
    assert own.status_code == 403 and words["not_reviewer"] in own.text
    # Bob is asked: he sees the verdict buttons and approves.
    assert 'value="approved"' in bob.get(url).text
    assert _post(bob, f"{url}/review", url, verdict="approved").status_code == 303
    assert _post(alice, f"{url}/meeting", url, at="2026-06-02T14:00", held="1").status_code == 303
    assert _post(alice, f"{url}/publish", url).status_code == 303
    page = alice.get(url).text
    assert f'id="pm-status">{words["published"]}<' in page
    assert 'value="approved"' not in bob.get(url).text
    life = page.split('id="deadlines"')[1]
    assert life.count(f'<span class="deadline-state">{words["met"]}</span>') == 3
    assert words["report"] in page  # the short report, in the page's language
    # Published: the sections are read only and an edit is refused with the reason.
    assert f'action="{url}/sections/summary"' not in page
    closed = _post(alice, f"{url}/sections/summary", url, summary="late change")
    assert closed.status_code == 409 and words["closed"] in html.unescape(closed.text)
    assert api.get(f"/api/v1/postmortems/{inc}").json()["status"] == "published"


def test_changes_requested_send_it_back_to_draft(
    alice: httpx.Client, bob: httpx.Client, api: httpx.Client
) -> None:
    inc = _resolved(api)
    url = f"/postmortems/{inc}"
    _post(alice, f"{url}/reviewers", url, reviewer="bob")
    _post(alice, f"{url}/submit", url)
    answer = _post(bob, f"{url}/review", url, verdict="changes_requested", comment="Add the 5 whys")
    assert answer.status_code == 303
    page = alice.get(url).text
    assert 'id="pm-status">Draft<' in page and "Add the 5 whys" in page
    assert f'action="{url}/sections/five_whys"' in page


def test_a_viewer_reads_the_post_mortem_but_cannot_change_it(
    victor: httpx.Client, api: httpx.Client
) -> None:
    inc = _resolved(api)
    url = f"/postmortems/{inc}"
    page = victor.get(url).text
    assert "Card payments fail for every user" in page
    assert "can read this post-mortem, not change it" in page
    assert 'method="post" action="/postmortems/' not in page
    token = csrf_from(page)
    for path, data in (
        ("/sections/summary", {"summary": "x"}),
        ("/measures", {"title": "x"}),
        ("/submit", {}),
        ("/publish", {}),
    ):
        answer = victor.post(url + path, data={"csrf_token": token, **data})
        assert answer.status_code == 403, path
    assert api.get(f"/api/v1/postmortems/{inc}").json()["status"] == "draft"


def test_exports_download_with_the_console_session(alice: httpx.Client, api: httpx.Client) -> None:
    inc = _resolved(api)
    markdown = alice.get(f"/postmortems/{inc}/export.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# Post-mortem: {inc}")
    printable = alice.get(f"/postmortems/{inc}/export.html?lang=ko")
    assert printable.status_code == 200
    assert "style-src 'sha256-" in printable.headers["content-security-policy"]
    assert "기본 정보" in printable.text
    assert alice.get(f"/postmortems/{inc}/export.pdf").status_code == 404
    assert alice.get("/postmortems/INC-20990101-001/export.md").status_code == 404
    page = alice.get(f"/postmortems/{inc}").text
    assert f'href="/postmortems/{inc}/export.md"' in page
    report = re.search(r'<textarea id="short-report"[^>]*readonly>(.*?)</textarea>', page, re.S)
    assert report and f"Incident ID: {inc}" in html.unescape(report.group(1))


def test_the_list_filters_by_status_and_marks_overdue_deadlines(
    alice: httpx.Client, api: httpx.Client
) -> None:
    inc = _resolved(api)
    listed = alice.get("/postmortems").text
    row = re.search(rf'<tr data-incident="{inc}">.*?</tr>', listed, re.S)
    assert row and "Overdue" not in row.group(0)
    clock.freeze(T0 + timedelta(days=3))  # the draft (24 h) and publication (48 h) passed
    listed = alice.get("/postmortems").text
    row = re.search(rf'<tr class="is-overdue" data-incident="{inc}">.*?</tr>', listed, re.S)
    assert row and "Report draft" in row.group(0) and "Post-mortem published" in row.group(0)
    assert inc not in alice.get("/postmortems?status=published").text
    assert inc in alice.get("/postmortems?status=draft").text
