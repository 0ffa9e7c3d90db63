"""A game day run from the console in headless Chromium, in Korean: a responder creates a drill
with a synthetic alert row, starts it, fills in its scorecard, adds a TI- improvement item,
pulls its kill switch, and sees the scorecard, the item (on the board too) and the Markdown
download; a viewer reads it and is offered no buttons."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from haetae.db import Database
from haetae.worker import Worker
from tests.e2e.conftest import shot, sign_in
from tests.support.people import PASSWORD, make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser

NOTE = "DB 전환 절차 3단계가 낡았다"
ASSESSMENT = "감지는 빨랐고 런북 갱신이 필요하다."


def test_a_game_day_is_created_started_scored_and_killed_from_the_console_in_korean(
    page: Page,
    browser: Browser,
    server: RunningServer,
    db: Database,
    api: httpx.Client,
    worker: Worker,
) -> None:
    base = server.url
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    make_user(db, "mina")
    make_user(db, "bob")
    make_user(db, "vic", role="viewer")
    sign_in(page, base, "mina")
    page.goto(f"{base}/lang?set=ko&next=/drills")
    expect(page).to_have_url(f"{base}/drills")
    expect(page.locator("h1")).to_have_text("훈련")

    # The chaos template shows only for a chaos experiment.
    form = page.locator("#drill-form")
    chaos = page.locator("#chaos-fields")
    expect(chaos).to_be_hidden()
    form.get_by_label("종류").select_option("chaos")
    expect(chaos).to_be_visible()
    # A chaos experiment without its template is refused on the page, naming the fields.
    form.get_by_label("제목").fill("Redis 노드 장애 주입")
    form.get_by_role("button", name="훈련 만들기").click()
    refused = page.locator("#new-drill .banner.error")
    expect(refused).to_contain_text("실험명")
    expect(refused).to_contain_text("킬 스위치 방법")
    expect(page.locator("#drill-form").get_by_label("제목")).to_have_value("Redis 노드 장애 주입")
    form = page.locator("#drill-form")
    form.get_by_label("종류").select_option("game_day")
    expect(chaos).to_be_hidden()

    form.get_by_label("제목").fill("결제 DB 장애 게임 데이")
    form.get_by_label("시나리오").fill("결제 DB 주 노드가 응답하지 않는다.")
    form.locator("input[name=services]").fill("payments-api")
    form.locator("input[name=participants][value=mina]").check()
    form.locator("input[name=participants][value=bob]").check()
    form.locator("input[name=max_duration]").fill("90m")
    form.get_by_label("알림 이름 1").fill("PaymentsDbDown")
    form.get_by_label("심각도 라벨 1").fill("critical")
    form.get_by_label("서비스 1").fill("payments-api")
    form.get_by_role("button", name="훈련 만들기").click()
    expect(page).to_have_url(f"{base}/drills/DR-001?done=created#top")
    expect(page.locator("#drill-notice")).to_have_text("훈련을 만들었습니다.")
    expect(page.locator("#drill-status")).to_have_text("예정")
    expect(page.locator("#drill-facts")).to_contain_text("PaymentsDbDown")
    shot(page, "drill-created-ko")

    page.locator("#life").get_by_role("button", name="시작").click()
    expect(page.locator("#drill-status")).to_have_text("진행 중")
    # The worker sends the synthetic alert through /ingest/alertmanager: the drill's incident.
    worker.run_once()
    page.reload()
    link = page.locator("#drill-incident a")
    expect(link).to_contain_text("훈련")
    incident = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
    assert incident.startswith("INC-")
    assert api.get(f"/api/v1/incidents/{incident}").json()["drill"] is True
    assert api.post(f"/api/v1/incidents/{incident}/acknowledge").is_success

    # The scorecard: detection and escalation measured, the rest judged by people.
    page.reload()
    card = page.locator("#scorecard")
    expect(card.locator('tr[data-row="detect"] td.actual')).to_contain_text("분")
    expect(card.locator('tr[data-row="escalate"] td.met')).to_have_text("Y")
    card.get_by_label("커뮤니케이션 적절성", exact=True).select_option("adequate")
    card.get_by_label("문서(Runbook) 정확성", exact=True).select_option("partly_wrong")
    card.get_by_label("비고: 문서(Runbook) 정확성").fill(NOTE)
    card.locator("input[name=participants][value=vic]").check()
    card.get_by_label("종합 평가").fill(ASSESSMENT)
    card.get_by_role("button", name="평가표 저장").click()
    expect(page.locator("#drill-notice")).to_have_text("평가표를 저장했습니다.")

    items = page.locator("#drill-items")
    items.get_by_label("제목").fill("DB 전환 런북 갱신")
    items.get_by_label("소유자").select_option("bob")
    items.get_by_label("기한").fill("2030-01-15")
    items.get_by_role("button", name="항목 추가").click()
    expect(page.locator("#drill-notice")).to_contain_text("개선 항목을 추가했습니다")
    expect(items.locator('tr[data-code="TI-001"]')).to_contain_text("bob")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#life").get_by_role("button", name="킬 스위치").click()
    expect(page.locator("#drill-status")).to_have_text("종료됨")
    expect(page.locator("#drill-end-reason")).to_have_text("킬 스위치")
    expect(page.locator("#life")).to_have_count(0)
    # What people filled in is kept; the kill switch ended the drill's incident as well.
    card = page.locator("#scorecard")
    expect(card.locator('tr[data-row="communication"] td.met')).to_have_text("Y")
    expect(card.locator('tr[data-row="runbook"] td.met')).to_have_text("N")
    expect(card.locator('tr[data-row="runbook"] input')).to_have_value(
        "DB 전환 절차 3단계가 낡았다"
    )
    expect(card.locator("input[name=participants]:checked")).to_have_count(3)
    expect(card.get_by_label("종합 평가")).to_have_value(ASSESSMENT)
    expect(items.locator('tr[data-code="TI-001"]')).to_contain_text("2030-01-15")
    assert api.get(f"/api/v1/incidents/{incident}").json()["status"] in ("resolved", "canceled")
    shot(page, "drill-scored-ko")

    with page.expect_download() as downloaded:
        card.get_by_role("link", name="내려받기 (Markdown)").click()
    text = Path(downloaded.value.path()).read_text(encoding="utf-8")
    assert "# DR-001 결제 DB 장애 게임 데이" in text
    assert "일부 오류 (partly wrong)" in text and "TI-001 DB 전환 런북 갱신" in text

    page.goto(f"{base}/board")
    expect(page.locator("main")).to_contain_text("TI-001")

    page.goto(f"{base}/drills")
    row = page.locator('tr[data-drill="DR-001"]')
    expect(row).to_contain_text("게임 데이")
    expect(row).to_contain_text("종료됨")
    expect(row.locator("td.met")).to_contain_text("/5")

    # A viewer reads the drill in English, with no button to press.
    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    viewer = other.new_page()
    viewer.goto(f"{base}/login?next=/drills/DR-001")
    viewer.get_by_label("Username").fill("vic")
    viewer.get_by_label("Password").fill(PASSWORD)
    viewer.get_by_role("button", name="Sign in").click()
    expect(viewer).to_have_url(f"{base}/drills/DR-001")
    expect(viewer.locator("#drill-status")).to_have_text("Ended")
    expect(viewer.locator("#scorecard-assessment")).to_have_text(ASSESSMENT)
    expect(viewer.locator("#scorecard")).to_contain_text("Partly wrong")
    expect(viewer.locator("main button")).to_have_count(0)
    expect(viewer.locator("#new-drill")).to_have_count(0)
    other.close()
    assert blocked == []
