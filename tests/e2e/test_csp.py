"""Headless Chromium opens every console page, an action link, the error pages and Swagger UI
under the Content-Security-Policy: nothing is refused, and Swagger UI still runs requests."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from haetae.db import Database
from tests.e2e.conftest import TEST_HOST, shot
from tests.support.people import PASSWORD
from tests.support.server import RunningServer
from tests.web.test_csp_headers import console_pages, seed_console

pytestmark = pytest.mark.browser

# Runs before any script of every document: each violation the browser reports, kept
# where the test can read it.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(
    e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    (e.sourceFile || document.location.pathname) + ":" + e.lineNumber
  );
});
"""


class Violations:
    """What one page reported: its securitypolicyviolation events and console messages."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._heard)

    def _heard(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def assert_none(self, where: str) -> None:
        # Violation events are queued tasks: let the page go quiet before reading them.
        self.page.wait_for_load_state("networkidle")
        events = self.page.evaluate("window.__csp")
        assert events == [], (where, events)
        assert self.console == [], (where, self.console)


@pytest.fixture
def page(page: Page) -> Page:
    """The shared page, recording every violation its documents report."""
    page.context.add_init_script(RECORD_VIOLATIONS)
    return page


def test_every_console_page_loads_without_a_csp_violation(
    page: Page, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    base = server.url
    seeded = seed_console(api, db, "ada")
    seen = Violations(page)

    page.goto(f"{base}/login")
    seen.assert_none("/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/")
    seen.assert_none("/ after sign-in")

    visited = []
    for path in console_pages(seeded):
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        assert answer.headers.get("content-security-policy"), path
        seen.assert_none(path)
        visited.append(path)
    assert "/access" in visited

    # Swapped content: the declare form's severity preview (hx-get on change) and a note
    # posted on the incident page (hx-post swapping its panel and the timeline).
    page.goto(f"{base}/incidents/new")
    page.get_by_label("Business impact").select_option("revenue")
    page.get_by_label("User impact").select_option("all")
    expect(page.locator("#severity-preview [data-severity]")).to_have_text("P1")
    seen.assert_none("/incidents/new after a swap")

    page.goto(f"{base}/incidents/{seeded.incident_id}")
    page.evaluate("window.__stillHere = true")
    note = page.locator("#panel-note")
    note.locator("summary").click()
    note.get_by_label("Text").fill("Rollback finished at 14:40.")
    note.get_by_role("button", name="Add to timeline").click()
    expect(page.locator("#panel-timeline")).to_contain_text("Rollback finished at 14:40.")
    assert page.evaluate("window.__stillHere") is True  # swapped in place, not reloaded
    seen.assert_none("incident page after a swap")
    shot(page, "csp-incident-after-swap")

    # Error pages and the action link's page.
    for path, status in (
        (f"/incidents/{seeded.incident_id[:-3]}999", 404),
        ("/no-such-page", 404),
        (f"/act/{seeded.link_token}", 200),
        ("/act/not-a-real-token", 404),
    ):
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == status, (path, answer and answer.status)
        seen.assert_none(path)
    page.goto(f"{base}/act/{seeded.link_token}")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("main")).to_contain_text(seeded.incident_id)
    seen.assert_none("/act after acting")


def test_swagger_ui_renders_and_runs_a_request_under_the_policy(
    page: Page, server: RunningServer
) -> None:
    seen = Violations(page)
    base = server.url.replace("127.0.0.1", TEST_HOST)
    answer = page.goto(f"{base}/docs")
    assert answer is not None and answer.headers.get("content-security-policy")
    # Every tag is drawn, folded; opening one shows its operations.
    tags = page.locator("h3.opblock-tag")
    for tag in ("operations", "incidents", "runbooks", "changes"):
        expect(page.locator(f"h3.opblock-tag[data-tag='{tag}']")).to_be_visible()
    assert tags.count() >= 20
    page.locator("h3.opblock-tag[data-tag='incidents']").click()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/incidents").first
    ).to_be_visible()
    page.locator("h3.opblock-tag[data-tag='operations']").click()
    operation = page.locator(".opblock-get", has=page.locator("[data-path='/health/live']"))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    # The answer of the real request, as Swagger UI shows it under "Server response".
    live = operation.locator(".live-responses-table")
    expect(live.locator("tbody .response-col_status")).to_have_text("200")
    expect(live.locator("tbody .response-col_description")).to_contain_text('"status": "ok"')
    shot(page, "csp-swagger")
    seen.assert_none("/docs")
