"""The worker's side of the outbox: claiming due messages one contact method at a time, and
settling each claim (sent, failed, given back, or expired) together with every page it carried.

States: pending -> sending (claimed, with a lease) -> sent | pending (retry, backoff) |
failed; pending -> canceled (ack or resolve first) | bundled (carried by another message).

The cap (notify/throttle.py): a contact method is sent at most one message per SPACING (12 s:
five a minute, so no 60-s window holds more than five), and never two at once. When it may be
sent to, everything waiting for it goes in one message (notify/bundles.py): the oldest row
carries the others. A message being retried holds its contact method until the retry:
nothing waiting overtakes it, and it is re-sent with the content and carried pages it had,
under the same idempotency key.

A `sending` row whose lease ran out means the worker died mid-send: the outcome is unknown,
so it is sent once more, identical, then given up (what it carried goes in the next message).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.comms.models import CommsChannel
from haetae.contacts.models import ExternalContact
from haetae.incidents import lifecycle
from haetae.incidents.models import Incident
from haetae.notify import bundles, throttle
from haetae.notify import rows as outbox_rows
from haetae.notify.bundles import Carried, release_carried
from haetae.notify.models import Notification, NotificationThrottle
from haetae.people.models import ContactMethod
from haetae.statuspage.models import Subscriber
from haetae.timeline import service as timeline

MAX_ATTEMPTS = 4  # then the user's next contact method
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=5)
# Due rows a claim reads to find contact methods to send to, per message it may take.
SCAN_PER_MESSAGE = 8
# A message to stakeholders (comms/service.py): its words are written before it is queued.
STAKEHOLDER = "stakeholder"


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
    bundled: list[Carried] = field(default_factory=list)
    lease_until: datetime | None = None
    contact_method_id: int | None = None
    # The throttle's moment before this claim: restored when nothing was sent after all.
    free_at: datetime | None = None
    # A resend under the same key: subject and body are the ones sent before, not re-rendered.
    resend: bool = False
    # filled in by dispatch.prepare (or, for a resend, by the claim)
    subject: str = ""
    body: str = ""


# Claiming


def claim(
    session: Session,
    *,
    now: datetime,
    worker: str,
    limit: int,
    lease: timedelta,
    skip_locked: bool,
) -> list[Claimed]:
    """Take up to `limit` messages, each to a contact method that may be sent to now: cancel
    what an ack or resolve made pointless, put everything waiting for the contact method in
    one message (oldest first), and lease it to this worker."""
    candidates = _candidates(session, now=now, limit=limit)
    if len(candidates) < limit:
        # Between floods only: the query reads every due row.
        _settle_orphans(session, now=now, limit=limit, skip_locked=skip_locked)
    if not candidates:
        return []
    throttles = throttle.lock(session, candidates, now=now, skip_locked=skip_locked)
    if not throttles:
        return []
    waiting: dict[int, list[Notification]] = defaultdict(list)
    for row in _waiting(session, list(throttles), now=now, skip_locked=skip_locked):
        waiting[cast(int, row.contact_method_id)].append(row)
    incidents = _incident_states(
        session, {r.incident_id for group in waiting.values() for r in group if r.incident_id}
    )
    methods = _contact_methods(session, set(waiting))
    claimed: list[Claimed] = []
    for cm_id in candidates:
        if cm_id not in throttles or not waiting.get(cm_id):
            continue
        taken = _claim_for(
            session,
            throttles[cm_id],
            waiting[cm_id],
            methods.get(cm_id),
            incidents,
            now=now,
            worker=worker,
            lease=lease,
        )
        if taken is not None:
            claimed.append(taken)
    return claimed


def _candidates(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Contact methods with due rows that their throttle lets go now, the longest-waiting
    first. Rows of throttled contact methods are passed over in SQL, so a storm to a few
    people does not hide everyone else's pages behind theirs."""
    found = session.scalars(
        select(Notification.contact_method_id)
        .outerjoin(
            NotificationThrottle,
            NotificationThrottle.contact_method_id == Notification.contact_method_id,
        )
        .where(
            Notification.status == "pending",
            Notification.due_at <= now,
            Notification.contact_method_id.is_not(None),
            throttle.lets_go_by(now),
        )
        .order_by(Notification.due_at, Notification.id)
        .limit(limit * SCAN_PER_MESSAGE)
    )
    return [cm for cm in dict.fromkeys(found) if cm is not None][:limit]


