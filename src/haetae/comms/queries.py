"""Reading stakeholder channels and messages: channels with their URLs masked, messages with
how far their delivery got."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haetae.comms.models import CommsChannel, CommsMessage
from haetae.comms.schemas import ChannelMethodOut, ChannelOut, Delivery, MessageOut
from haetae.errors import HaetaeError
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.people.service import mask_url


def channels_out(session: Session) -> list[ChannelOut]:
    channels = list(session.scalars(select(CommsChannel).order_by(CommsChannel.slug)))
    methods: dict[int, list[ContactMethod]] = defaultdict(list)
    if channels:
        for method in session.scalars(
            select(ContactMethod)
            .where(ContactMethod.comms_channel_id.in_([c.id for c in channels]))
            .order_by(ContactMethod.position, ContactMethod.id)
        ):
            methods[method.comms_channel_id or 0].append(method)
    return [
        ChannelOut(
            slug=c.slug,
            name=c.name,
            purpose=c.purpose,
            language=c.language,
            members=list(c.members or []),
            enabled=c.enabled,
            contact_methods=[
                ChannelMethodOut(name=m.name, kind=m.kind, url=mask_url(m.url), enabled=m.enabled)
                for m in methods[c.id]
            ],
        )
        for c in channels
    ]


def get_message(session: Session, message_id: int) -> CommsMessage:
    message = session.get(CommsMessage, message_id)
    if message is None:
        raise HaetaeError(
            "MESSAGE_NOT_FOUND", f"No message to stakeholders has the id {message_id}."
        )
    return message


def incident_messages(session: Session, incident_id: str) -> list[CommsMessage]:
    return list(
        session.scalars(
            select(CommsMessage)
            .where(CommsMessage.incident_id == incident_id)
            .order_by(CommsMessage.created_at, CommsMessage.id)
        )
    )


def deliveries(session: Session, message_ids: list[int]) -> dict[int, Delivery]:
    """Each message's outbox rows by state (their keys are comms:<message id>:<method>)."""
    found: dict[int, Delivery] = {i: Delivery() for i in message_ids}
    if not message_ids:
        return found
    rows = session.execute(
        select(Notification.idem_key, Notification.status, Notification.sent_at).where(
            Notification.kind == "stakeholder",
            or_(*[Notification.idem_key.like(f"comms:{i}:%") for i in message_ids]),
        )
    ).all()
    for key, status, sent_at in rows:
        message_id = int(key.split(":")[1])
        delivery = found.get(message_id)
        if delivery is None:
            continue
        delivery.total += 1
        # A bundled or in-flight row is still on its way; a row delivered in a bundle is sent.
        state = "sent" if sent_at is not None else status
        if state in ("pending", "sending", "bundled"):
            delivery.pending += 1
        elif state in ("sent", "failed", "canceled"):
            setattr(delivery, state, getattr(delivery, state) + 1)
    return found


def message_out(message: CommsMessage, delivery: Delivery | None = None) -> MessageOut:
    return MessageOut(
        id=message.id,
        incident_id=message.incident_id,
        kind=message.kind,
        source=message.source,
        locale=message.locale,
        subject=message.subject,
        body=message.body,
        channels=list(message.channels or []),
        status=message.status,
        created_by=message.created_by,
        created_at=message.created_at,
        approvers=list(message.approvers or []),
        decided_by=message.decided_by,
        decided_at=message.decided_at,
        decision_note=message.decision_note,
        sent_at=message.sent_at,
        delivery=delivery or Delivery(),
    )


def messages_out(session: Session, messages: list[CommsMessage]) -> list[MessageOut]:
    found = deliveries(session, [m.id for m in messages])
    return [message_out(m, found[m.id]) for m in messages]
