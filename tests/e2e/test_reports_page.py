"""The Reports page in headless Chromium, in English and Korean: incidents with known times are
seeded through the incident services with the clock moved; every chart draws, each table view
holds the metrics API's figures, and each CSV downloaded through the page's link parses to
the same numbers. No Content-Security-Policy violation on the way."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from haetae.clock import utcnow
from haetae.db import Database
from haetae.incidents import activity, roles, service, transitions
from haetae.incidents.schemas import IncidentDeclare, StatusUpdateIn
from haetae.policy.schema import Policy
from haetae.web import report_pages
from tests.e2e.conftest import shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser

M = timedelta(minutes=1)
# Each chart's canvas drew: Chart.js holds points for it, and its pixels differ from a blank
# canvas of the same size.
DREW = """(canvas) => {
  const chart = Chart.getChart(canvas);
  if (!chart) return "no chart";
  const points = chart.data.datasets.reduce(
    (n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0);
  const blank = document.createElement("canvas");
  blank.width = canvas.width;
  blank.height = canvas.height;
  if (canvas.width === 0 || canvas.toDataURL() === blank.toDataURL()) return "blank";
  return points > 0 ? "drawn" : "no points";
}"""
# A table view's rows: each cell's raw value (data-value) by its column key.
TABLE = """(table) => Array.from(table.querySelectorAll("tbody tr")).map((tr) =>
  Object.fromEntries(Array.from(tr.cells).map((td) => [td.dataset.key, td.dataset.value])))"""
LEGEND = "(canvas) => Chart.getChart(canvas).data.datasets.map((d) => d.label)"


def _incident(
    session: Any,
    policy: Policy,
    severity: str,
    *,
    started: datetime,
    detect: timedelta,
    category: str,
    services: list[str],
) -> str:
    data = IncidentDeclare(
        title=f"{severity} {category} at {started:%m-%d}",
        severity=severity,
        severity_reason="set by the test",
        category=category,
        services=services,
        started_at=started,
        detected_at=started + detect,
    )
    return service.declare_incident(session, policy, data, actor="ada", now=started + detect).id


def _resolve(session: Any, policy: Policy, incident_id: str, at: datetime) -> None:
    roles.assign_role(session, policy, incident_id, role="ic", assignee="ada", actor="ada", now=at)
    transitions.transition(
        session,
        policy,
        incident_id,
        to="resolved",
        reason="fixed",
        actor="ada",
        now=at,
        override_conditions=True,
        summary="fixed",
    )


def _seed(db: Database, policy: Policy, now: datetime) -> None:
    """Five weeks of incidents: three resolved, one open, one canceled and one drill."""
    with db.session() as session:
        # P1 application/checkout: detect 2m, ack 3m later, first update at 8m, resolved at 50m.
        a_start = now - timedelta(days=25, hours=3)
        a = _incident(
            session, policy, "P1", started=a_start, detect=2 * M,
            category="application", services=["checkout"],
        )  # fmt: skip
        transitions.acknowledge(session, a, by="ada", now=a_start + 5 * M)
        update = StatusUpdateIn(situation="Rolling back")
        activity.post_update(session, policy, a, update, author="ada", now=a_start + 8 * M)
        transitions.transition(
            session, policy, a, to="monitoring", reason="mitigated", actor="ada",
            now=a_start + 20 * M,
        )  # fmt: skip
        _resolve(session, policy, a, a_start + 50 * M)
        # P2 infrastructure/search: detect 10m, ack at 15m, resolved after 3h.
        b_start = now - timedelta(days=16, hours=5)
        b = _incident(
            session, policy, "P2", started=b_start, detect=10 * M,
            category="infrastructure", services=["search"],
        )  # fmt: skip
        transitions.acknowledge(session, b, by="ada", now=b_start + 15 * M)
        _resolve(session, policy, b, b_start + 180 * M)
        # P1 application/checkout again: detect 1m, ack at 3m, resolved at 40m.
        c_start = now - timedelta(days=6, hours=2)
        c = _incident(
            session, policy, "P1", started=c_start, detect=1 * M,
            category="application", services=["checkout", "payments"],
        )  # fmt: skip
        transitions.acknowledge(session, c, by="ada", now=c_start + 3 * M)
        activity.post_update(session, policy, c, update, author="ada", now=c_start + 6 * M)
        _resolve(session, policy, c, c_start + 40 * M)
        # P3 deployment/search, canceled: counted apart.
        d_start = now - timedelta(days=9)
        d = _incident(
            session, policy, "P3", started=d_start, detect=4 * M,
            category="deployment", services=["search"],
        )  # fmt: skip
        transitions.transition(
            session, policy, d, to="canceled", reason="false alarm", actor="ada",
            now=d_start + 10 * M,
        )  # fmt: skip
        # P2 drill: left out of every figure.
        e_start = now - timedelta(days=3)
        e = _incident(
            session, policy, "P2", started=e_start, detect=1 * M,
            category="application", services=["checkout"],
        )  # fmt: skip
        service.get_incident(session, e).drill = True
        # P4 performance/api, open and acknowledged.
        f_start = now - timedelta(days=2)
        f = _incident(
            session, policy, "P4", started=f_start, detect=30 * M,
            category="performance", services=["api"],
        )  # fmt: skip
        transitions.acknowledge(session, f, by="ada", now=f_start + 45 * M)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def _value(raw: str) -> float | None:
    return None if raw == "" else float(raw)


def _download_csv(page: Page, link: Any) -> list[list[str]]:
    with page.expect_download() as caught:
        link.click()
    path = caught.value.path()
    with open(path, encoding="utf-8") as handle:
        return list(csv.reader(io.StringIO(handle.read())))


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#reports")).to_have_attribute("data-state", "ready")


def _all_drew(page: Page) -> int:
    canvases = page.locator("#reports canvas")
    count = canvases.count()
    for i in range(count):
        canvas = canvases.nth(i)
        assert canvas.evaluate(DREW) == "drawn", canvas.evaluate("(c) => c.ariaLabel")
    return count


def test_reports_page_draws_every_chart_and_its_table_and_csv_agree_with_the_api(
    page: Page, server: RunningServer, db: Database, api: httpx.Client, policy: Policy
) -> None:
    base = server.url
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    now = utcnow()
    _seed(db, policy, now)
    today = now.astimezone(policy.zone).date()
    first = (today - timedelta(days=34)).isoformat()
    last = today.isoformat()
    # The API takes instants: the page's days from midnight to midnight in the policy's zone.
    chosen = report_pages.period(policy, date.fromisoformat(first), today)
    period = {"from": chosen.start.isoformat(), "to": chosen.end.isoformat()}

    def metrics(group_by: str) -> dict[str, Any]:
        answer = api.get("/api/v1/metrics", params={**period, "group_by": group_by})
        assert answer.status_code == 200, answer.text
        return answer.json()

    weekly = metrics("week")
    by_category = metrics("category")
    distribution = api.get(
        "/api/v1/metrics/distribution", params={**period, "figure": "mttr"}
    ).json()
    # The seeded incidents as the API counts them: the canceled one apart, the drill left out.
    assert (weekly["totals"]["count"], weekly["totals"]["canceled"], weekly["drills"]) == (4, 1, 1)
    categories = {g["key"]: g["figures"] for g in by_category["groups"]}
    assert categories["application"]["count"] == 2
    assert categories["deployment"]["canceled"] == 1
    assert weekly["totals"]["mttd"]["n"] == 4

    # A viewer reads the page.
    make_user(db, "vic", role="viewer")
    sign_in(page, base, "vic")
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("h1")).to_have_text("Reports")
    query = f"from={first}&to={last}&group_by=week&figure=mttr"
    _open(page, f"{base}/reports?{query}")
    assert _all_drew(page) == 9  # six trends, one distribution, two counts
    expect(page.locator("#reports-summary")).to_contain_text("4 incidents counted")
    expect(page.locator("#reports-summary")).to_contain_text("1 drills left out")
    shot(page, "reports-en")

    # Trend of MTTD: the table view's rows are the API's weekly figures, and so is its CSV.
    mttd = page.locator('[data-chart="trend"][data-figure="mttd"]')
    mttd.locator("summary").click()
    rows = mttd.locator("table").evaluate(TABLE)
    assert [r["label"] for r in rows] == [g["label"] for g in weekly["groups"]]
    for row, group in zip(rows, weekly["groups"], strict=True):
        stat = group["figures"]["mttd"]
        assert _value(row["n"]) == stat["n"]
        assert [_value(row[k]) for k in ("mean", "median", "p90")] == [
            stat["mean"], stat["median"], stat["p90"]
        ]  # fmt: skip
        assert _value(row["target:P1"]) == 300  # the policy's P1 detect target, 5 minutes
    assert any(r["n"] not in ("0", "") for r in rows)
    sheet = _download_csv(page, mttd.get_by_role("link", name="Download CSV"))
    assert sheet[0][:5] == ["Period", "Number of incidents", "Mean (min)", "Median (min)",
                            "90th percentile (min)"]  # fmt: skip
    assert len(sheet) - 1 == len(weekly["groups"])
    for line, group in zip(sheet[1:], weekly["groups"], strict=True):
        stat = group["figures"]["mttd"]
        assert line[0] == group["label"]
        assert _number(line[1]) == stat["n"]
        assert [_number(v) for v in line[2:5]] == [
            _minutes(stat["mean"]), _minutes(stat["median"]), _minutes(stat["p90"])
        ]  # fmt: skip

    # Counts by category: counted and canceled apart.
    chart = page.locator('[data-chart="category"]')
    chart.locator("summary").click()
    rows = chart.locator("table").evaluate(TABLE)
    assert [(r["label"], _value(r["count"]), _value(r["canceled"])) for r in rows] == [
        (g["label"], g["figures"]["count"], g["figures"]["canceled"]) for g in by_category["groups"]
    ]
    sheet = _download_csv(page, chart.get_by_role("link", name="Download CSV"))
    assert [(line[0], _number(line[1]), _number(line[2])) for line in sheet[1:]] == [
        (g["label"], g["figures"]["count"], g["figures"]["canceled"]) for g in by_category["groups"]
    ]

    # The MTTR distribution per severity: the box's numbers.
    box = page.locator('[data-chart="distribution"]')
    box.locator("summary").click()
    rows = box.locator("table").evaluate(TABLE)
    keys = ("n", "min", "q1", "median", "q3", "p90", "max")
    assert [[_value(r[k]) for k in keys] for r in rows] == [
        [d[k] for k in keys] for d in distribution["severities"]
    ]
    sheet = _download_csv(page, box.get_by_role("link", name="Download CSV"))
    assert [[_number(v) for v in line[1:]] for line in sheet[1:]] == [
        [d["n"]] + [_minutes(d[k]) for k in keys[1:]] for d in distribution["severities"]
    ]

    # Target against actual: met or missed, as the API marks them.
    targets = page.locator('[data-chart="targets"] table').evaluate(TABLE)
    assert [(r["scope"], r["figure"], r["met"]) for r in targets] == [
        (t["scope"], t["figure"], "" if t["met"] is None else str(t["met"]).lower())
        for t in weekly["targets"]
    ]
    assert weekly["targets"], "the default policy sets targets"

    # In Korean: the same charts, drawn with Korean words.
    page.goto(f"{base}/lang?set=ko&next=/reports")
    _open(page, f"{base}/reports?{query}")
    expect(page.locator("h1")).to_have_text("보고서")
    assert _all_drew(page) == 9
    legend = page.locator('[data-chart="trend"][data-figure="mttr"] canvas').evaluate(LEGEND)
    assert legend[:3] == ["평균", "중앙값", "90번째 백분위수"]
    expect(page.locator("#reports-summary")).to_contain_text("집계한 장애 4건")
    korean = page.locator('[data-chart="service"]')
    sheet = _download_csv(page, korean.get_by_role("link", name="CSV 내려받기"))
    assert sheet[0] == ["서비스", "집계", "취소됨"]
    by_service = metrics("service")
    assert [(line[0], _number(line[1])) for line in sheet[1:]] == [
        (g["label"], g["figures"]["count"]) for g in by_service["groups"]
    ]
    shot(page, "reports-ko")
    assert blocked == []
