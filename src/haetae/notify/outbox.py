"""The outbox: notifications are rows first, written in the transaction of the change that
caused them, then claimed, sent and settled by the worker.

States: pending -> sending (claimed, with a lease) -> sent | pending (retry, backoff) |
failed; pending -> canceled (ack or resolve first) | bundled (sent inside another message).
A `sending` row whose lease ran out means the worker died mid-send: the outcome is
unknown, so it is sent once more with the same idempotency key, then given up.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod, NotificationRule
from haetae.timeline import service as timeline

MAX_ATTEMPTS = 4  # then the user's next contact method
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=5)
# Per contact method: at most this many messages a minute; the rest wait and go out as
# one bundle, so a storm does not send a person hundreds of messages.
THROTTLE_COUNT = 5
THROTTLE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Target:
    """Where one notification goes: a contact method and its owner."""

    contact_method_id: int
    delay_minutes: int


def targets_for(session: Session, user_id: int) -> list[Target]:
    """The user's notification rules; without rules, the first enabled contact method at
    once. Empty when the user cannot be reached."""
    return targets_by_user(session, [user_id])[user_id]


def targets_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, list[Target]]:
    """targets_for of several users in one query (a rule always names one of its owner's
    contact methods)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ContactMethod.user_id, ContactMethod.id, NotificationRule.delay_minutes)
        .outerjoin(
            NotificationRule,
            (NotificationRule.contact_method_id == ContactMethod.id)
            & (NotificationRule.user_id == ContactMethod.user_id),
        )
        .where(ContactMethod.user_id.in_(ids), ContactMethod.enabled.is_(True))
        .order_by(NotificationRule.delay_minutes, ContactMethod.position, ContactMethod.id)
    ).all()
    methods: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for owner, cm, delay in rows:
        methods[owner].append((cm, delay))
    found: dict[int, list[Target]] = {}
    for user_id in ids:
        mine = methods.get(user_id, [])
        rules = [Target(cm, delay) for cm, delay in mine if delay is not None]
        found[user_id] = rules or ([Target(mine[0][0], 0)] if mine else [])
    return found


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Queue rows made by `rows_for_user` (a slice of steps' pages in one statement)."""
    unique = list({row["idem_key"]: row for row in rows}.values())
    return _insert_new(session, unique)


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping rows whose idempotency key exists: a replayed step pages nobody."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, Notification.__table__)
    statement = insert(table).on_conflict_do_nothing(index_elements=["idem_key"])
    return max(session.connection().execute(statement, rows).rowcount, 0)


def _row(
    *,
    idem_key: str,
    kind: str,
    user_id: int | None,
    contact_method_id: int,
    due_at: datetime,
    now: datetime,
    incident_id: str | None = None,
    escalation_id: int | None = None,
    cancel_on: str = "never",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "idem_key": idem_key,
        "kind": kind,
        "incident_id": incident_id,
        "escalation_id": escalation_id,
        "user_id": user_id,
        "contact_method_id": contact_method_id,
        "cancel_on": cancel_on,
        "data": data or {},
        "subject": "",
        "body": "",
        "status": "pending",
        "attempts": 0,
        "unknown_retries": 0,
        "due_at": due_at,
        "created_at": now,
    }


def notify_user(
    session: Session,
    user_id: int,
    *,
    kind: str,
    idem_key: str,
    now: datetime,
    incident_id: str | None = None,
    escalation_id: int | None = None,
    cancel_on: str = "never",
    data: dict[str, Any] | None = None,
    first_method_only: bool = False,
) -> int | None:
    """Queue one message to a user through their notification rules. Returns how many rows
    were new, or None when the user has no contact method to reach them by."""
    targets = targets_for(session, user_id)
    if not targets:
        return None
    if first_method_only:
        targets = [Target(targets[0].contact_method_id, 0)]
    rows = rows_for_user(
        user_id,
        targets,
        kind=kind,
        idem_key=idem_key,
        now=now,
        incident_id=incident_id,
        escalation_id=escalation_id,
        cancel_on=cancel_on,
        data=data,
    )
    return _insert_new(session, rows)


def rows_for_user(
    user_id: int,
    targets: list[Target],
    *,
    kind: str,
    idem_key: str,
    now: datetime,
    incident_id: str | None = None,
    escalation_id: int | None = None,
    cancel_on: str = "never",
    data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """notify_user's outbox rows, for a caller that looks up targets and inserts in bulk."""
    return [
        _row(
            idem_key=f"{idem_key}:cm{t.contact_method_id}:{t.delay_minutes}",
            kind=kind,
            user_id=user_id,
            contact_method_id=t.contact_method_id,
            due_at=now + timedelta(minutes=t.delay_minutes),
            now=now,
            incident_id=incident_id,
            escalation_id=escalation_id,
            cancel_on=cancel_on,
            data=data,
        )
        for t in targets
    ]


def enqueue_test(
    session: Session, contact_method: ContactMethod, *, by: str, now: datetime
) -> Notification:
    """A test message to one contact method ("send test notification")."""
    key = f"test:{contact_method.id}:{uuid.uuid4().hex}"
    _insert_new(
        session,
        [
            _row(
                idem_key=key,
                kind="test",
                user_id=contact_method.user_id,
                contact_method_id=contact_method.id,
                due_at=now,
                now=now,
                data={"requested_by": by},
            )
        ],
    )
    return session.scalars(select(Notification).where(Notification.idem_key == key)).one()


def cancel_for_incident(session: Session, incident_id: str, *, reasons: tuple[str, ...]) -> int:
    """Cancel pending messages that `reasons` (acknowledged, resolved) make pointless."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.incident_id == incident_id,
            Notification.status == "pending",
            Notification.cancel_on.in_(reasons),
        )
        .values(status="canceled", last_error=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def paged_users(session: Session, incident_id: str) -> list[int]:
    """Users a page or escalation about the incident reached."""
    return list(
        session.scalars(
            select(Notification.user_id)
            .where(
                Notification.incident_id == incident_id,
                Notification.kind.in_(("page", "escalation")),
                Notification.status.in_(("sent", "bundled")),
                Notification.user_id.is_not(None),
            )
            .distinct()
        )
    )


# The worker's side


@dataclass
class Claimed:
    """A message handed to a sender: one row, or one carrying others (`bundled`)."""

    id: int
    attempt: int
    kind: str
    url: str
    idem_key: str
    user_id: int | None
    locale: str
    incident_id: str | None
    data: dict[str, Any]
    bundled: list[Notification] = field(default_factory=list)
    lease_until: datetime | None = None
    # filled in by the sender
    subject: str = ""
    body: str = ""


def next_due(session: Session, *, now: datetime) -> datetime | None:
    """The earliest moment a claim could take something (the worker sleeps until then):
    the first pending row's due time. None when nothing is pending."""
    return session.scalar(
        select(func.min(Notification.due_at)).where(Notification.status == "pending")
    )


def reclaim_expired(session: Session, *, now: datetime, skip_locked: bool) -> int:
    """Sends whose worker died mid-send: retry once with the same key, then give up."""
    query = (
        select(Notification)
        .where(Notification.status == "sending", Notification.lease_until < now)
        .limit(500)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        if row.unknown_retries == 0:
            row.status, row.unknown_retries, row.due_at = "pending", 1, now
            outcome = "outcome unknown (the sender stopped mid-send); sending once more"
        else:
            row.status = "failed"
            row.last_error = "outcome unknown twice; not sent again"
            outcome = row.last_error
        if row.incident_id:
            timeline.record(
                session,
                row.incident_id,
                kind="notification_unknown",
                actor="haetae",
                at=now,
                summary=f"{row.kind} #{row.id}: {outcome}",
                notification_id=row.id,
            )
    return len(rows)


def claim(
    session: Session,
    *,
    now: datetime,
    worker: str,
    limit: int,
    lease: timedelta,
    skip_locked: bool,
) -> list[Claimed]:
    """Take due messages: cancel the ones an ack or resolve made pointless, hold back what
    a contact method's throttle does not allow yet, bundle several for one contact method
    into one message, and lease the rest to this worker."""
    query = (
        select(Notification)
        .where(Notification.status == "pending", Notification.due_at <= now)
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    if not rows:
        return []
    incidents = _incident_states(session, {r.incident_id for r in rows if r.incident_id})
    live: list[Notification] = []
    for row in rows:
        if _pointless(row, incidents.get(row.incident_id or "")):
            row.status = "canceled"
            row.last_error = "the incident was acknowledged or resolved first"
        else:
            live.append(row)
    by_contact: dict[int | None, list[Notification]] = defaultdict(list)
    for row in live:
        by_contact[row.contact_method_id].append(row)
    methods = _contact_methods(session, {cm for cm in by_contact if cm is not None})
    recent = _recent_counts(session, [cm for cm in by_contact if cm is not None], now=now)
    claimed: list[Claimed] = []
    for cm_id, group in by_contact.items():
        method, locale = methods.get(cm_id, (None, "en")) if cm_id else (None, "en")
        if method is None or not method.enabled:
            for row in group:
                _settle_unreachable(session, row, now=now)
            continue
        if recent.get(method.id, 0) >= THROTTLE_COUNT:
            later = now + THROTTLE_WINDOW / THROTTLE_COUNT
            for row in group:
                row.due_at = later
            continue
        carrier, rest = group[0], group[1:]
        for row in rest:
            row.status, row.bundle_id = "bundled", carrier.id
        carrier.status = "sending"
        carrier.attempts += 1
        carrier.lease_until = now + lease
        carrier.worker = worker
        claimed.append(
            Claimed(
                id=carrier.id,
                attempt=carrier.attempts,
                lease_until=carrier.lease_until,
                kind=carrier.kind if not rest else "bundle",
                url=method.url,
                idem_key=carrier.idem_key,
                user_id=carrier.user_id,
                locale=locale,
                incident_id=carrier.incident_id,
                data=dict(carrier.data or {}),
                bundled=rest,
            )
        )
    return claimed


def _incident_states(session: Session, ids: set[str]) -> dict[str, tuple[str, bool]]:
    if not ids:
        return {}
    found = session.execute(
        select(Incident.id, Incident.status, Incident.acknowledged_at).where(Incident.id.in_(ids))
    ).all()
    return {i: (status, acked is not None) for i, status, acked in found}


def _pointless(row: Notification, state: tuple[str, bool] | None) -> bool:
    if row.cancel_on == "never" or state is None:
        return False
    status, acknowledged = state
    if status not in lifecycle.ACTIVE:
        return True
    return row.cancel_on == "acknowledged" and acknowledged


def _contact_methods(session: Session, ids: set[int]) -> dict[int, tuple[ContactMethod, str]]:
    if not ids:
        return {}
    found = session.execute(
        select(ContactMethod, User.locale)
        .join(User, User.id == ContactMethod.user_id)
        .where(ContactMethod.id.in_(ids))
    ).all()
    return {cm.id: (cm, locale or "en") for cm, locale in found}


def _recent_counts(session: Session, ids: list[int], *, now: datetime) -> dict[int, int]:
    if not ids:
        return {}
    found = session.execute(
        select(Notification.contact_method_id, func.count())
        .where(
            Notification.contact_method_id.in_(ids),
            Notification.sent_at > now - THROTTLE_WINDOW,
            Notification.status == "sent",
        )
        .group_by(Notification.contact_method_id)
    ).all()
    return {cm: count for cm, count in found if cm is not None}


def _settle_unreachable(session: Session, row: Notification, *, now: datetime) -> None:
    row.status = "failed"
    row.last_error = "the contact method was removed or disabled"
    _fall_back(session, row, now=now)


def _still_sending(session: Session, claimed: Claimed) -> Notification | None:
    """The claimed row, locked, if it is still this attempt's: the fencing condition that
    makes a late answer from a worker whose lease ran out change nothing."""
    return session.scalars(
        select(Notification)
        .where(
            Notification.id == claimed.id,
            Notification.attempts == claimed.attempt,
            Notification.status == "sending",
        )
        .with_for_update()
    ).one_or_none()


def give_back(session: Session, claimed: Claimed) -> bool:
    """A claim its sender never started (it waited too long for a free sender): pending
    again at once, so that it is not taken for a send whose outcome is unknown."""
    row = _still_sending(session, claimed)
    if row is None:
        return False
    row.status, row.lease_until, row.attempts = "pending", None, row.attempts - 1
    _settle_bundled(session, claimed, sent_at=None)
    return True


def _settle_bundled(session: Session, claimed: Claimed, *, sent_at: datetime | None) -> None:
    """The rows a bundle carried: sent with it, or (sent_at None) pending on their own
    again. By statement: the claim's row objects belong to a closed session."""
    ids = [other.id for other in claimed.bundled]
    if not ids:
        return
    values: dict[str, Any] = (
        {"sent_at": sent_at} if sent_at is not None else {"status": "pending", "bundle_id": None}
    )
    session.execute(
        update(Notification)
        .where(
            Notification.id.in_(ids),
            Notification.status == "bundled",
            Notification.bundle_id == claimed.id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def complete(
    session: Session,
    claimed: Claimed,
    *,
    ok: bool,
    retryable: bool,
    error: str | None,
    handed_at: datetime,
    now: datetime,
) -> bool:
    """Record a send's outcome. The fencing condition (this attempt, still sending) makes a
    late answer from a worker whose lease ran out change nothing. False: it did not."""
    row = _still_sending(session, claimed)
    if row is None:
        return False
    row.subject, row.body = claimed.subject[:300], claimed.body
    row.handed_at = handed_at
    row.lease_until = None
    involved = [row, *claimed.bundled]
    if ok:
        row.status, row.sent_at, row.last_error = "sent", now, None
        _settle_bundled(session, claimed, sent_at=now)
        result = "sent" + (f" (with {len(claimed.bundled)} more)" if claimed.bundled else "")
    elif retryable and row.attempts < MAX_ATTEMPTS:
        row.status, row.last_error = "pending", error
        row.due_at = now + min(BACKOFF_FIRST * 2 ** (row.attempts - 1), BACKOFF_MAX)
        _settle_bundled(session, claimed, sent_at=None)  # they go with the next attempt
        result = f"failed, retrying at {row.due_at:%H:%M:%S} UTC: {error}"
    else:
        row.status, row.last_error = "failed", error
        _settle_bundled(session, claimed, sent_at=None)  # each on its own again
        fallback = _fall_back(session, row, now=now)
        result = f"failed: {error}" + (f"; trying {fallback} next" if fallback else "")
    for incident_id in {n.incident_id for n in involved if n.incident_id}:
        timeline.record(
            session,
            incident_id,
            kind="notification_" + ("sent" if ok else "failed"),
            actor="haetae",
            at=now,
            summary=f"{claimed.kind} to user #{row.user_id} via contact #{row.contact_method_id} "
            f"(attempt {row.attempts}): {result}",
            notification_id=row.id,
            user_id=row.user_id,
            contact_method_id=row.contact_method_id,
            attempt=row.attempts,
            ok=ok,
            error=error,
        )
    return True


def _fall_back(session: Session, row: Notification, *, now: datetime) -> str | None:
    """After repeated failure, the user's next contact method (by position) gets it."""
    if row.user_id is None or row.contact_method_id is None:
        return None
    current = session.get(ContactMethod, row.contact_method_id)
    position = current.position if current else -1
    base = row.idem_key.split(":fb", 1)[0]
    tried = session.scalars(
        select(Notification.contact_method_id).where(
            or_(Notification.idem_key == base, Notification.idem_key.like(f"{base}:fb%"))
        )
    ).all()
    following = session.scalars(
        select(ContactMethod)
        .where(
            ContactMethod.user_id == row.user_id,
            ContactMethod.enabled.is_(True),
            ContactMethod.id.not_in([t for t in tried if t is not None]),
            or_(
                ContactMethod.position > position,
                (ContactMethod.position == position) & (ContactMethod.id > (row.contact_method_id)),
            ),
        )
        .order_by(ContactMethod.position, ContactMethod.id)
        .limit(1)
    ).one_or_none()
    if following is None:
        return None
    _insert_new(
        session,
        [
            _row(
                idem_key=f"{base}:fb{following.id}",
                kind=row.kind,
                user_id=row.user_id,
                contact_method_id=following.id,
                due_at=now,
                now=now,
                incident_id=row.incident_id,
                escalation_id=row.escalation_id,
                cancel_on=row.cancel_on,
                data=dict(row.data or {}, fallback_from=row.contact_method_id),
            )
        ],
    )
    return following.name
