"""A responder checks who is on call, covers a shift with an override and sends themself
a test notification, in headless Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from haetae.clock import utcnow
from haetae.db import Database
from haetae.oncall import service as oncall
from haetae.oncall.schemas import RotationSpec, ScheduleSpec
from haetae.worker import Worker
from tests.e2e.conftest import shot, sign_in
from tests.support.people import make_user
from tests.support.server import RunningServer
from tests.support.webhook import WebhookReceiver

pytestmark = pytest.mark.browser
SEOUL = ZoneInfo("Asia/Seoul")


def test_responder_covers_a_shift_and_tests_their_pager(
    page: Page, server: RunningServer, db: Database, webhook: WebhookReceiver, worker: Worker
) -> None:
    base = server.url
    make_user(db, "mina")
    make_user(db, "bob")
    today = utcnow().astimezone(SEOUL).date()
    # Daily turns from yesterday 09:00: bob yesterday, mina today, bob tomorrow (from 09:00).
    start = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=9)
    spec = ScheduleSpec(
        id="ops",
        name="Ops on-call",
        rotations=[
            RotationSpec(name="daily", type="daily", handoff=start, participants=["bob", "mina"])
        ],
    )
    with db.session() as session:
        oncall.put_schedule(session, spec, now=utcnow())

    sign_in(page, base, "mina")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On call").click()
    expect(page).to_have_url(f"{base}/oncall")
    on_call = page.locator("#schedule-ops tr[data-layer='primary']")
    if utcnow().astimezone(SEOUL).hour >= 9:
        expect(on_call.locator(".who")).to_have_text("mina")
        expect(on_call.locator(".next-handoff")).to_contain_text("mina → bob")
    shot(page, "oncall-now")

    # Cover tomorrow's working day for bob.
    page.get_by_role("link", name="Ops on-call").click()
    expect(page).to_have_url(f"{base}/schedules/ops")
    tomorrow = today + timedelta(days=1)
    day = page.locator(f"tr[data-day='{tomorrow.isoformat()}']")
    expect(day).to_contain_text("09:00–24:00 bob")
    page.get_by_text("Add an override").click()
    form = page.locator("#override-form")
    form.get_by_label("Who covers").select_option("mina")
    form.get_by_label("Replaces").select_option("bob")
    form.get_by_label(re.compile(r"^From")).fill(f"{tomorrow.isoformat()}T09:00")
    form.get_by_label(re.compile(r"^To")).fill(f"{tomorrow.isoformat()}T18:00")
    form.get_by_label("Note").fill("bob at a conference")
    form.get_by_role("button", name="Add override").click()
    expect(page).to_have_url(re.compile(rf"{base}/schedules/ops\?weeks=2#overrides$"))
    expect(day.locator(".shift.override")).to_contain_text("09:00–18:00 mina")
    expect(day).to_contain_text("18:00–24:00 bob")
    expect(page.locator("table.overrides")).to_contain_text("bob at a conference")
    shot(page, "schedule-override")

    # A pager of my own, and a test message to it.
    page.locator(".me").get_by_role("link", name="mina").click()
    expect(page).to_have_url(f"{base}/profile")
    methods = page.locator("#method-form")
    methods.get_by_label("Name").fill("team webhook")
    methods.get_by_label("Apprise URL").fill(webhook.url("/mina"))
    methods.get_by_role("button", name="Add contact method").click()
    row = page.locator("table.contact-methods tbody tr").first
    expect(row).to_contain_text("json://127.0.0.1")
    expect(row).to_contain_text("/***")
    row.get_by_role("button", name="Send a test notification to team webhook").click()
    state = row.locator(".test-state")
    expect(state).to_contain_text("Pending")
    worker.run_once()
    assert len(webhook.wait_for(1)) == 1
    # The cell asks again by itself; no reload.
    expect(state).to_contain_text("Sent")
    shot(page, "profile-test-sent")
