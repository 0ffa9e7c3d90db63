"""The outbox's claims, settled every way a message can go: a bundle survives a crash, a
retry or a final failure with every page it carried, and a storm stays fair (the cap holds
between workers, everything waiting goes oldest first, nothing overtakes a retry).

These drive the worker's outbox entry points directly with a frozen clock, as the worker
would (claim, dispatch.prepare, complete, give_back, reclaim_expired), on the real database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.incidents import service as incidents
from haetae.incidents.schemas import IncidentDeclare
from haetae.notify import dispatch, outbox
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline
from tests.conftest import JWT_SECRET

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
PUBLIC_URL = "http://haetae.test"


@pytest.fixture
def outbox_of(db: Database, policy: Policy):
    return Outbox(db, policy)


class Outbox:
    """The worker's calls on the outbox, each in its own transaction as the worker makes them."""

    def __init__(self, db: Database, policy: Policy) -> None:
        self.db, self.policy = db, policy

    def declare(self, title: str) -> str:
        with self.db.session() as session:
            incident = incidents.declare_incident(
                session,
                self.policy,
                IncidentDeclare(title=title, business_impact="operations", user_impact="some"),
                actor="test",
                now=utcnow(),
            )
            return incident.id

    def page(self, user_id: int, incident_id: str) -> None:
        with self.db.session() as session:
            outbox.notify_user(
                session,
                user_id,
                kind="page",
                idem_key=f"page:{incident_id}:{user_id}",
                now=utcnow(),
                incident_id=incident_id,
                cancel_on="acknowledged",
            )

    def claim(self, worker: str = "w1", limit: int = 16) -> list[outbox.Claimed]:
        now = utcnow()
        with self.db.session() as session:
            claimed = outbox.claim(
                session, now=now, worker=worker, limit=limit, lease=LEASE, skip_locked=True
            )
            dispatch.prepare(
                session,
                claimed,
                policy=self.policy,
                public_url=PUBLIC_URL,
                secret=JWT_SECRET,
                now=now,
            )
            return claimed

    def complete(
        self,
        claimed: outbox.Claimed,
        *,
        ok: bool = True,
        retryable: bool = True,
        handed_at: datetime | None = None,
    ) -> bool:
        with self.db.session() as session:
            return outbox.complete(
                session,
                claimed,
                ok=ok,
                retryable=retryable,
                error=None if ok else "json://***: error=503.",
                handed_at=handed_at or utcnow(),
                now=utcnow(),
            )

    def reclaim(self) -> int:
        with self.db.session() as session:
            return outbox.reclaim_expired(session, now=utcnow(), skip_locked=True)

    def next_due(self) -> datetime | None:
        with self.db.session(write=False) as session:
            return outbox.next_due(session, now=utcnow())

    def rows(self) -> list[Notification]:
        with self.db.session(write=False) as session:
            return list(session.scalars(select(Notification).order_by(Notification.id)))

    def timeline_kinds(self, incident_id: str) -> list[str]:
        with self.db.session(write=False) as session:
            return [e.kind for e in timeline.events(session, incident_id)]


def incidents_in(claimed: outbox.Claimed) -> list[str | None]:
    return [claimed.incident_id, *(c.incident_id for c in claimed.bundled)]


