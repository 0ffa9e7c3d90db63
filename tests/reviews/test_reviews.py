"""Seed 000's weekly and monthly reviews (issue 12 part 5): a scheduled weekly review built by
a real worker with the clock moved reaches a real SMTP server once per recipient, in their
language, with the right figures; kept, it is listed and served by the API as JSON,
Markdown, HTML and CSV; `haetae report` prints the kept one."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import typer
from typer.testing import CliRunner

from haetae.cli import report as report_cli
from haetae.clock import clock
from haetae.db import Database
from haetae.jobs import JobContext
from haetae.notify import outbox
from haetae.policy.loader import default_policy
from haetae.policy.measures import ReviewSchedule, ReviewsSection
from haetae.policy.schema import Policy
from haetae.reviews import jobs as review_jobs
from haetae.reviews.periods import last_due, last_full, period_of
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare, move
from tests.conftest import JWT_SECRET
from tests.support import people
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.web.console_client import console_for


def _review_policy() -> Policy:
    base = default_policy()
    reviews = ReviewsSection(
        weekly=ReviewSchedule(weekday="mon", recipients=["alice", "team:sre", "ghost"]),
        monthly=ReviewSchedule(enabled=False),
    )
    return base.model_copy(update={"reviews": reviews})


POLICY = _review_policy()
# The week under review, Monday 16 to Sunday 22 November 2026 in Seoul (UTC+9).
MONDAY_0030_KST = datetime(2026, 11, 15, 15, 30, tzinfo=UTC)  # still the 15th in UTC
TUESDAY_10_KST = datetime(2026, 11, 17, 1, 0, tzinfo=UTC)
NEXT_MONDAY_0030_KST = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # the next week's
# The schedule: Mondays at 10:00 in Seoul.
DUE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
P3 = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}
PERIOD = "2026-11-16 – 2026-11-22"
P3_LABEL = "P3 (Minor)"


@pytest.fixture
def review_worker(db: Database, server: RunningServer) -> Iterator[Worker]:
    running = Worker(db, POLICY, WorkerConfig(public_url=server.url, secret=JWT_SECRET))
    yield running
    running.stop()


def _user(db: Database, smtp: SmtpServer, name: str, locale: str = "en") -> None:
    people.make_user(db, name, smtp.url(to=f"{name}@example.com"), password=None, locale=locale)


def _post(api: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    answer = api.post(path, json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


def _week(api: httpx.Client) -> None:
    """The fixture: in the week, a P3 acknowledged after 5 minutes and resolved after 40,
    another declared at 00:30 on its Monday in Seoul (still Sunday in UTC) and left open, and
    one canceled; one declared on the next Monday at 00:30 (not in the week). Action items:
    one overdue, one due later, one done."""
    clock.freeze(MONDAY_0030_KST)
    declare(api, **{**P3, "title": "Early Monday"})
    clock.freeze(TUESDAY_10_KST)
    incident_id = declare(api, **P3)["id"]
    clock.advance(minutes=5)
    _post(api, f"/api/v1/incidents/{incident_id}/acknowledge", {})
    update = {"situation": "Rolled back", "impact": "exports", "progress": "done"}
    _post(api, f"/api/v1/incidents/{incident_id}/updates", update, 201)
    _post(api, f"/api/v1/incidents/{incident_id}/conditions/core_functions_verified", {})
    clock.freeze(TUESDAY_10_KST + timedelta(minutes=40))
    assert move(api, incident_id, "resolved").status_code == 200
    canceled = declare(api, **{**P3, "title": "False alarm"})["id"]
    assert move(api, canceled, "canceled", reason="not an incident").status_code == 200
    clock.freeze(NEXT_MONDAY_0030_KST)
    declare(api, **{**P3, "title": "Next week"})
    for title, due, column in (
        ("Tune the export alert", "2026-11-20", "backlog"),
        ("Add an export runbook", "2026-12-31", "in_progress"),
        ("Roll back faster", "2026-11-01", "done"),
    ):
        _post(
            api,
            "/api/v1/action-items",
            {"title": title, "due_date": due, "column": column, "owner": "alice"},
            201,
        )


def _at(worker: Worker, when: datetime) -> None:
    clock.freeze(when)
    worker.run_once()
    clock.advance(seconds=outbox.SPACING.total_seconds())
    worker.run_once()


def _to(smtp: SmtpServer, name: str) -> list[EmailMessage]:
    """The reviews a person was sent (alice's action item reminders are not counted)."""
    return [
        m
        for m in smtp.messages
        if m["To"] == f"{name}@example.com"
        and ("인시던트 리뷰" in subject_of(m) or "incident review" in subject_of(m))
    ]


def test_a_scheduled_weekly_review_reaches_each_recipient_once_in_their_language(
    api: httpx.Client,
    db: Database,
    server: RunningServer,
    review_worker: Worker,
    smtp_server: SmtpServer,
) -> None:
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "minji", locale="ko")
    _user(db, smtp_server, "bob")  # not a recipient
    assert api.put("/api/v1/teams/sre", json={"id": "sre", "members": ["minji"]}).is_success
    _week(api)

    _at(review_worker, DUE - timedelta(minutes=1))  # Monday 09:59 in Seoul: not yet
    assert api.get("/api/v1/reviews").json()["items"] == []
    assert _to(smtp_server, "alice") == [] and _to(smtp_server, "minji") == []

    _at(review_worker, DUE)
    [english] = _to(smtp_server, "alice")
    [korean] = _to(smtp_server, "minji")
    assert _to(smtp_server, "bob") == []
    assert subject_of(english) == f"Weekly incident review {PERIOD}"
    assert subject_of(korean) == f"주간 인시던트 리뷰 {PERIOD}"
    text, text_ko = body_of(english), body_of(korean)
    for heading in ("## Incident statistics", "## Response process", "## Targets against actual",
                    "## Open and overdue action items", "## Tools and automation",
                    "## Team capability"):  # fmt: skip
        assert heading in text
    for heading in ("## 인시던트 통계", "## 대응 과정", "## 목표 및 현황", "## 팀 역량"):
        assert heading in text_ko
    # Two incidents in the week (the Monday 00:30 one counts: the week is Seoul's), the
    # canceled one apart, the next week's not at all.
    assert "2 incidents (1 canceled, counted apart; 0 drills left out)." in text
    assert "인시던트 2건 (취소 1건은 따로 집계, 훈련 0건 제외)." in text_ko
    # The resolved P3: acknowledged in 5 minutes, resolved in 40 (mean · median · p90).
    p3_row = next(line for line in text.splitlines() if line.startswith("| P3"))
    assert "| 2 |" in p3_row and "5m · 5m · 5m" in p3_row and "40m · 40m · 40m" in p3_row
    assert "2 open, 1 overdue (as of 2026-11-23)." in text
    assert "Tune the export alert" in text and "Roll back faster" not in text
    [report] = api.get("/api/v1/reviews").json()["items"]
    assert f"/reviews/{report['id']}" in text and f"/reviews/{report['id']}" in text_ko

    _at(review_worker, DUE + timedelta(minutes=5))  # the job runs again: nothing more
    review_jobs._reviews(_context(db))  # and once more, directly
    review_worker.run_once()
    assert len(_to(smtp_server, "alice")) == 1 and len(_to(smtp_server, "minji")) == 1
    assert len(api.get("/api/v1/reviews").json()["items"]) == 1

    _served(api, report)
    _shown(server, db, report)


