"""Approval of messages the policy gates (seed 002: a press release needs the CEO's approval):
asking the approvers, approving (maybe with an edited text) or rejecting, all on the timeline.

A gated message is created in status pending_approval by comms.service.create_message; it
leaves only through `approve`, which hands it to service.queue_message. Nothing else sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.comms import service
from haetae.comms.models import CommsMessage
from haetae.errors import HaetaeError
from haetae.notify import outbox
from haetae.people.models import Team, TeamMember
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

PENDING = "pending_approval"
TEAM_PREFIX = "team:"
# The body an approval request quotes; the approver reads the whole text on the page.
QUOTE_LIMIT = 4000


def approver_users(session: Session, approvers: list[str]) -> list[User]:
    """The active users an approvers list names: usernames and members of `team:<slug>`."""
    names = [a for a in approvers if not a.startswith(TEAM_PREFIX)]
    slugs = [a[len(TEAM_PREFIX) :] for a in approvers if a.startswith(TEAM_PREFIX)]
    found: dict[int, User] = {}
    if names:
        for user in session.scalars(
            select(User).where(User.username.in_(names), User.active.is_(True))
        ):
            found[user.id] = user
    if slugs:
        members = (
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.slug.in_(slugs), User.active.is_(True))
        )
        for user in session.scalars(members):
            found[user.id] = user
    return sorted(found.values(), key=lambda u: u.username)


def is_approver(session: Session, message: CommsMessage, username: str) -> bool:
    return any(u.username == username for u in approver_users(session, message.approvers or []))


def get_message(session: Session, message_id: int, *, for_update: bool = False) -> CommsMessage:
    message = session.get(CommsMessage, message_id, with_for_update=for_update or None)
    if message is None:
        raise HaetaeError("NOT_FOUND", f"No message {message_id}.")
    return message


def pending(session: Session) -> list[CommsMessage]:
    """Messages waiting for approval, oldest first."""
    query = (
        select(CommsMessage)
        .where(CommsMessage.status == PENDING)
        .order_by(CommsMessage.created_at, CommsMessage.id)
    )
    return list(session.scalars(query))


def history(session: Session, *, limit: int = 50) -> list[CommsMessage]:
    """The latest decisions (approved or rejected), newest first."""
    query = (
        select(CommsMessage)
        .where(CommsMessage.decided_at.is_not(None))
        .order_by(CommsMessage.decided_at.desc(), CommsMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def request(session: Session, message: CommsMessage, *, now: datetime) -> int:
    """Ask the message's approvers, each through their first contact method, with a one-use
    link to the approval page (issued when the worker sends it, as ack links are). Once per
    message. Returns how many approvers were reached."""
    if message.status != PENDING or (message.data or {}).get("approval_requested_at"):
        return 0
    users = approver_users(session, message.approvers or [])
    reached: list[str] = []
    for user in users:
        queued = outbox.notify_user(
            session,
            user.id,
            kind="approval_request",
            idem_key=f"approval:{message.id}:u{user.id}",
            incident_id=message.incident_id,
            cancel_on="never",
            now=now,
            data={
                "comms_message_id": message.id,
                "message_kind": message.kind,
                "message_subject": message.subject,
                "message_body": message.body[:QUOTE_LIMIT],
                "drafted_by": message.created_by,
            },
            first_method_only=True,
        )
        if queued is not None:
            reached.append(user.username)
    message.data = {**(message.data or {}), "approval_requested_at": now.isoformat()}
    if message.incident_id is not None:
        timeline.record(
            session,
            message.incident_id,
            kind="comms_approval_requested",
            actor=message.created_by,
            at=now,
            summary=f"{message.kind} waits for approval by {', '.join(message.approvers)}",
            message_id=message.id,
            message_kind=message.kind,
            subject=message.subject,
            approvers=list(message.approvers or []),
            reached=reached,
        )
    return len(reached)


def _decidable(session: Session, message: CommsMessage, by: str) -> None:
    if message.status != PENDING:
        raise HaetaeError(
            "MESSAGE_NOT_PENDING",
            f"Message {message.id} is {message.status}, not waiting for approval.",
            status=message.status,
        )
    if not is_approver(session, message, by):
        raise HaetaeError(
            "NOT_AN_APPROVER",
            f"{by} is not among the approvers of message {message.id} "
            f"({', '.join(message.approvers or []) or 'none'}).",
        )


def approve(
    session: Session,
    policy: Policy,
    message: CommsMessage,
    *,
    by: str,
    now: datetime,
    subject: str | None = None,
    body: str | None = None,
    note: str = "",
) -> CommsMessage:
    """Approve a pending message as `by` (one of its approvers), with the approver's edit if
    any (kept as the approved text; the draft stays in data["draft"]), then send it."""
    _decidable(session, message, by)
    new_subject = message.subject if subject is None else subject.strip()
    new_body = message.body if body is None else body.strip()
    edited = (new_subject, new_body) != (message.subject, message.body)
    if edited:
        message.data = {
            **(message.data or {}),
            "draft": {"subject": message.subject, "body": message.body},
        }
        if message.incident_id is not None:
            timeline.record(
                session,
                message.incident_id,
                kind="comms_approval_edited",
                actor=by,
                at=now,
                summary=f"{message.kind} edited before approval",
                message_id=message.id,
                message_kind=message.kind,
                before={"subject": message.subject, "body": message.body},
                after={"subject": new_subject, "body": new_body},
            )
        message.subject, message.body = new_subject, new_body
    message.status = "approved"
    message.decided_by, message.decided_at, message.decision_note = by, now, note.strip()
    if message.incident_id is not None:
        timeline.record(
            session,
            message.incident_id,
            kind="comms_approval_approved",
            actor=by,
            at=now,
            summary=f"{message.kind} approved" + (f": {note.strip()}" if note.strip() else ""),
            message_id=message.id,
            message_kind=message.kind,
            edited=edited,
            note=note.strip(),
        )
    service.queue_message(session, policy, message, now=now)
    return message


def reject(
    session: Session, message: CommsMessage, *, by: str, now: datetime, note: str
) -> CommsMessage:
    """Reject a pending message as one of its approvers: it is never sent."""
    _decidable(session, message, by)
    message.status = "rejected"
    message.decided_by, message.decided_at, message.decision_note = by, now, note.strip()
    if message.incident_id is not None:
        timeline.record(
            session,
            message.incident_id,
            kind="comms_approval_rejected",
            actor=by,
            at=now,
            summary=f"{message.kind} rejected" + (f": {note.strip()}" if note.strip() else ""),
            message_id=message.id,
            message_kind=message.kind,
            note=note.strip(),
        )
    return message
