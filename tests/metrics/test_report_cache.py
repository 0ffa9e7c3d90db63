"""The metrics report cache: one build per report at a time, never a stampede of builds."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import delete, func, select

from haetae.clock import utcnow
from haetae.db import Database
from haetae.incidents import service
from haetae.incidents.schemas import IncidentDeclare
from haetae.metrics import facts, queries
from haetae.metrics.facts import MetricFact
from haetae.policy.schema import Policy


def test_one_request_builds_a_report_while_the_others_wait_or_read_the_kept_one(
    db: Database,
) -> None:
    key = ("test", uuid.uuid4().hex)
    builds: list[int] = []
    started = threading.Event()

    def build() -> int:
        builds.append(1)
        started.set()
        time.sleep(0.4)  # a slow build: every other asker arrives while it runs
        return len(builds)

    def ask(minute: int, out: list[int]) -> None:
        with db.session(write=False) as session:
            out.append(queries._cached(key, session, build, minute))

    # Nothing kept yet: six at once, one build, all six get it.
    first: list[int] = []
    threads = [threading.Thread(target=ask, args=(1, first)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert builds == [1] and first == [1] * 6

    # The next minute: one asker builds it again; one arriving meanwhile is answered the
    # report kept before instead of waiting or building a second time.
    started.clear()
    fresh: list[int] = []
    builder = threading.Thread(target=ask, args=(2, fresh))
    builder.start()
    assert started.wait(5)
    meanwhile: list[int] = []
    ask(2, meanwhile)
    builder.join(10)
    assert meanwhile == [1] and fresh == [2] and len(builds) == 2
    # Built for this minute now: read from the cache.
    again: list[int] = []
    ask(2, again)
    assert again == [2] and len(builds) == 2


def test_two_transactions_refreshing_one_incident_at_once_both_commit(
    db: Database, policy: Policy
) -> None:
    # An alert arriving while a responder edits the incident: both transactions write its
    # facts. With the row missing, a delete-then-insert had both insert it, and the second
    # failed on the primary key (PostgreSQL), failing a page sender's transaction with it.
    with db.session() as session:
        incident = service.declare_incident(
            session,
            policy,
            IncidentDeclare(title="Checkout down", severity="P2", severity_reason="test"),
            actor="ops",
            now=utcnow(),
        )
        incident_id = incident.id
    with db.session() as session:
        session.execute(delete(MetricFact))
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with db.session() as other:
                facts.refresh(other, [incident_id])
        except BaseException as exc:
            errors.append(exc)

    with db.session() as first:
        facts.refresh(first, [incident_id])
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second is now waiting on the first's row (PostgreSQL)
    thread.join(10)
    assert errors == []
    with db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(MetricFact)) == 1