def _shown(server: RunningServer, db: Database, report: dict[str, Any]) -> None:
    """The console lists the review and shows it in the reader's language."""
    with console_for(server.url, db, "jiwoo", role="viewer", locale="ko") as client:
        listed = client.get("/reviews")
        assert listed.status_code == 200
        path = f"/reviews/{report['id']}"
        assert f'href="{path}"' in listed.text and "주간" in listed.text
        page = client.get(f"/reviews/{report['id']}")
        assert page.status_code == 200
        assert f"주간 인시던트 리뷰 {PERIOD}" in page.text
        assert "<h2>인시던트 통계</h2>" in page.text and "Tune the export alert" in page.text
        sheet = client.get(f"/reviews/{report['id']}/export.csv")
        assert sheet.status_code == 200 and sheet.text.startswith("section,row,column,value")
        assert client.get("/reviews/999999").status_code == 404


def _context(db: Database) -> JobContext:
    return JobContext(db, POLICY, DUE + timedelta(minutes=6), skip_locked=False, timeout=30)


def _served(api: httpx.Client, report: dict[str, Any]) -> None:
    assert report["kind"] == "weekly" and report["period_start"] == "2026-11-16"
    assert report["period_end"] == "2026-11-22" and report["built_by"] == "system"
    assert report["sent_at"] is not None
    kept = api.get(f"/api/v1/reviews/{report['id']}").json()
    assert kept["data"]["totals"]["count"] == 2 and kept["data"]["totals"]["canceled"] == 1
    assert kept["data"]["actions"]["open"] == 2 and kept["data"]["actions"]["overdue"] == 1
    assert kept["markdown"].startswith(f"# Weekly incident review {PERIOD}")

    markdown = api.get(f"/api/v1/reviews/{report['id']}", params={"format": "md", "lang": "ko"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# 주간 인시던트 리뷰 {PERIOD}")
    assert "review-weekly-2026-11-16.md" in markdown.headers["content-disposition"]

    page = api.get(f"/api/v1/reviews/{report['id']}", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (
        "<h2>Incident statistics</h2>" in page.text
        and "<td>Tune the export alert</td>" in page.text
    )

    sheet = api.get(f"/api/v1/reviews/{report['id']}", params={"format": "csv"})
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    cell = {(r["section"], r["row"], r["column"]): r["value"] for r in rows}
    assert cell[("statistics", P3_LABEL, "Incident count")] == "2"
    assert cell[("statistics", P3_LABEL, "MTTR (mean · median · p90)")] == "40m · 40m · 40m"
    assert cell[("actions", "AI-001", "Title")] == "Tune the export alert"

    assert api.get("/api/v1/reviews", params={"kind": "monthly"}).json()["items"] == []
    missing = api.get("/api/v1/reviews/999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_report_command_builds_the_last_full_period_once_and_prints_it(
    api: httpx.Client, db: Database, database_url: str, tmp_path: Any
) -> None:
    people.make_user(db, "alice")
    _week(api)
    clock.freeze(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))  # Wednesday 2 December in Seoul
    app = typer.Typer()
    report_cli.register(app)
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "HAETAE_LOCALE": "ko", "HAETAE_ACTOR": "alice"}

    weekly = runner.invoke(app, ["report", "weekly", "--period", "2026-11-18"], env=env)
    assert weekly.exit_code == 0, weekly.output
    assert weekly.stdout.startswith(f"# 주간 인시던트 리뷰 {PERIOD}")
    assert "인시던트 2건" in weekly.stdout

    out = tmp_path / "november.csv"
    monthly = runner.invoke(
        app, ["report", "monthly", "--format", "csv", "--output", str(out)], env=env
    )
    assert monthly.exit_code == 0, monthly.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    sections = {r["section"] for r in rows}
    assert {
        "statistics",
        "trends",
        "causes",
        "compliance",
        "targets",
        "budget",
        "actions",
    } <= sections

    again = runner.invoke(app, ["report", "weekly", "--period", "2026-11-22"], env=env)
    assert again.exit_code == 0
    listed = api.get("/api/v1/reviews").json()["items"]
    assert [(r["kind"], r["period_start"], r["built_by"]) for r in listed] == [
        ("weekly", "2026-11-16", "alice"),  # newest period first
        ("monthly", "2026-11-01", "alice"),
    ]
    built = api.post("/api/v1/reviews", json={"kind": "weekly", "period": "2026-11-09"})
    assert built.status_code == 201 and built.json()["period_start"] == "2026-11-09"
    kept = api.post("/api/v1/reviews", json={"kind": "weekly", "period": "2026-11-15"})
    assert kept.status_code == 200 and kept.json()["id"] == built.json()["id"]
    early = api.post("/api/v1/reviews", json={"kind": "monthly", "period": "2026-12-01"})
    assert early.status_code == 422 and early.json()["error"]["code"] == "VALIDATION_ERROR"

    not_over = runner.invoke(app, ["report", "weekly", "--period", "2026-12-01"], env=env)
    assert not_over.exit_code == 3 and "not over yet" in not_over.output


def test_periods_are_the_policy_zones_weeks_and_months_across_a_dst_change() -> None:
    zone = ZoneInfo("America/New_York")  # summer time ended on Sunday 1 November 2026
    week = period_of("weekly", date(2026, 10, 29))
    assert (week.first, week.last) == (date(2026, 10, 26), date(2026, 11, 1))
    start, end = week.bounds(zone)
    assert start == datetime(2026, 10, 26, 4, 0, tzinfo=UTC)
    assert end - start == timedelta(days=7, hours=1)  # the days as they were
    sunday_evening = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 1 Nov 21:00 in New York
    assert last_full("weekly", sunday_evening, zone).first == date(2026, 10, 19)
    assert last_full("monthly", sunday_evening, zone).first == date(2026, 10, 1)
    schedule = ReviewSchedule(weekday="mon", at=time(9, 0), day=1)
    monday_0859 = datetime(2026, 11, 2, 13, 59, tzinfo=UTC)
    assert last_due("weekly", schedule, monday_0859, zone) == datetime(
        2026, 10, 26, 13, 0, tzinfo=UTC
    )
    assert last_due("weekly", schedule, monday_0859 + timedelta(minutes=1), zone) == (
        monday_0859 + timedelta(minutes=1)
    )
    assert last_due("monthly", schedule, monday_0859, zone) == datetime(
        2026, 11, 1, 14, 0, tzinfo=UTC
    )
