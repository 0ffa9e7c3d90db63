"""A server killed with bundles in flight loses no page: after the restart every incident x
person x channel page arrives, and only the messages in flight at the kill arrive twice,
identical (same key, same words). A real `haetae serve` process (its in-process worker),
slow receivers on both channels."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from sqlalchemy import func, select

from haetae.db import Database
from haetae.notify.models import Notification
from tests.api.helpers import declare
from tests.conftest import JWT_SECRET
from tests.engine.test_durability import wait_until
from tests.support.server import BOOTSTRAP, serve_env, serve_process
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

IDEMPOTENCY = "X-Haetae-Idempotency-Key"
INCIDENT = re.compile(r"INC-\d{8}-\d+")
PEOPLE = ["ana", "ben", "cho"]
INCIDENTS = 6
SLOW = 2.0  # seconds each receiver holds a message before answering


def bundles_in_flight(db: Database) -> int:
    """Messages being sent that carry other pages."""
    with db.session(write=False) as session:
        return int(
            session.scalar(
                select(func.count(func.distinct(Notification.bundle_id))).where(
                    Notification.status == "bundled",
                    Notification.sent_at.is_(None),
                    Notification.bundle_id.in_(
                        select(Notification.id).where(Notification.status == "sending")
                    ),
                )
            )
        )


def delivered(webhook: WebhookReceiver, smtp: SmtpServer) -> list[tuple[str, str, str, str]]:
    """(channel, person, idempotency key, words) of every message the receivers accepted."""
    got = []
    for request in webhook.received:
        if request.json is None:
            continue  # cut off by the kill before its body was whole: not a message
        words = f"{request.json['title']}\n{request.json['message']}"
        got.append(("webhook", request.path.strip("/"), request.header(IDEMPOTENCY) or "", words))
    for mail in list(smtp.messages):
        person = str(mail["To"]).split("@", 1)[0]
        words = f"{subject_of(mail)}\n{body_of(mail)}"
        got.append(("email", person, str(mail[IDEMPOTENCY] or ""), words))
    return got


def pages(got: list[tuple[str, str, str, str]]) -> set[tuple[str, str, str]]:
    return {
        (incident, person, channel)
        for channel, person, _, w in got
        for incident in INCIDENT.findall(w)
    }


def test_a_server_killed_with_bundles_in_flight_delivers_every_page_after_restart(
    api: httpx.Client, db: Database, database_url: str, tmp_path: Path, make_user
):
    with WebhookReceiver() as webhook, SmtpServer(delay=SLOW) as smtp:
        webhook.hang_next(10_000, SLOW)
        for name in PEOPLE:  # both channels at once: a rule for each at 0 minutes
            make_user(
                name, webhook.url(f"/{name}"), smtp.url(to=f"{name}@example.com"), delays=(0, 0)
            )
        team = {"id": "payments-team", "name": "Payments", "leads": PEOPLE}
        assert api.post("/api/v1/teams", json=team).status_code in (200, 201)
        service = {"id": "payments", "name": "Payments", "team": "payments-team"}
        assert api.post("/api/v1/services", json=service).status_code in (200, 201)

        env = serve_env(
            tmp_path,
            DATABASE_URL=database_url,
            JWT_SECRET=JWT_SECRET,
            HAETAE_RUN_WORKER="true",
            ENGINE_LEASE_SECONDS="8",
            NOTIFY_TIMEOUT_SECONDS="5",
        )
        # The first incident's pages go at once; the next ones wait out the 12-s spacing and
        # go together, one bundle per contact method: the server is killed while those are
        # being handed to the slow receivers.
        with (
            serve_process(env) as (proc, url),
            httpx.Client(base_url=url, headers=BOOTSTRAP, timeout=30) as admin,
        ):
            incident_ids = [declare(admin, title="Checkout down 0", services=["payments"])["id"]]
            for n in range(1, INCIDENTS):
                time.sleep(0.5)
                down = declare(admin, title=f"Checkout down {n}", services=["payments"])
                incident_ids.append(down["id"])
            wait_until(lambda: bundles_in_flight(db) >= 4, timeout=60, what="bundles in flight")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with db.session(write=False) as session:
            in_flight = set(
                session.scalars(
                    select(Notification.idem_key).where(Notification.status == "sending")
                )
            )
        assert in_flight

        expected = {(i, p, c) for i in incident_ids for p in PEOPLE for c in ("webhook", "email")}
        with serve_process(env):
            wait_until(
                lambda: pages(delivered(webhook, smtp)) >= expected,
                timeout=90,
                what="every page after the restart",
            )
            wait_until(lambda: not _unsettled(db), timeout=30, what="every message settled")
            time.sleep(2 * SLOW + 1)  # a second copy would come now

        got = delivered(webhook, smtp)
        assert pages(got) == expected
        keys = Counter(key for _, _, key, _ in got)
        assert all(keys), "every message carries its idempotency key"
        repeated = {key for key, n in keys.items() if n > 1}
        assert repeated <= in_flight, repeated - in_flight
        words: dict[str, set[str]] = defaultdict(set)
        for _, _, key, text in got:
            words[key].add(text)
        assert all(len(texts) == 1 for texts in words.values())  # a resend is identical
        # Each incident is paged once per person and channel, apart from those resends.
        seen = Counter(
            (incident, person, channel)
            for channel, person, key, text in got
            if key not in repeated
            for incident in set(INCIDENT.findall(text))
        )
        assert max(seen.values()) == 1


def _unsettled(db: Database) -> int:
    with db.session(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.kind == "page",
                    Notification.status.in_(("pending", "sending"))
                    | ((Notification.status == "bundled") & Notification.sent_at.is_(None)),
                )
            )
        )
