"""From resolve to the board in headless Chromium: a P1 resolved on its page starts its
post-mortem, which is written with 5 whys and measures, submitted, approved by a second person
and published; its measures are then AI-NNN cards on the board, and one is moved to Done."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from haetae.db import Database
from tests.api.helpers import declare
from tests.e2e.conftest import shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser

WHYS = [
    "Card payments failed with HTTP 500",
    "The payment service ran out of database connections",
    "Release 42 leaked a connection on every retry",
    "The retry path had no test that closes connections",
    "Load tests do not run before a release",
]


def _ready_to_resolve(api: httpx.Client) -> str:
    """A P1 with an IC (mina) whose resolution conditions are met: the browser resolves it."""
    inc = str(declare(api, title="Payments API returns 500", summary="Card payments fail")["id"])
    assert api.put(f"/api/v1/incidents/{inc}/roles/ic", json={"assignee": "mina"}).is_success
    assert api.post(f"/api/v1/incidents/{inc}/acknowledge").is_success
    decision = {"kind": "technical", "decision": "Roll back release 42", "reason": "fastest"}
    assert api.post(f"/api/v1/incidents/{inc}/decisions", json=decision).status_code == 201
    update = {"situation": "Rolled back; payments recovering"}
    assert api.post(f"/api/v1/incidents/{inc}/updates", json=update).status_code == 201
    for cond in api.get(f"/api/v1/incidents/{inc}/conditions").json():
        if cond["kind"] == "manual" and not cond.get("met"):
            api.post(f"/api/v1/incidents/{inc}/conditions/{cond['id']}", json={})
    return inc


def _add_measure(page: Page, title: str, term: str, owner: str, priority: str) -> None:
    form = page.locator("#measure-form")
    if not form.is_visible():
        page.locator("#section-measures summary").click()
    form.get_by_label("Title").fill(title)
    form.get_by_label("Term").select_option(term)
    form.get_by_label("Owner").select_option(owner)
    form.get_by_label("Priority").select_option(priority)
    form.get_by_role("button", name="Add measure").click()
    expect(page.locator("#pm-notice")).to_contain_text("Measure added")


def test_a_resolved_p1_is_written_up_reviewed_published_and_tracked_on_the_board(
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
    inc = _ready_to_resolve(api)
    sign_in(page, base, "mina")

    # Resolve on the incident page: the P1's post-mortem starts by itself, and the panel says so.
    page.goto(f"{base}/incidents/{inc}")
    panel = page.locator("#panel-postmortem")
    expect(panel).to_contain_text("No post-mortem yet")
    page.locator("#panel-status form.resolve textarea[name=summary]").fill("Rolled back release 42")
    page.locator("#panel-status").get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#panel-status .status")).to_have_text("Resolved")
    expect(panel).to_contain_text("Draft")
    expect(panel).to_contain_text("Report draft")
    panel.get_by_role("link", name="Open the post-mortem").click()
    expect(page).to_have_url(f"{base}/postmortems/{inc}")
    expect(page.locator("#pm-status")).to_have_text("Draft")
    # Drafted already: the facts, and the key events ticked.
    expect(page.locator("#section-basic")).to_contain_text("mina")
    expect(page.locator("#section-decisions")).to_contain_text("Roll back release 42")
    expect(page.locator("#section-timeline input[name=pick]:checked").first).to_be_visible()
    shot(page, "postmortem-draft")

    # The 5 whys as a chain: each question asks about the answer before it.
    whys = page.locator("#section-five_whys")
    expect(whys.locator("textarea[name=why]")).to_have_count(5)
    for number, answer in enumerate(WHYS, start=1):
        whys.locator(f"#why-{number}").fill(answer)
    whys.get_by_label("Root cause summary").fill("Releases ship without a load test")
    whys.get_by_role("button", name="Save").click()
    expect(page.locator("#pm-notice")).to_have_text("Saved.")
    expect(whys).to_contain_text(f"2. Why did “{WHYS[0]}” happen?")
    expect(whys).to_contain_text(f"5. Why did “{WHYS[3]}” happen?")
    expect(page.locator("#why-5")).to_have_value(WHYS[4])

    # Measures: they become action items AI-001 and AI-002, grouped by term.
    _add_measure(page, "Close connections on the retry path", "short", "bob", "high")
    _add_measure(page, "Run a load test before every release", "mid", "mina", "medium")
    measures = page.locator("#section-measures")
    expect(measures.locator('tr[data-code="AI-001"]')).to_contain_text("bob")
    expect(measures.locator('tr[data-code="AI-002"]')).to_contain_text("Backlog")
    shot(page, "postmortem-written")

    # Ask bob to review, then submit.
    life = page.locator("#life")
    life.get_by_label("Reviewer").select_option("bob")
    life.get_by_role("button", name="Add reviewer").click()
    expect(page.locator("#life .pm-reviews")).to_contain_text("bob")
    page.locator("#life").get_by_role("button", name="Submit for review").click()
    expect(page.locator("#pm-status")).to_have_text("In review")
    # Publishing before the approval is refused on the page, with the reason.
    page.locator("#life").get_by_role("button", name="Publish").click()
    expect(page.locator("#pm-refusal")).to_contain_text("approval")
    expect(page.locator("#pm-status")).to_have_text("In review")

    # A second person, in a browser of their own, approves it.
    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        reviewer = other.new_page()
        sign_in(reviewer, base, "bob")
        reviewer.goto(f"{base}/postmortems/{inc}")
        reviewer.locator("#life").get_by_label("Comment").fill("Clear chain, good measures")
        reviewer.locator("#life").get_by_role("button", name="Approve").click()
        expect(reviewer.locator("#pm-notice")).to_have_text("Approved.")
        expect(reviewer.locator("#pm-approvals")).to_have_text("1 of 1")
    finally:
        other.close()

    # The author publishes it.
    page.goto(f"{base}/postmortems/{inc}")
    expect(page.locator("#life .pm-reviews")).to_contain_text("Approved")
    page.locator("#life").get_by_role("button", name="Publish").click()
    expect(page.locator("#pm-status")).to_have_text("Published")
    expect(page.locator('#deadlines [data-deadline="published"]')).to_contain_text("Met")
    expect(page.locator("#short-report")).to_contain_text("Status: Post-mortem complete")
    shot(page, "postmortem-published")
    assert api.get(f"/api/v1/postmortems/{inc}").json()["status"] == "published"

    # The measures on the board, in the Incident Action Items lane; one moves to Done.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Board", exact=True
    ).click()
    expect(page).to_have_url(f"{base}/board")
    lane = page.locator(".lane-action_items")
    backlog = lane.locator('.board-cards[data-column="backlog"]')
    expect(backlog.locator('.bcard[data-code="AI-001"]')).to_contain_text(
        "Close connections on the retry path"
    )
    expect(backlog.locator('.bcard[data-code="AI-002"]')).to_be_visible()
    backlog.locator('.bcard[data-code="AI-001"]').get_by_role("button", name="Move to Done").click()
    done = lane.locator('.board-cards[data-column="done"]')
    expect(done.locator('.bcard[data-code="AI-001"]')).to_have_count(1)
    assert api.get("/api/v1/action-items/AI-001").json()["column"] == "done"
    shot(page, "postmortem-board")

    # And the post-mortem shows where its measure is now.
    page.goto(f"{base}/postmortems/{inc}")
    expect(page.locator('#section-measures tr[data-code="AI-001"]')).to_contain_text("Done")
    assert blocked == []
