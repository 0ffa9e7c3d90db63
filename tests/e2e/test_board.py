"""A person works the follow-up board in headless Chromium: drag and drop against a WIP limit
(refused for a Standard card, passed by an Expedite one) and the keyboard's move buttons."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from haetae.db import Database
from tests.e2e.conftest import shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser


def _add(api: httpx.Client, title: str, cls: str, column: str = "backlog") -> str:
    response = api.post(
        "/api/v1/action-items",
        json={"title": title, "class_of_service": cls, "column": column},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def drag(page: Page, source: Locator, target: Locator) -> None:
    """Press, move in small steps (SortableJS watches the pointer on its way) and release.
    Both ends must be inside the viewport, which the mouse cannot leave: the page is scrolled
    so that the target is in view, and the viewport is made tall enough for both."""
    page.set_viewport_size({"width": 1400, "height": 1600})
    target.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + start["height"] / 2, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 4, steps=20)
    page.mouse.up()


def _column(api: httpx.Client, code: str) -> str:
    return str(api.get(f"/api/v1/action-items/{code}").json()["column"])


def test_cards_move_by_drag_and_drop_up_to_the_wip_limit_and_by_keyboard(
    page: Page, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    base = server.url
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    busy = [_add(api, f"Busy {n}", "standard", "in_progress") for n in range(5)]  # limit 5
    standard = _add(api, "Rotate the TLS certificate", "standard")
    expedite = _add(api, "Hotfix the payment retry", "expedite")
    by_keys = _add(api, "Write the runbook", "standard")
    make_user(db, "mina")
    sign_in(page, base, "mina")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Board", exact=True
    ).click()
    expect(page).to_have_url(f"{base}/board")

    lane = page.locator(".lane-action_items")
    backlog = lane.locator('.board-cards[data-column="backlog"]')
    progress = lane.locator('.board-cards[data-column="in_progress"]')
    progress_count = lane.locator('.board-col[data-column="in_progress"] [data-count]')
    message = page.locator("#board-message")
    expect(progress.locator(".bcard")).to_have_count(5)
    expect(progress_count).to_have_text("5")
    expect(lane.locator('.board-col[data-column="in_progress"] .wip')).to_contain_text("5")
    shot(page, "board")

    # A Standard card into the full column: refused, put back, and the reason shown.
    card = backlog.locator(f'.bcard[data-code="{standard}"]')
    drag(page, card.locator(".bcard-title"), progress.locator(".bcard").last)
    expect(message).to_be_visible()
    expect(message).to_contain_text("WIP limit (5 of 5)")
    expect(backlog.locator(f'.bcard[data-code="{standard}"]')).to_have_count(1)
    expect(progress.locator(".bcard")).to_have_count(5)
    expect(progress_count).to_have_text("5")
    assert _column(api, standard) == "backlog"
    shot(page, "board-wip-refused")

    # An Expedite card ignores the limit: it stays where it was dropped.
    card = backlog.locator(f'.bcard[data-code="{expedite}"]')
    drag(page, card.locator(".bcard-title"), progress.locator(".bcard").first)
    expect(progress.locator(f'.bcard[data-code="{expedite}"]')).to_have_count(1)
    expect(message).to_be_hidden()
    expect(progress_count).to_have_text("6")
    for _ in range(50):
        if _column(api, expedite) == "in_progress":
            break
        page.wait_for_timeout(100)
    assert _column(api, expedite) == "in_progress"
    # Dropped above the first card: the API keeps that order.
    board = api.get("/api/v1/board").json()
    items = next(x for x in board["lanes"] if x["id"] == "action_items")
    in_progress = next(c for c in items["columns"] if c["id"] == "in_progress")["cards"]
    assert [c["code"] for c in in_progress][:2] == [expedite, busy[0]]

    # The keyboard: tab to a card's "Move to Done" button and press Enter (a plain form).
    button = backlog.locator(f'.bcard[data-code="{by_keys}"]').get_by_role(
        "button", name="Move to Done"
    )
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    done = lane.locator('.board-cards[data-column="done"]')
    expect(done.locator(f'.bcard[data-code="{by_keys}"]')).to_have_count(1)
    assert _column(api, by_keys) == "done"
    shot(page, "board-after-moves")
    assert blocked == []