def _waiting(
    session: Session, cm_ids: list[int], *, now: datetime, skip_locked: bool
) -> list[Notification]:
    """Every due row for these contact methods, oldest first (not only a claim's first few)."""
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.due_at <= now,
            Notification.contact_method_id.in_(cm_ids),
        )
        .order_by(Notification.due_at, Notification.id)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _claim_for(
    session: Session,
    held: NotificationThrottle,
    group: list[Notification],
    method_and_locale: tuple[ContactMethod, str] | None,
    incidents: dict[str, tuple[str, bool, bool]],
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
) -> Claimed | None:
    live: list[Notification] = []
    for row in group:
        if _pointless(row, incidents.get(row.incident_id or "")):
            _cancel(session, row, _pointless_why(row))
        else:
            live.append(row)
    if not live:
        return None
    method, locale = method_and_locale or (None, "en")
    if method is None or not method.enabled:
        for row in live:
            _settle_unreachable(session, row, now=now)
        return None
    resends = [r for r in live if _is_resend(r)]
    if resends:
        # A message tried before goes again first, alone and as it was; the rest wait.
        carrier = min(resends, key=lambda r: r.id)
        carried = bundles.carried_again(session, carrier.id)
    else:
        carrier = live[0]
        # A subscriber's messages are each complete (their own unsubscribe link and
        # headers): one at a time, never a bundle.
        carried = (
            []
            if method.subscriber_id or carrier.kind == STAKEHOLDER
            else bundles.gather(carrier, [r for r in live[1:] if r.kind != STAKEHOLDER])
        )
    carrier.status = "sending"
    carrier.attempts += 1
    carrier.lease_until = now + lease
    carrier.worker = worker
    free_at = throttle.hold_while_sending(held, carrier.lease_until)
    resend = _is_resend(carrier, claimed=True)
    return Claimed(
        id=carrier.id,
        attempt=carrier.attempts,
        lease_until=carrier.lease_until,
        kind=carrier.kind if not carried else "bundle",
        url=method.url,
        idem_key=carrier.idem_key,
        user_id=carrier.user_id,
        locale=locale,
        incident_id=carrier.incident_id,
        data=dict(carrier.data or {}),
        bundled=carried,
        contact_method_id=method.id,
        free_at=free_at,
        resend=resend,
        subject=carrier.subject if resend else "",
        body=carrier.body if resend else "",
    )


def _is_resend(row: Notification, *, claimed: bool = False) -> bool:
    """Whether the row's message was handed to a sender before (its words are kept)."""
    return row.attempts > (1 if claimed else 0) and bool(row.body)


def _settle_orphans(session: Session, *, now: datetime, limit: int, skip_locked: bool) -> None:
    """Due rows whose contact method was deleted (the column is set to NULL)."""
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.due_at <= now,
            Notification.contact_method_id.is_(None),
        )
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    for row in session.scalars(query):
        _settle_unreachable(session, row, now=now)


def _incident_states(session: Session, ids: set[str]) -> dict[str, tuple[str, bool, bool]]:
    if not ids:
        return {}
    found = session.execute(
        select(Incident.id, Incident.status, Incident.acknowledged_at, Incident.drill).where(
            Incident.id.in_(ids)
        )
    ).all()
    return {i: (status, acked is not None, drill) for i, status, acked, drill in found}


def _pointless(row: Notification, state: tuple[str, bool, bool] | None) -> bool:
    if state is None:
        return False
    status, acknowledged, drill = state
    if drill and _drill_stays_inside(row):
        return True
    if row.cancel_on == "never":
        return False
    if status not in lifecycle.ACTIVE:
        return True
    return row.cancel_on == "acknowledged" and acknowledged


def _drill_stays_inside(row: Notification) -> bool:
    """A stakeholder message routed to a channel whose route does not take drills: a drill
    may be marked after its declaration's message was queued (comms/service.py)."""
    return (row.data or {}).get("drill_ok") is False


def _pointless_why(row: Notification) -> str:
    if _drill_stays_inside(row):
        return "a drill's message stays inside: the route has no `drills: true`"
    return "the incident was acknowledged or resolved first"


def _contact_methods(session: Session, ids: set[int]) -> dict[int, tuple[ContactMethod, str]]:
    if not ids:
        return {}
    # An external contact's, a status page subscriber's or a stakeholder channel's method
    # has no user: the contact's, the subscriber's or the channel's language is the message's.
    found = session.execute(
        select(
            ContactMethod,
            User.locale,
            ExternalContact.language,
            Subscriber.language,
            CommsChannel.language,
        )
        .outerjoin(User, User.id == ContactMethod.user_id)
        .outerjoin(ExternalContact, ExternalContact.id == ContactMethod.external_contact_id)
        .outerjoin(Subscriber, Subscriber.id == ContactMethod.subscriber_id)
        .outerjoin(CommsChannel, CommsChannel.id == ContactMethod.comms_channel_id)
        .where(ContactMethod.id.in_(ids))
    ).all()
    return {
        cm.id: (cm, locale or language or reader or channel or "en")
        for cm, locale, language, reader, channel in found
    }


def _cancel(session: Session, row: Notification, why: str) -> None:
    row.status, row.last_error = "canceled", why
    if row.attempts:
        release_carried(session, [row.id])


def _settle_unreachable(session: Session, row: Notification, *, now: datetime) -> None:
    error = "the contact method was removed or disabled"
    for failed in [row, *(bundles.carried_rows(session, row.id) if row.attempts else [])]:
        failed.status, failed.last_error = "failed", error
        _fall_back(session, failed, now=now)


