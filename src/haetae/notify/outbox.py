"""The outbox: notifications are rows first, written in the transaction of the change that
caused them, then claimed, sent and settled by the worker (notify/claims.py, with the cap in
notify/throttle.py and bundling in notify/bundles.py; their entry points are also reachable
from here: outbox.claim, outbox.complete, outbox.SPACING ...)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from haetae.notify.bundles import Carried, release_carried
from haetae.notify.channels import channel_of
from haetae.notify.claims import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    MAX_ATTEMPTS,
    Claimed,
    claim,
    complete,
    give_back,
    next_due,
    reclaim_expired,
)
from haetae.notify.models import Notification
from haetae.notify.rows import insert_new as _insert_new
from haetae.notify.rows import new_row as _row
from haetae.notify.throttle import SPACING, THROTTLE_COUNT, THROTTLE_WINDOW
from haetae.people.models import ContactMethod, NotificationRule

__all__ = [
    "BACKOFF_FIRST",
    "BACKOFF_MAX",
    "MAX_ATTEMPTS",
    "SPACING",
    "THROTTLE_COUNT",
    "THROTTLE_WINDOW",
    "Carried",
    "Claimed",
    "Contacts",
    "Target",
    "cancel_for_incident",
    "claim",
    "complete",
    "contacts_by_user",
    "enqueue_test",
    "give_back",
    "insert_rows",
    "next_due",
    "notify_user",
    "paged_users",
    "reclaim_expired",
    "rows_for_user",
    "targets_by_user",
    "targets_for",
]


@dataclass(frozen=True)
class Target:
    """Where one notification goes: a contact method and its owner."""

    contact_method_id: int
    delay_minutes: int
    # "channel" or "here": the message to this (Slack) contact method starts with the mention.
    mention: str | None = None


@dataclass(frozen=True)
class Contacts:
    """How a person can be paged: their notification rules' targets, and their enabled
    contact methods with the kind of channel each is (None: a kind `via` cannot name)."""

    rules: list[Target]
    methods: list[tuple[int, str | None]]

    def choose(self, via: Iterable[str] | None, mention: str | None = None) -> list[Target]:
        """A step's targets for the person: every contact method of a kind in `via`, at
        once; without `via`, or when the person has none of those kinds, their own rules.
        A mention goes only to Slack contact methods."""
        kinds = set(via or ())
        chosen = [
            Target(cm, 0, mention if kind == "slack" else None)
            for cm, kind in self.methods
            if kind in kinds
        ]
        return chosen or self.rules


def targets_for(session: Session, user_id: int) -> list[Target]:
    """The user's notification rules; without rules, the first enabled contact method at
    once. Empty when the user cannot be reached."""
    return targets_by_user(session, [user_id])[user_id]


def targets_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, list[Target]]:
    """targets_for of several users in one query."""
    return {user_id: found.rules for user_id, found in contacts_by_user(session, user_ids).items()}


def contacts_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, Contacts]:
    """Several users' Contacts in one query (a rule always names one of its owner's contact
    methods)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            ContactMethod.user_id,
            ContactMethod.id,
            NotificationRule.delay_minutes,
            ContactMethod.kind,
            ContactMethod.url,
        )
        .outerjoin(
            NotificationRule,
            (NotificationRule.contact_method_id == ContactMethod.id)
            & (NotificationRule.user_id == ContactMethod.user_id),
        )
        .where(ContactMethod.user_id.in_(ids), ContactMethod.enabled.is_(True))
        .order_by(NotificationRule.delay_minutes, ContactMethod.position, ContactMethod.id)
    ).all()
    methods: dict[int | None, list[tuple[int, int | None]]] = defaultdict(list)
    kinds: dict[int, str | None] = {}
    for owner, cm, delay, kind, url in rows:
        methods[owner].append((cm, delay))
        if cm not in kinds:
            kinds[cm] = channel_of(kind, url)
    found: dict[int, Contacts] = {}
    for user_id in ids:
        mine = methods.get(user_id, [])
        rules = [Target(cm, delay) for cm, delay in mine if delay is not None]
        found[user_id] = Contacts(
            rules=rules or ([Target(mine[0][0], 0)] if mine else []),
            methods=[(cm, kinds[cm]) for cm in dict.fromkeys(cm for cm, _ in mine)],
        )
    return found


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Queue rows made by `rows_for_user` (a slice of steps' pages in one statement)."""
    unique = list({row["idem_key"]: row for row in rows}.values())
    return _insert_new(session, unique)


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
            data={**(data or {}), "mention": t.mention} if t.mention else data,
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
    """Cancel pending messages that `reasons` (acknowledged, resolved) make pointless. A
    canceled message being retried lets the pages it carried go on without it."""
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
    canceled = cast(CursorResult[Any], result).rowcount
    if canceled:
        release_carried(
            session,
            select(Notification.id).where(
                Notification.incident_id == incident_id,
                Notification.status == "canceled",
                Notification.attempts > 0,
            ),
        )
    return canceled


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
