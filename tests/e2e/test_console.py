"""A person runs an incident through the web console in headless Chromium, start to finish."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from haetae.clock import clock
from haetae.db import Database
from tests.e2e.conftest import shot, sign_in
from tests.support.people import PASSWORD, make_user
from tests.support.server import RunningServer

pytestmark = pytest.mark.browser


def move_to(page: Page, button: str, status_label: str) -> None:
    page.locator("#panel-status").get_by_role("button", name=button, exact=True).click()
    expect(page.locator("#panel-header .status")).to_have_text(status_label)
    expect(page.locator("#panel-timeline .event-status_changed").last).to_contain_text(status_label)


def test_responder_declares_and_resolves_an_incident(
    page: Page, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    base = server.url
    make_user(db, "mina")
    sign_in(page, base, "mina")
    expect(page.get_by_text("No active incidents. All quiet.")).to_be_visible()
    shot(page, "dashboard-empty")

    # Declare, watching the matrix's severity follow the impacts.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Declare incident").click()
    expect(page).to_have_url(f"{base}/incidents/new")
    page.get_by_label("Title").fill("Checkout fails for card payments")
    page.get_by_label("Summary").fill("Card payments return 502 since the 14:10 deploy.")
    page.get_by_label("Services").fill("checkout, payments")
    page.get_by_label("Category").select_option("deployment")
    page.get_by_label("Environment").fill("production")
    page.get_by_label("Users affected").fill("4200")
    preview = page.locator("#severity-preview [data-severity]")
    page.get_by_label("Business impact").select_option("revenue")
    page.get_by_label("User impact").select_option("some")
    expect(preview).to_have_text("P2")
    page.get_by_label("User impact").select_option("all")
    expect(preview).to_have_text("P1")
    expect(page.locator("#severity-preview")).to_contain_text("Critical")
    shot(page, "declare")
    page.locator("#declare-form").get_by_role("button", name="Declare incident").click()
    expect(page).to_have_url(re.compile(rf"{base}/incidents/INC-\d{{8}}-\d{{3}}$"))
    incident_url = page.url
    expect(page.locator("#panel-header")).to_contain_text("Checkout fails for card payments")
    expect(page.locator("#panel-header .sev")).to_have_text("P1")
    expect(page.locator("#panel-timeline .event-declared")).to_contain_text("P1")
    shot(page, "incident-declared")

    # From here on the forms swap panels in place: the page must never reload.
    page.evaluate("window.__stillHere = true")

    page.locator("#role-ic").get_by_role("button", name="Take").click()
    expect(page.locator("#role-ic .holder")).to_have_text("mina")
    expect(page.locator("#panel-timeline .event-role_assigned")).to_contain_text(
        "Incident Commander: mina"
    )

    update = page.locator("#panel-update")
    update.get_by_label("Situation").fill("Rolling back the 14:10 deploy.")
    update.get_by_label("Impact").fill("Card payments fail; bank transfer works.")
    update.get_by_label("Progress").fill("Rollback started at 14:32.")
    update.get_by_label("ETA").fill("15 minutes")
    update.get_by_role("button", name="Post update").click()
    expect(page.locator("#panel-timeline .event-status_update")).to_contain_text(
        "Rolling back the 14:10 deploy."
    )
    expect(update.get_by_label("Situation")).to_have_value("")

    conditions = page.locator("#panel-conditions")
    expect(conditions.locator("#condition-ic_assigned")).to_have_class("met")
    expect(conditions.locator("#condition-status_update_posted")).to_have_class("met")
    confirm = conditions.get_by_role("button", name="Confirm", exact=False)
    for remaining in range(confirm.count(), 0, -1):
        confirm.first.click()
        expect(confirm).to_have_count(remaining - 1)
    expect(conditions.locator("li.unmet")).to_have_count(0)
    expect(page.locator("#panel-timeline .event-condition_checked")).to_have_count(3)

    # Meanwhile a minor incident comes in, and the P1's next update falls due.
    minor = api.post(
        "/api/v1/incidents",
        json={"title": "FAQ page typo", "business_impact": "inconvenience", "user_impact": "few"},
    )
    assert minor.status_code == 201, minor.text
    clock.advance(minutes=6)
    page.get_by_role("link", name="Dashboard").click()
    first_group = page.locator("section.severity-group").first
    expect(first_group.locator("h2 .sev")).to_have_text("P1")
    expect(first_group.locator("tr.is-overdue")).to_contain_text("Checkout fails for card payments")
    expect(first_group.locator(".overdue")).to_have_text("Overdue")
    expect(page.locator("section.severity-group").last).to_contain_text("FAQ page typo")
    shot(page, "dashboard-active")
    page.goto(incident_url)
    expect(page.locator("#panel-header .title-row .overdue")).to_have_text("Overdue")
    page.evaluate("window.__stillHere = true")

    move_to(page, "Start investigating", "Investigating")
    move_to(page, "Cause identified", "Identified")
    move_to(page, "Fix in place, monitoring", "Monitoring")
    # Resolving asks how it was resolved, and the incident's page then says it.
    page.locator("#panel-status").get_by_label("How was it resolved?").fill(
        "Rolled back the payment gateway release"
    )
    move_to(page, "Resolve", "Resolved")
    expect(page.locator("#panel-header .resolution-summary")).to_contain_text(
        "Rolled back the payment gateway release"
    )
    assert page.evaluate("window.__stillHere") is True
    kinds = page.locator("#panel-timeline .event").evaluate_all(
        "items => items.map(e => e.dataset.kind)"
    )
    assert kinds == [
        "declared",
        "escalation_started",
        "role_assigned",
        "status_update",
        "condition_checked",
        "condition_checked",
        "condition_checked",
        "status_changed",
        "escalation_stopped",  # leaving triage acknowledges: the paging stops
        "status_changed",
        "status_changed",
        "status_changed",
        "escalation_stopped",  # resolved: the severity's matrix stops too
        "postmortem_started",  # a P1 starts its post-mortem when it is resolved
    ]
    expect(page.locator("#panel-postmortem")).to_contain_text("Draft")
    shot(page, "incident-resolved")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("main")).to_contain_text("Recently resolved")
    expect(page.locator("main")).to_contain_text("Checkout fails for card payments")
    expect(page.locator("section.severity-group")).to_have_count(1)  # only the P4 is active
    shot(page, "dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    expect(page.locator("table.incidents")).to_contain_text("Checkout fails for card payments")
    shot(page, "incidents")

    # The same incident in Korean, through the switch in the header.
    page.goto(incident_url)
    page.get_by_role("link", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("#panel-timeline h2")).to_contain_text("타임라인")
    expect(page.locator("#panel-header .status")).to_have_text("해결됨")
    expect(page.locator("#panel-roles")).to_contain_text("장애 총괄")
    expect(page.locator("#panel-header")).to_contain_text("KST")
    shot(page, "incident-ko")
    page.get_by_role("link", name="대시보드").click()
    expect(page.get_by_role("heading", name="진행 중인 장애")).to_be_visible()
    shot(page, "dashboard-ko")


def test_korean_declare_form_shows_the_live_severity(
    page: Page, server: RunningServer, db: Database
) -> None:
    make_user(db, "jiho", locale="ko")
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill("jiho")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="진행 중인 장애")).to_be_visible()
    page.goto(f"{server.url}/incidents/new")
    page.get_by_label("비즈니스 영향").select_option("operations")
    page.get_by_label("사용자 영향").select_option("many")
    expect(page.locator("#severity-preview [data-severity]")).to_have_text("P2")
    expect(page.locator("#severity-preview")).to_contain_text("주요")
    shot(page, "declare-ko")


def test_responder_changes_the_user_impact_and_sees_the_severity_follow(
    page: Page, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    declared = api.post(
        "/api/v1/incidents",
        json={"title": "Search is slow", "business_impact": "operations", "user_impact": "all"},
    )
    assert declared.status_code == 201, declared.text
    make_user(db, "mina")
    sign_in(page, server.url, "mina")
    page.goto(f"{server.url}/incidents/{declared.json()['id']}")
    expect(page.locator("#panel-header .sev")).to_have_text("P1")
    page.evaluate("window.__stillHere = true")

    edit = page.locator("#panel-edit")
    edit.get_by_text("Edit incident").click()
    edit.get_by_label("User impact").select_option("some")
    shot(page, "incident-edit-form")
    edit.get_by_role("button", name="Save changes").click()
    expect(page.locator("#panel-header .sev")).to_have_text("P3")
    expect(page.locator("#panel-timeline .event-fields_changed")).to_contain_text(
        "User impact All users → Some users"
    )
    expect(page.locator("#panel-timeline .event-severity_changed")).to_contain_text("P1 → P3")
    assert page.evaluate("window.__stillHere") is True
    shot(page, "incident-edited")


def test_admin_connects_a_sender_and_follows_its_alert(
    page: Page, server: RunningServer, db: Database
) -> None:
    base = server.url
    make_user(db, "ada", role="admin")
    sign_in(page, base, "ada")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    page.get_by_label("Name").fill("prod-am")
    page.get_by_label("Type").select_option("alertmanager")
    page.get_by_role("button", name="Create integration").click()
    expect(page.locator("#fresh-token")).to_contain_text("it will not be shown again")
    token = page.locator("#fresh-token-value").inner_text()
    shot(page, "integration-created")

    # The copy button puts the Alertmanager receiver, token included, on the clipboard.
    page.locator('button[data-copy="fresh-snippet"]').click()
    expect(page.locator('button[data-copy="fresh-snippet"]')).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f'credentials: "{token}"' in copied
    assert f"url: {base}/ingest/alertmanager" in copied

    # Rotating asks first; the new token replaces the old one.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate the token of prod-am").click()
    expect(page.locator("#fresh-token")).to_contain_text("The previous token no longer works.")
    rotated = page.locator("#fresh-token-value").inner_text()
    assert rotated != token

    sent = httpx.post(
        f"{base}/ingest/generic",
        json={"summary": "디스크 사용량 95%", "labels": {"service": "database", "팀": "결제팀"}},
        headers={"Authorization": f"Bearer {rotated}"},
        timeout=30,
    )
    assert sent.status_code == 202, sent.text
    incident_id = sent.json()["alerts"][0]["incident_id"]
    page.goto(f"{base}/incidents/{incident_id}")
    page.locator("#panel-alerts").get_by_role("link", name="디스크 사용량 95%").click()
    expect(page.locator("#labels")).to_contain_text("결제팀")
    expect(page.locator("pre.raw")).to_contain_text('"팀": "결제팀"')
    shot(page, "alert")
    page.get_by_role("link", name="prod-am").click()
    expect(page.locator("table.alerts")).to_contain_text("디스크 사용량 95%")
    shot(page, "integration")