# Settling a claim


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
    if row.attempts == 0:
        # Never sent: the next claim words it afresh, with whatever waits by then.
        row.subject, row.body = "", ""
        release_carried(session, [row.id])
    # else a resend, given back: it keeps its words and what it carries.
    throttle.free(session, row.contact_method_id, claimed.free_at or row.due_at)
    return True


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
    """Record a send's outcome for the message and every page it carried. The fencing
    condition (this attempt, still sending) makes a late answer from a worker whose lease ran
    out change nothing. False: it did not."""
    row = _still_sending(session, claimed)
    if row is None:
        return False
    row.subject, row.body = claimed.subject[:300], claimed.body
    row.handed_at = handed_at
    row.lease_until = None
    carried = (
        bundles.carried_rows(session, row.id, [c.id for c in claimed.bundled])
        if claimed.bundled
        else []
    )
    if ok:
        row.status, row.sent_at, row.last_error = "sent", now, None
        for other in carried:
            other.sent_at, other.handed_at = now, handed_at
        throttle.free_after_send(session, row.contact_method_id, sent_at=now)
        result = "sent" + (f" (with {len(carried)} more)" if carried else "")
    elif retryable and row.attempts < MAX_ATTEMPTS:
        row.status, row.last_error = "pending", error
        row.due_at = now + min(BACKOFF_FIRST * 2 ** (row.attempts - 1), BACKOFF_MAX)
        # What it carries goes with the retry; nothing else overtakes it meanwhile.
        throttle.free(session, row.contact_method_id, row.due_at)
        result = f"failed, retrying at {row.due_at:%H:%M:%S} UTC: {error}"
        if carried:
            result += f" (with {len(carried)} more)"
    else:
        fallbacks = set()
        for failed in (row, *carried):
            failed.status, failed.last_error = "failed", error
            fallback = _fall_back(session, failed, now=now)
            if fallback:
                fallbacks.add(fallback)
        throttle.free(session, row.contact_method_id, claimed.free_at or now)
        result = f"failed: {error}" + (
            f"; trying {', '.join(sorted(fallbacks))} next" if fallbacks else ""
        )
    for incident_id in dict.fromkeys(n.incident_id for n in (row, *carried) if n.incident_id):
        timeline.record(
            session,
            incident_id,
            kind="notification_" + ("sent" if ok else "failed"),
            actor="haetae",
            at=now,
            summary=f"{claimed.kind} to {_recipient(row)} via contact #{row.contact_method_id} "
            f"(attempt {row.attempts}): {result}",
            notification_id=row.id,
            user_id=row.user_id,
            contact_method_id=row.contact_method_id,
            attempt=row.attempts,
            ok=ok,
            error=error,
        )
    return True


def _recipient(row: Notification) -> str:
    if row.user_id is None and row.data.get("external_contact"):
        return f"external contact {row.data['external_contact']}"
    if row.user_id is None and row.data.get("channel"):
        return f"channel {row.data['channel']}"
    return f"user #{row.user_id}"


def reclaim_expired(session: Session, *, now: datetime, skip_locked: bool) -> int:
    """Sends whose worker died mid-send: sent once more, identical (same key, words and
    carried pages), then given up; what a given-up message carried goes in the next one."""
    query = (
        select(Notification)
        .where(Notification.status == "sending", Notification.lease_until < now)
        .order_by(Notification.id)
        .limit(500)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    expired = list(session.scalars(query))
    for row in expired:
        carried = bundles.carried_rows(session, row.id)
        row.lease_until = None
        if row.unknown_retries == 0:
            row.status, row.unknown_retries, row.due_at = "pending", 1, now
            outcome = "outcome unknown (the sender stopped mid-send); sending once more"
        else:
            row.status = "failed"
            row.last_error = "outcome unknown twice; not sent again"
            outcome = row.last_error
            if carried:
                release_carried(session, [row.id])
                outcome += f"; the {len(carried)} it carried go in the next message"
        if carried and row.status == "pending":
            outcome += f" (with the {len(carried)} it carried)"
        throttle.free(session, row.contact_method_id, now)
        for incident_id in dict.fromkeys(n.incident_id for n in (row, *carried) if n.incident_id):
            timeline.record(
                session,
                incident_id,
                kind="notification_unknown",
                actor="haetae",
                at=now,
                summary=f"{row.kind} #{row.id}: {outcome}",
                notification_id=row.id,
            )
    return len(expired)


def next_due(session: Session, *, now: datetime) -> datetime | None:
    """The earliest moment a claim could take something (the worker sleeps until then, or
    a wake-up): a pending row's due time where its contact method is free by then, else the
    moment a throttle lets waiting rows go. None when nothing is pending."""
    free_by_then = session.scalar(
        select(func.min(Notification.due_at))
        .outerjoin(
            NotificationThrottle,
            NotificationThrottle.contact_method_id == Notification.contact_method_id,
        )
        .where(
            Notification.status == "pending",
            throttle.lets_go_by(Notification.due_at),
        )
    )
    released = throttle.next_release(session)
    return min((d for d in (free_by_then, released) if d is not None), default=None)


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
    outbox_rows.insert_new(
        session,
        [
            outbox_rows.new_row(
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
