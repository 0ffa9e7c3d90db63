"""The status page's publish flow in headless Chromium: from a P1's page a responder opens a
public incident prefilled from it, drafts the first notice from the template, edits the
English text while the readers' preview follows, publishes it, and finds it on the public
page."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from haetae.db import Database
from haetae.statuspage.models import Component
from tests.api.helpers import declare
from tests.e2e.conftest import shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser

EDITED = "Some card payments fail. We are moving traffic to the standby database."


def test_a_responder_publishes_a_public_update_from_the_incident_page(
    page: Page, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    base = server.url
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(
            Component(
                slug="checkout",
                name={"en": "Checkout", "ko": "결제"},
                description={},
                services=["payments-api"],
                status="operational",
                visible=True,
                created_at=now,
                updated_at=now,
            )
        )
    incident = declare(api, title="Checkout returns 502", services=["payments-api"])
    make_user(db, "mina")
    sign_in(page, base, "mina")

    page.goto(f"{base}/incidents/{incident['id']}")
    page.get_by_role("link", name="Open a public incident for this incident").click()
    form = page.locator("#open-public-form")
    expect(form.get_by_label("Public title (English)")).to_have_value("Checkout returns 502")
    expect(form.get_by_label("Checkout")).to_have_value("major_outage")
    form.get_by_label("Public title (English)").fill("Card payments are failing")
    form.get_by_label("Public title (Korean)").fill("카드 결제 장애")
    form.get_by_role("button", name="Open public incident").click()
    expect(page.locator("#sp-notice")).to_contain_text("Public incident opened")

    article = page.locator("article.sp-incident").first
    expect(article.locator(".sp-unpublished")).to_have_text("Not public yet")
    article.get_by_role("button", name="Draft from template").click()
    expect(page.locator("#sp-notice")).to_contain_text("Update drafted")
    draft = page.locator(".sp-draft").first
    english = draft.get_by_label("English")
    expect(english).not_to_have_value("")
    expect(draft.get_by_label("Korean")).not_to_have_value("")

    # The readers' preview follows the edit (HTMX), in both languages side by side.
    english.fill(EDITED)
    preview = draft.locator(".sp-preview[data-lang=en]")
    expect(preview).to_contain_text(EDITED)
    expect(preview).to_contain_text("Card payments are failing")
    expect(draft.locator(".sp-preview[data-lang=ko]")).to_contain_text("카드 결제 장애")
    shot(page, "statuspage-editor-draft")
    draft.get_by_role("button", name="Publish").click()
    expect(page.locator("#sp-notice")).to_contain_text("Update published")
    expect(page.locator(".sp-updates")).to_contain_text(EDITED)
    shot(page, "statuspage-editor-published")

    page.goto(f"{base}/status")
    expect(page.locator("body")).to_contain_text(EDITED)
    expect(page.locator("body")).to_contain_text("Card payments are failing")
