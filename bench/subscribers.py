"""Status page subscribers: one public update to N e-mail subscribers (10,000) through the
outbox to a real SMTP server, on PostgreSQL.

A throwaway PostgreSQL cluster and database; N confirmed e-mail subscribers, each with its
contact method (bulk-inserted: the fixture, not the measure); an aiosmtpd server in a process
of its own (so its CPU is not the sender's) that prints each message's recipient and arrival;
`haetae worker` processes (two) with SUBSCRIBER_SEND_RATE (--rate). Then one public update is
published (statuspage.subscribers.on_published in its transaction, as the status page's
publish does) and the clock starts. Printed: the time to the last delivery, the rate, the
distinct recipients and the total messages (each subscriber exactly once: both equal N), and
the first delivery's delay. Bounded: it gives up --limit seconds after the publish.

    .venv/bin/python bench/subscribers.py                     # 10,000, 2 workers, 400/s
    .venv/bin/python bench/subscribers.py --subscribers 1000 --rate 100
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pg import PostgresCluster, free_port  # noqa: E402
from tests.support.server import HAETAE, serve_env  # noqa: E402

from haetae.db import Database  # noqa: E402
from haetae.migrations import upgrade_to_head  # noqa: E402
from haetae.notify.models import Notification  # noqa: E402
from haetae.people.models import ContactMethod  # noqa: E402
from haetae.statuspage import subscribers  # noqa: E402
from haetae.statuspage.models import PublicIncident, PublicUpdate, Subscriber  # noqa: E402

PUBLIC_URL = "http://127.0.0.1:8000"
SINK = """
import sys, time, asyncio
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            sys.stdout.write(f"{time.time():.6f} {rcpt}\\n")
        sys.stdout.flush()
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    time.sleep(3600)
"""


class Arrivals:
    """The sink's lines, read in a thread: (arrival time, recipient)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.rows: list[tuple[float, str]] = []
        self.ready = threading.Event()
        self._proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.strip() == "ready":
                self.ready.set()
                continue
            at, _, rcpt = line.strip().partition(" ")
            self.rows.append((float(at), rcpt))


def seed(url: str, count: int, secret: str, mail_url: str) -> None:
    """N confirmed e-mail subscribers to every component, each with its contact method."""
    now = datetime.now(UTC)
    engine = create_engine(url)
    setup = subscribers.Setup(public_url=PUBLIC_URL, secret=secret, mail_url=mail_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(Subscriber),
                [
                    {
                        "kind": "email",
                        "address": f"reader{i:05d}@example.com",
                        "language": "ko" if i % 2 else "en",
                        "component_ids": [],
                        "token_hash": subscribers.hash_of(f"bench-{i}"),
                        "confirmed_at": now,
                        "unsubscribed_at": None,
                        "created_at": now,
                        "data": {},
                    }
                    for i in range(count)
                ],
            )
            rows = conn.execute(
                select(Subscriber.id, Subscriber.kind, Subscriber.address, Subscriber.token_hash)
            ).all()
            methods = []
            for sid, kind, address, token_hash in rows:
                one = Subscriber(id=sid, kind=kind, address=address, token_hash=token_hash)
                methods.append(
                    {
                        "user_id": None,
                        "subscriber_id": sid,
                        "name": f"status-subscriber-{sid}",
                        "kind": "mailto",
                        "url": subscribers.destination(one, setup),
                        "position": 0,
                        "enabled": True,
                        "created_at": now,
                    }
                )
            conn.execute(insert(ContactMethod), methods)
    finally:
        engine.dispose()


def publish(url: str) -> None:
    now = datetime.now(UTC)
    db = Database(url)
    try:
        with db.session() as session:
            public = PublicIncident(
                code="benchpi",
                title={"en": "Payments are failing", "ko": "결제 장애"},
                impact="major",
                status="investigating",
                components={},
                started_at=now,
                published_at=now,
                created_by="bench",
                created_at=now,
                updated_at=now,
            )
            session.add(public)
            session.flush()
            update = PublicUpdate(
                public_incident_id=public.id,
                status="investigating",
                body={
                    "en": "Card payments fail for some customers. We are investigating.",
                    "ko": "일부 고객의 카드 결제가 실패하고 있습니다. 원인을 조사하고 있습니다.",
                },
                state="published",
                created_by="bench",
                created_at=now,
                published_by="bench",
                published_at=now,
            )
            session.add(update)
            session.flush()
            subscribers.on_published(session, update, now=now)
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=300.0, help="SUBSCRIBER_SEND_RATE")
    parser.add_argument("--senders", type=int, default=16, help="ENGINE_SENDERS")
    parser.add_argument("--limit", type=float, default=180.0, help="seconds before giving up")
    args = parser.parse_args()
    n = args.subscribers
    print(
        f"{n} e-mail subscribers, {args.workers} workers x {args.senders} senders, "
        f"SUBSCRIBER_SEND_RATE={args.rate:g}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    cluster = PostgresCluster()
    cluster.start()
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdout=subprocess.PIPE, text=True
    )
    arrivals = Arrivals(sink)
    procs: list[subprocess.Popen[str]] = []
    try:
        if not arrivals.ready.wait(30):
            print("the SMTP sink did not start")
            return 1
        url = cluster.create_database("subscribers")
        upgrade_to_head(url)
        mail_url = f"mailto://127.0.0.1:{port}?from=status%40example.com&mode=insecure"
        with tempfile.TemporaryDirectory() as tmp:
            env = serve_env(
                Path(tmp),
                DATABASE_URL=url,
                PUBLIC_URL=PUBLIC_URL,
                SUBSCRIBER_SEND_RATE=str(args.rate),
                ENGINE_SENDERS=str(args.senders),
                STATUS_PAGE_MAIL_URL=mail_url,
                LOG_LEVEL="WARNING",
            )
            started = time.monotonic()
            seed(url, n, env["JWT_SECRET"], mail_url)
            print(f"seeded in {time.monotonic() - started:.1f} s")
            for i in range(args.workers):
                log = (Path(tmp) / f"worker-{i}.log").open("w")
                procs.append(subprocess.Popen([HAETAE, "worker"], env=env, stdout=log, stderr=log))
            time.sleep(4)  # the workers' start-up: imports, first cycle
            t0 = time.time()
            publish(url)
            deadline = time.monotonic() + args.limit
            while len(arrivals.rows) < n and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # anything sent twice would arrive now
            rows = list(arrivals.rows)
            db = create_engine(url)
            with db.connect() as conn:
                states = Counter(s for (s,) in conn.execute(select(Notification.status)).all())
            db.dispose()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        sink.kill()
        cluster.stop()
    if not rows:
        print("nothing arrived")
        return 1
    last = max(at for at, _ in rows) - t0
    first = min(at for at, _ in rows) - t0
    distinct = len({rcpt for _, rcpt in rows})
    print(f"delivered: {len(rows)} messages, {distinct} distinct recipients (expected {n} each)")
    print(f"first delivery {first:.2f} s after the publish; last delivery {last:.1f} s")
    print(f"rate: {len(rows) / last:.0f} messages/s")
    print(f"outbox: {dict(states)}")
    ok = distinct == n and len(rows) == n and last <= 60
    print(("PASS" if ok else "FAIL") + f": {n} subscribers, each once, within 60 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
