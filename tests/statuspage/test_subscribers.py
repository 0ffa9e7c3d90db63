"""Status page subscribers over the real thing: a browser subscribes on the form, the
confirmation mail reaches a real SMTP server and its link (a page, then its button) confirms;
a published update reaches each subscriber once (mail with RFC 8058 headers, webhook JSON in
the subscriber's language, component filters kept); the unsubscribe link (page and button,
and the one-click POST) stops the next one; the admin sees addresses masked, exports one
person's data and deletes it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from haetae.app import create_app
from haetae.clock import clock, utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.policy.schema import Policy
from haetae.statuspage import subscribers
from haetae.statuspage.models import (
    Component,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
    Subscriber,
)
from haetae.worker import Worker
from haetae.worker.config import WorkerConfig
from tests.cli.conftest import Haetae, _base_env
from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.e2e.conftest import browser, page  # noqa: F401  (the browser fixtures)
from tests.support.pg import free_port
from tests.support.smtp import SmtpServer, body_of
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for, csrf_from

MAIL = "reader@example.com"


@pytest.fixture
def status_server(
    settings: Settings, db: Database, policy: Policy, smtp_server: SmtpServer
) -> Iterator[str]:
    """A server whose links point at itself and whose status page mail goes to the SMTP server
    (the shared server has no STATUS_PAGE_MAIL_URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mine = settings.model_copy(
        update={
            "public_url": url,
            "status_page_mail_url": (
                f"mailto://127.0.0.1:{smtp_server.port}?from=status%40example.com&mode=insecure"
            ),
        }
    )
    app = create_app(mine, policy=policy, database=db, migrate=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def _publish(db: Database, components: list[int], en: str, ko: str) -> None:
    """What the status page's publish does for subscribers, in its transaction. The clock
    first moves past the outbox's spacing per contact method (12 s), so the update is not
    held behind the confirmation mail."""
    clock.advance(seconds=13)
    now = utcnow()
    with db.session() as session:
        public = PublicIncident(
            code=f"pi{now.timestamp():.0f}{len(en)}",
            title={"en": "API errors", "ko": "API 오류"},
            impact="major",
            status="investigating",
            components={str(c): "major_outage" for c in components},
            started_at=now,
            published_at=now,
            created_by="comms",
            created_at=now,
            updated_at=now,
        )
        session.add(public)
        session.flush()
        update = PublicUpdate(
            public_incident_id=public.id,
            status="investigating",
            body={"en": en, "ko": ko},
            state="published",
            created_by="comms",
            created_at=now,
            published_by="comms",
            published_at=now,
        )
        session.add(update)
        session.flush()
        subscribers.on_published(session, update, now=now)


def _drain(worker: Worker) -> None:
    """Cycles until the outbox has nothing due (sends spaced by SUBSCRIBER_SEND_RATE)."""
    for _ in range(20):
        worker.run_once()
        with worker.db.session(write=False) as session:
            left = session.scalar(
                select(func.count()).where(Notification.status.in_(("pending", "sending")))
            )
        if not left:
            return
        time.sleep(0.2)


def test_subscribe_confirm_fan_out_and_unsubscribe(
    db: Database,
    policy: Policy,
    status_server: str,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    page: Page,  # noqa: F811
    tmp_path: Path,
) -> None:
    base = status_server
    now = utcnow()
    with db.session() as session:
        api_c = Component(
            slug="api", name={"en": "API", "ko": "API"}, created_at=now, updated_at=now
        )
        web_c = Component(
            slug="web", name={"en": "Website", "ko": "웹사이트"}, created_at=now, updated_at=now
        )
        page_settings = StatusPageSettings(
            enabled=True, title={"en": "Acme status", "ko": "Acme 상태"}, updated_at=now
        )
        session.add_all([api_c, web_c, page_settings])
        session.flush()
        api_id = api_c.id
    worker = Worker(
        db,
        policy,
        WorkerConfig(public_url=base, secret=JWT_SECRET, senders=4, subscriber_send_rate=50.0),
    )
    anon = httpx.Client(base_url=base, timeout=30)
    admin = httpx.Client(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    try:
        # A reader subscribes on the form, to the API only.
        page.goto(f"{base}/status?lang=en")  # the public page carries the form
        page.get_by_label("E-mail address").fill(MAIL)
        page.get_by_label("API").check()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

        # The same answer for an address already known, and a webhook (in Korean, to all).
        again = anon.post("/status/subscribe", json={"email": MAIL, "components": ["api"]})
        assert again.status_code == 202
        hook = webhook.url("/hook").replace("json://", "http://")
        assert (
            anon.post("/status/subscribe", json={"webhook": hook, "language": "ko"}).status_code
            == 202
        )
        web_only = webhook.url("/web").replace("json://", "http://")
        answer = anon.post("/status/subscribe", json={"webhook": web_only, "components": ["web"]})
        assert answer.status_code == 202
        assert anon.post("/status/subscribe", json={"email": "not-an-address"}).status_code == 422

        # The confirmation mail arrives; its link shows a page and does not confirm by itself.
        _drain(worker)
        confirm_mail = smtp_server.wait_for(1)[0]
        assert len(smtp_server.messages) == 1  # the second request sent nothing more
        link = re.search(r"(http://\S+/status/confirm/\S+)", body_of(confirm_mail))
        assert link, body_of(confirm_mail)
        page.goto(link.group(1))
        expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
        expect(page.get_by_text("r***@e***.com")).to_be_visible()
        with db.session(write=False) as session:
            reader = session.scalars(select(Subscriber).where(Subscriber.kind == "email")).one()
            assert reader.confirmed_at is None
            assert reader.token_hash not in link.group(1)  # only the hash is stored
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="Your subscription is confirmed")).to_be_visible()

        # An update about the API reaches the reader once and the all-components webhook
        # once, in Korean; the website-only webhook gets nothing.
        smtp_server.clear()
        _publish(db, [api_id], "Errors on the API; we are on it.", "API 오류를 조사하고 있습니다.")
        _drain(worker)
        mail = smtp_server.wait_for(1)[0]
        assert MAIL in smtp_server.recipients[0]
        text = body_of(mail)
        assert str(mail["Subject"]).startswith("[Acme status] API errors")
        assert "Errors on the API; we are on it." in text
        unsubscribe_link = re.search(r"(http://\S+/status/unsubscribe/\S+)", text)
        assert unsubscribe_link, text
        assert mail["List-Unsubscribe"] == f"<{unsubscribe_link.group(1)}>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        calls = webhook.wait_for(1)
        time.sleep(0.3)
        assert [c.path for c in webhook.received] == ["/hook"]
        assert "API 오류를 조사하고 있습니다." in calls[0].json["message"]
        assert "구독 해지" in calls[0].json["message"]
        hook_unsubscribe = unquote(calls[0].header("List-Unsubscribe") or "").strip("<>")
        assert "/status/unsubscribe/" in hook_unsubscribe

        # Another cycle sends nothing twice.
        _drain(worker)
        assert len(smtp_server.messages) == 1 and len(webhook.received) == 1

        # The reader's link shows a page (a GET does nothing) and its button unsubscribes;
        # the webhook's owner uses RFC 8058's one-click POST.
        page.goto(unsubscribe_link.group(1))
        expect(page.get_by_role("heading", name="Unsubscribe from the status page")).to_be_visible()
        with db.session(write=False) as session:
            assert session.get(Subscriber, reader.id).unsubscribed_at is None  # type: ignore[union-attr]
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
        one_click = anon.post(
            hook_unsubscribe.removeprefix(base),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200
        assert anon.post("/status/unsubscribe/1.bad").status_code == 404

        # The next update reaches neither.
        _publish(db, [], "Still looking.", "계속 조사 중입니다.")
        _drain(worker)
        time.sleep(0.3)
        assert len(smtp_server.messages) == 1
        assert [c.path for c in webhook.received] == ["/hook", "/web"]  # page-wide news

        # The admin: masked list with counts, one person's export, deletion.
        listed = admin.get("/api/v1/status-page/subscribers")
        assert listed.status_code == 200
        assert MAIL not in listed.text and "127.0.0.1:" not in listed.text
        assert listed.json()["counts"] == {"confirmed": 1, "pending": 0, "unsubscribed": 2}
        assert anon.get("/api/v1/status-page/subscribers").status_code == 401
        # The same masked list and one person's export in the CLI; the console's page lists
        # them masked to an admin, deletes one, and refuses anyone else.
        clock.reset()  # sign-in tokens are checked against the real clock
        haetae = Haetae({**_base_env(tmp_path), "DATABASE_URL": db.url})
        listed_cli = haetae("status-page subscribers list").out
        assert "r***@e***.com" in listed_cli and MAIL not in listed_cli
        assert f'"address": "{MAIL}"' in haetae(f"status-page subscribers export {MAIL}").out
        web_id = next(
            s["id"]
            for s in listed.json()["subscribers"]
            if s["component_ids"] != [api_id] and s["component_ids"]
        )
        with console_for(base, db, "sp-admin", role="admin") as console:
            shown = console.get("/status-page/subscribers")
            assert shown.status_code == 200, shown.headers.get("location")
            assert "r***@e***.com" in shown.text and MAIL not in shown.text
            gone = console.post(
                f"/status-page/subscribers/{web_id}/delete",
                data={"csrf_token": csrf_from(shown.text)},
            )
            assert gone.status_code == 303
        with console_for(base, db, "sp-viewer", role="viewer") as console:
            assert console.get("/status-page/subscribers").status_code == 403
        assert len(admin.get("/api/v1/status-page/subscribers").json()["subscribers"]) == 2

        exported = admin.get("/api/v1/status-page/subscribers/export", params={"address": MAIL})
        [mine] = exported.json()["subscriptions"]
        assert mine["address"] == MAIL and mine["messages_sent"] == 2
        assert mine["component_ids"] == [api_id]
        assert admin.delete(f"/api/v1/status-page/subscribers/{mine['id']}").status_code == 204
        assert admin.delete(f"/api/v1/status-page/subscribers/{mine['id']}").status_code == 404
        exported = admin.get("/api/v1/status-page/subscribers/export", params={"address": MAIL})
        assert exported.json()["subscriptions"] == []
        with db.session(write=False) as session:
            assert (
                session.scalars(
                    select(ContactMethod).where(ContactMethod.url.contains("reader%40"))
                ).all()
                == []
            )
            assert (
                session.scalars(select(ContactMethod).where(ContactMethod.url.contains(MAIL))).all()
                == []
            )
    finally:
        anon.close()
        admin.close()
        worker.stop()
