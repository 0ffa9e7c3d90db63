"""Post-mortem deadline reminders and action item due-date reminders, with the clock moved,
delivered by a real worker to a real SMTP server (issue 11, parts 2 and 4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import func, select

from haetae.actions import service as actions
from haetae.actions.models import ActionItem
from haetae.clock import clock
from haetae.db import Database
from haetae.notify import outbox
from haetae.notify.models import Notification
from haetae.policy.loader import default_policy
from haetae.policy.schema import Policy
from haetae.postmortems import jobs as postmortem_jobs
from haetae.postmortems import service as postmortems
from haetae.postmortems.models import Postmortem
from haetae.timeline.models import TimelineEvent
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare, move
from tests.conftest import JWT_SECRET
from tests.support import people
from tests.support.server import RunningServer
from tests.support.smtp import SmtpServer, body_of, subject_of

# Thursday 10:00 in Seoul (the default policy's zone). Monday 30 November is a holiday in
# this policy, so the meeting's 3 business days are Friday, Tuesday and Wednesday.
RESOLVED = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
HOLIDAY = date(2026, 11, 30)
P3 = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}
P2 = {"title": "Exports slow", "business_impact": "revenue", "user_impact": "some"}


def _holiday_policy() -> Policy:
    base = default_policy()
    hours = base.business_hours.model_copy(update={"holidays": [HOLIDAY]})
    return base.model_copy(update={"business_hours": hours})


POLICY = _holiday_policy()


@pytest.fixture
def reminder_worker(db: Database, server: RunningServer) -> Iterator[Worker]:
    running = Worker(db, POLICY, WorkerConfig(public_url=server.url, secret=JWT_SECRET))
    yield running
    running.stop()


def _user(db: Database, smtp: SmtpServer, name: str, locale: str = "en") -> None:
    people.make_user(
        db,
        name,
        smtp.url(to=f"{name}@example.com"),
        password=None,
        locale=locale,
        display_name=name.title(),
        email=f"{name}@example.com",
    )


def _resolved_incident(api: httpx.Client, *, ic: str, fields: dict[str, str] = P3) -> str:
    incident_id = str(declare(api, **fields)["id"])
    held = api.put(f"/api/v1/incidents/{incident_id}/roles/ic", json={"assignee": ic})
    assert held.status_code == 200, held.text
    update = {"situation": "Rolled back", "impact": "exports", "progress": "done"}
    posted = api.post(f"/api/v1/incidents/{incident_id}/updates", json=update)
    assert posted.status_code == 201, posted.text
    # The default policy's resolution conditions a responder confirms (P1/P2 ask for more).
    conditions = ["core_functions_verified"]
    if fields is not P3:
        conditions += ["metrics_normal_30m", "recovery_notice_sent"]
    for condition in conditions:
        checked = api.post(f"/api/v1/incidents/{incident_id}/conditions/{condition}", json={})
        assert checked.status_code == 200, checked.text
    resolved = move(api, incident_id, "resolved")
    assert resolved.status_code == 200, resolved.text
    return incident_id


def _start_postmortem(db: Database, incident_id: str, *, author: str) -> int:
    """A post-mortem started by `author` as the incident is resolved (its deadlines count
    from the resolution)."""
    with db.session() as session:
        return postmortems.start(session, POLICY, incident_id, by=author, now=RESOLVED).id


def _submit(db: Database, incident_id: str, *, by: str, at: datetime) -> None:
    """The draft sent for review: that meets the draft deadline."""
    with db.session() as session:
        postmortems.submit(session, POLICY, incident_id, by=by, now=at)


def _to(smtp: SmtpServer, name: str, marker: str) -> list[EmailMessage]:
    return [
        m for m in smtp.messages if m["To"] == f"{name}@example.com" and marker in subject_of(m)
    ]


def _at(worker: Worker, when: datetime) -> None:
    """A worker's cycle at `when`, and one more after the spacing between two messages to
    one contact method, so that a message queued behind another has gone out too."""
    clock.freeze(when)
    worker.run_once()
    clock.advance(seconds=outbox.SPACING.total_seconds())
    worker.run_once()


def _events(db: Database, incident_id: str, kind: str) -> list[TimelineEvent]:
    with db.session(write=False) as session:
        return list(
            session.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == incident_id, TimelineEvent.kind == kind
                )
            )
        )


def test_the_author_and_the_ic_get_one_draft_reminder_each_then_one_overdue_flag(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "minji", locale="ko")
    incident_id = _resolved_incident(api, ic="minji")
    _start_postmortem(db, incident_id, author="alice")
    reminder_worker.run_once()  # the resolution notice to the IC goes out now

    _at(reminder_worker, RESOLVED + timedelta(hours=19, minutes=59))
    assert _to(smtp_server, "alice", "Post-mortem") == []
    assert _to(smtp_server, "minji", "포스트모템") == []

    _at(reminder_worker, RESOLVED + timedelta(hours=20))  # 4 h before the 24 h draft deadline
    [english] = _to(smtp_server, "alice", "Post-mortem deadline soon")
    [korean] = _to(smtp_server, "minji", "포스트모템 기한 임박")
    assert "Report draft" in subject_of(english) and incident_id in subject_of(english)
    assert "장애 보고서 초안" in subject_of(korean) and incident_id in subject_of(korean)
    for mail in (english, korean):
        assert "2026-11-27 10:00 KST" in body_of(mail)  # the due time in the policy's zone
        assert f"/postmortems/{incident_id}" in body_of(mail)
        assert "Exports slow" in body_of(mail)

    _at(reminder_worker, RESOLVED + timedelta(hours=20, minutes=5))  # another look
    assert len(_to(smtp_server, "alice", "Post-mortem")) == 1
    assert len(_to(smtp_server, "minji", "포스트모템")) == 1
    assert _events(db, incident_id, "postmortem_overdue") == []

    _at(reminder_worker, RESOLVED + timedelta(hours=24))
    [overdue] = _to(smtp_server, "alice", "Post-mortem overdue")
    [overdue_ko] = _to(smtp_server, "minji", "포스트모템 기한 초과")
    assert "Report draft" in subject_of(overdue) and "장애 보고서 초안" in subject_of(overdue_ko)
    [event] = _events(db, incident_id, "postmortem_overdue")
    assert event.data["deadline"] == "draft"

    _at(reminder_worker, RESOLVED + timedelta(hours=24, minutes=5))
    assert len(_to(smtp_server, "alice", "Post-mortem overdue")) == 1
    assert len(_events(db, incident_id, "postmortem_overdue")) == 1


def test_a_draft_submitted_in_time_is_never_flagged_overdue(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "bob")
    incident_id = _resolved_incident(api, ic="bob")
    _start_postmortem(db, incident_id, author="alice")
    _at(reminder_worker, RESOLVED + timedelta(hours=21))
    assert len(_to(smtp_server, "alice", "Report draft")) == 1

    _submit(db, incident_id, by="alice", at=RESOLVED + timedelta(hours=22))
    _at(reminder_worker, RESOLVED + timedelta(hours=25))

    assert _to(smtp_server, "alice", "overdue") == []
    assert _to(smtp_server, "bob", "overdue") == []
    assert _events(db, incident_id, "postmortem_overdue") == []


def test_the_meeting_deadline_counts_business_days_past_a_weekend_and_a_holiday(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "bob")
    incident_id = _resolved_incident(api, ic="bob")
    _start_postmortem(db, incident_id, author="alice")
    _submit(db, incident_id, by="alice", at=RESOLVED)
    meeting = "Post-mortem meeting"

    # Thursday + 3 business days (Fri; Sat, Sun and the Monday holiday skipped; Tue; Wed):
    # due at the end of Wednesday 2 December in Seoul, reminded a day before.
    _at(reminder_worker, datetime(2026, 12, 1, 14, 59, tzinfo=UTC))  # Tuesday 23:59 KST
    assert _to(smtp_server, "alice", meeting) == []
    _at(reminder_worker, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # Wednesday 00:00 KST
    [soon] = _to(smtp_server, "alice", meeting)
    assert "deadline soon" in subject_of(soon)
    assert "2026-12-03 00:00 KST" in body_of(soon)
    assert len(_to(smtp_server, "bob", meeting)) == 1

    _at(reminder_worker, datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert len(_to(smtp_server, "alice", f"overdue: {meeting}")) == 1
    # Each flagged once; the 48-hour one may be flagged in an earlier pass or the same one.
    flagged = [e.data["deadline"] for e in _events(db, incident_id, "postmortem_overdue")]
    assert sorted(flagged) == ["meeting", "published"]


def test_a_postmortem_started_by_the_resolve_reminds_its_author_the_ic_once(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    """A P2 starts its post-mortem on resolve with the IC as its author: one person, one
    message."""
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    incident_id = _resolved_incident(api, ic="alice", fields=P2)
    with db.session(write=False) as session:
        [pm] = session.scalars(select(Postmortem).where(Postmortem.incident_id == incident_id))
        assert (pm.author, pm.started_by) == ("alice", "system")
    _at(reminder_worker, RESOLVED + timedelta(hours=21))
    assert len(_to(smtp_server, "alice", "Report draft")) == 1


def test_a_second_look_with_stale_work_or_a_lost_mark_sends_nothing_again(
    api: httpx.Client, db: Database, smtp_server: SmtpServer
) -> None:
    """Two workers that read the same due post-mortem, or a mark lost after the messages were
    queued: the locked row's mark and then the outbox's idempotency keys keep it to one."""
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "bob")
    incident_id = _resolved_incident(api, ic="bob")
    pm_id = _start_postmortem(db, incident_id, author="alice")
    now = RESOLVED + timedelta(hours=21)
    with db.session(write=False) as session:
        ids = postmortem_jobs.due_postmortems(session, POLICY, now=now, limit=10)
    assert ids == [pm_id]

    def queued() -> int:
        with db.session(write=False) as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.kind == "postmortem_deadline")
                )
                or 0
            )

    for _ in range(2):
        with db.session() as session:
            postmortem_jobs.remind_deadlines(session, POLICY, now=now, ids=ids)
    assert queued() == 2  # alice and bob, once each

    with db.session() as session:
        pm = session.get(Postmortem, pm_id)
        assert pm is not None
        assert pm.reminded == {"draft": ["before"]}
        pm.reminded = {}
    with db.session() as session:
        postmortem_jobs.remind_deadlines(session, POLICY, now=now, ids=ids)
    assert queued() == 2


def _item(
    db: Database,
    *,
    owner: str | None,
    due: date,
    incident_id: str | None = None,
    column: str = "backlog",
) -> int:
    with db.session() as session:
        item = actions.create_item(
            session,
            POLICY,
            title="Add a queue depth alert",
            by="alice",
            now=clock.now(),
            incident_id=incident_id,
            owner=owner,
            due_date=due,
            priority="high",
            column=column,
        )
        return item.id


def test_an_action_item_owner_is_reminded_the_business_day_before_and_when_overdue(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "minji", locale="ko")
    incident_id = _resolved_incident(api, ic="alice")
    item_id = _item(db, owner="minji", due=date(2026, 11, 27), incident_id=incident_id)

    # Due Friday: reminded from the start of business hours (09:00 KST) on Thursday.
    _at(reminder_worker, datetime(2026, 11, 25, 23, 59, tzinfo=UTC))
    assert _to(smtp_server, "minji", "액션 아이템") == []
    _at(reminder_worker, datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    [soon] = _to(smtp_server, "minji", "액션 아이템 마감 임박")
    assert "AI-001" in subject_of(soon) and "2026-11-27" in subject_of(soon)
    assert "우선순위: 상" in body_of(soon) and incident_id in body_of(soon)
    _at(reminder_worker, datetime(2026, 11, 26, 0, 5, tzinfo=UTC))
    assert len(_to(smtp_server, "minji", "액션 아이템")) == 1

    # Overdue once Friday has ended in Seoul.
    _at(reminder_worker, datetime(2026, 11, 27, 14, 59, tzinfo=UTC))
    assert _to(smtp_server, "minji", "기한 초과") == []
    _at(reminder_worker, datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    [overdue] = _to(smtp_server, "minji", "액션 아이템 기한 초과")
    assert "AI-001" in subject_of(overdue)
    [event] = _events(db, incident_id, "action_item_overdue")
    assert event.data["item"] == "AI-001"
    _at(reminder_worker, datetime(2026, 11, 27, 15, 5, tzinfo=UTC))
    assert len(_to(smtp_server, "minji", "기한 초과")) == 1

    # A new due date (Monday 7 December) is reminded again, from Friday 4 December.
    with db.session() as session:
        item = session.get(ActionItem, item_id)
        assert item is not None
        actions.edit(session, POLICY, item, by="alice", now=clock.now(), due_date=date(2026, 12, 7))
    _at(reminder_worker, datetime(2026, 12, 3, 23, 59, tzinfo=UTC))
    assert len(_to(smtp_server, "minji", "마감 임박")) == 1
    _at(reminder_worker, datetime(2026, 12, 4, 0, 0, tzinfo=UTC))
    [_, again] = _to(smtp_server, "minji", "마감 임박")
    assert "2026-12-07" in subject_of(again)


def test_a_done_or_unowned_action_item_is_silent(
    api: httpx.Client, db: Database, reminder_worker: Worker, smtp_server: SmtpServer
) -> None:
    clock.freeze(RESOLVED)
    _user(db, smtp_server, "alice")
    _user(db, smtp_server, "bob")
    _item(db, owner="alice", due=date(2026, 11, 20), column="done")
    _item(db, owner=None, due=date(2026, 11, 20))
    _item(db, owner="bob", due=date(2026, 11, 20))  # the same, open and owned: flagged

    _at(reminder_worker, RESOLVED)
    [flagged] = _to(smtp_server, "bob", "Action item overdue")
    assert "AI-003" in subject_of(flagged)
    assert _to(smtp_server, "alice", "Action item") == []