def test_an_expired_bundle_is_sent_again_whole_with_the_same_words_and_key(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = [outbox_of.declare(f"Disk full {i}") for i in range(3)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    [first] = outbox_of.claim()
    assert incidents_in(first) == ids

    # The worker dies mid-send: the lease runs out and another worker reclaims it.
    clock.advance(seconds=31)
    assert outbox_of.reclaim() == 1
    [again] = outbox_of.claim(worker="w2")

    assert (again.id, again.idem_key) == (first.id, first.idem_key)
    assert incidents_in(again) == ids
    assert again.resend
    assert (again.subject, again.body) == (first.subject, first.body)
    assert all(incident_id in again.body for incident_id in ids)
    assert outbox_of.complete(again)
    rows = outbox_of.rows()
    assert [(r.status, r.sent_at is not None) for r in rows] == [
        ("sent", True),
        ("bundled", True),
        ("bundled", True),
    ]
    for incident_id in ids:
        kinds = outbox_of.timeline_kinds(incident_id)
        assert kinds.count("notification_unknown") == 1
        assert kinds.count("notification_sent") == 1


def test_a_bundle_whose_outcome_is_unknown_twice_lets_its_pages_go_in_the_next_message(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = [outbox_of.declare(f"Queue stuck {i}") for i in range(3)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    for _ in range(2):  # claimed, and its worker dies, twice
        outbox_of.claim()
        clock.advance(seconds=31)
        outbox_of.reclaim()

    [next_message] = outbox_of.claim()
    assert incidents_in(next_message) == ids[1:]  # under the first carried page's own key
    assert next_message.resend is False
    outbox_of.complete(next_message)
    statuses = [(r.incident_id, r.status) for r in outbox_of.rows()]
    assert statuses == [(ids[0], "failed"), (ids[1], "sent"), (ids[2], "bundled")]


def test_a_retried_bundle_carries_the_same_pages_and_words_under_the_same_key(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = [outbox_of.declare(f"Checkout slow {i}") for i in range(3)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    [first] = outbox_of.claim()
    outbox_of.complete(first, ok=False)  # 503: retried in 10 s
    later = outbox_of.declare("Checkout slow, later")
    clock.advance(seconds=1)
    outbox_of.page(alice, later)

    clock.advance(seconds=9)
    [retry] = outbox_of.claim()
    assert (retry.id, retry.idem_key, retry.attempt) == (first.id, first.idem_key, 2)
    assert incidents_in(retry) == ids  # not the later page: it was not in the first send
    assert (retry.subject, retry.body) == (first.subject, first.body)
    outbox_of.complete(retry)

    clock.advance(seconds=13)
    [after] = outbox_of.claim()
    assert incidents_in(after) == [later]


def test_two_workers_never_send_to_one_contact_method_at_once_nor_within_12_s(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    first, second = outbox_of.declare("API errors"), outbox_of.declare("API errors again")
    outbox_of.page(alice, first)
    [in_flight] = outbox_of.claim(worker="w1")

    clock.advance(seconds=1)
    outbox_of.page(alice, second)
    assert outbox_of.claim(worker="w2") == []  # one in flight to alice already
    outbox_of.complete(in_flight)  # handed over at T0 + 1 s
    clock.advance(seconds=11)
    assert outbox_of.claim(worker="w2") == []  # 11 s after the last message
    clock.advance(seconds=1)
    [next_message] = outbox_of.claim(worker="w2")
    assert incidents_in(next_message) == [second]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_storm_to_one_person_holds_five_a_minute_and_pages_each_incident_within_12_s(
    outbox_of: Outbox, make_user, workers: int
):
    """A page every 2 s for 3 minutes to one person, worked by alternating workers."""
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    due: dict[str, datetime] = {}
    handed: dict[str, datetime] = {}
    messages: list[datetime] = []
    for second in range(0, 200):
        if second % 2 == 0 and second < 180:
            incident_id = outbox_of.declare(f"Storm {second}")
            outbox_of.page(alice, incident_id)
            due[incident_id] = utcnow()
        for claimed in outbox_of.claim(worker=f"w{second % workers}"):
            messages.append(utcnow())
            for incident_id in incidents_in(claimed):
                assert incident_id is not None and incident_id not in handed
                handed[incident_id] = utcnow()
            outbox_of.complete(claimed)
        clock.advance(seconds=1)

    assert set(handed) == set(due)  # every incident paged, once
    for i in range(len(messages) - THROTTLE):
        assert messages[i + THROTTLE] - messages[i] >= timedelta(minutes=1), messages
    waits = [handed[i] - due[i] for i in due]
    assert max(waits) <= outbox.SPACING
    order = sorted(due, key=lambda i: due[i])
    assert [handed[i] for i in order] == sorted(handed[i] for i in order)  # oldest first


THROTTLE = outbox.THROTTLE_COUNT


def test_everything_waiting_goes_in_the_next_message_oldest_first(outbox_of: Outbox, make_user):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = []
    for i in range(30):
        ids.append(outbox_of.declare(f"Node down {i}"))
        outbox_of.page(alice, ids[-1])
        clock.advance(seconds=0.1)

    [message] = outbox_of.claim(limit=5)  # room for five messages, not five rows

    assert incidents_in(message) == ids
    positions = [message.body.index(incident_id) for incident_id in ids]
    assert positions == sorted(positions)
    assert "30 incidents are paging you" in message.subject


def test_a_retry_in_backoff_is_not_overtaken_by_a_later_page(outbox_of: Outbox, make_user):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    first, second = outbox_of.declare("DNS down"), outbox_of.declare("Mail down")
    outbox_of.page(alice, first)
    [attempt] = outbox_of.claim()
    outbox_of.complete(attempt, ok=False)  # retried at T0 + 10 s

    clock.advance(seconds=1)
    outbox_of.page(alice, second)
    for _ in range(8):
        assert outbox_of.claim() == []
        clock.advance(seconds=1)
    assert outbox_of.next_due() == T0 + timedelta(seconds=10)
    clock.advance(seconds=1)
    [retry] = outbox_of.claim()
    assert incidents_in(retry) == [first]
    outbox_of.complete(retry)
    assert outbox_of.next_due() == T0 + timedelta(seconds=10) + outbox.SPACING
    clock.advance(seconds=13)
    [later] = outbox_of.claim()
    assert incidents_in(later) == [second]


def test_a_slow_send_moves_the_next_message_so_the_receiver_never_sees_two_within_12_s(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    outbox_of.page(alice, outbox_of.declare("One"))
    [first] = outbox_of.claim()
    clock.advance(seconds=4)  # the receiver took 4 s to answer: it got the message by then
    outbox_of.complete(first, handed_at=T0)
    outbox_of.page(alice, outbox_of.declare("Two"))

    assert outbox_of.next_due() == T0 + timedelta(seconds=4) + outbox.SPACING
    clock.advance(seconds=11)  # 15 s after the first was handed over, 11 s after it arrived
    assert outbox_of.claim() == []


def test_the_next_due_moment_of_a_throttled_contact_method_is_when_its_throttle_lets_go(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    bob = make_user("bob", "json://127.0.0.1:9/bob")
    outbox_of.page(alice, outbox_of.declare("One"))
    outbox_of.complete(outbox_of.claim()[0])
    clock.advance(seconds=2)
    outbox_of.page(alice, outbox_of.declare("Two"))

    assert outbox_of.next_due() == T0 + outbox.SPACING  # not T0 + 2 s: no busy loop
    outbox_of.page(bob, outbox_of.declare("Three"))
    assert outbox_of.next_due() == T0 + timedelta(seconds=2)  # bob may be paged now


def test_a_bundle_that_fails_for_good_sends_each_of_its_pages_to_the_next_contact_method(
    outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user(
        "alice", "json://127.0.0.1:9/alice", "mailto://127.0.0.1:9?to=a@x.test&from=h@x.test"
    )
    ids = [outbox_of.declare(f"Login broken {i}") for i in range(3)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    [bundle] = outbox_of.claim()
    outbox_of.complete(bundle, ok=False, retryable=False)  # 404: waiting will not fix it

    [by_mail] = outbox_of.claim()
    assert by_mail.url.startswith("mailto://")
    assert incidents_in(by_mail) == ids
    failed = [r for r in outbox_of.rows() if r.status == "failed"]
    assert sorted(r.incident_id or "" for r in failed) == sorted(ids)
    for incident_id in ids:
        assert "notification_failed" in outbox_of.timeline_kinds(incident_id)


def test_acknowledging_the_incident_of_a_retried_bundle_lets_its_other_pages_go_on(
    db: Database, outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = [outbox_of.declare(f"Cache cold {i}") for i in range(3)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    [bundle] = outbox_of.claim()
    outbox_of.complete(bundle, ok=False)
    with db.session() as session:
        outbox.cancel_for_incident(session, ids[0], reasons=("acknowledged", "resolved"))

    clock.advance(seconds=10)
    [rest] = outbox_of.claim()
    assert incidents_in(rest) == ids[1:]
    assert rest.idem_key != bundle.idem_key


def test_a_claim_given_back_before_its_send_is_worded_afresh_with_what_waits(
    db: Database, outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    ids = [outbox_of.declare(f"Batch late {i}") for i in range(2)]
    for incident_id in ids:
        outbox_of.page(alice, incident_id)
    [claimed] = outbox_of.claim()
    third = outbox_of.declare("Batch late 2")
    outbox_of.page(alice, third)
    with db.session() as session:
        assert outbox.give_back(session, claimed)

    [again] = outbox_of.claim()  # at once: nothing was sent
    assert again.resend is False
    assert incidents_in(again) == [*ids, third]
    assert "3 incidents are paging you" in again.subject


def test_a_page_whose_contact_method_was_deleted_fails_instead_of_waiting_forever(
    db: Database, outbox_of: Outbox, make_user
):
    clock.freeze(T0)
    alice = make_user("alice", "json://127.0.0.1:9/alice")
    incident_id = outbox_of.declare("Printer on fire")
    outbox_of.page(alice, incident_id)
    with db.session() as session:
        for method in session.scalars(select(ContactMethod)):
            session.delete(method)

    assert outbox_of.claim() == []
    [row] = outbox_of.rows()
    assert (row.status, row.last_error) == ("failed", "the contact method was removed or disabled")
    assert outbox_of.next_due() is None
