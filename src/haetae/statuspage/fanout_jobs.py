"""The subscribers' job: a published update fanned out to subscribers through the outbox in
bundles."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.jobs import Job, JobContext
from haetae.notify import rows as outbox_rows
from haetae.people.models import ContactMethod
from haetae.statuspage import subscribers
from haetae.statuspage.fanout_models import StatusFanout
from haetae.statuspage.models import Subscriber

# Subscribers handed to the outbox per transaction: a large list never holds a long lock.
BUNDLE = 1000


def expand(
    session: Session, *, now: datetime, rate: float, public_url: str, skip_locked: bool
) -> int:
    """Write the next bundle of the oldest open fan-out's outbox rows: each subscriber once
    (the key is the update's and the subscriber's), due SUBSCRIBER_SEND_RATE apart per
    transport. Returns how many subscribers it went through (BUNDLE: maybe more to do)."""
    query = (
        select(StatusFanout)
        .where(StatusFanout.finished_at.is_(None))
        .order_by(StatusFanout.id)
        .limit(1)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    fanout = session.scalars(query).first()
    if fanout is None:
        return 0
    content = subscribers.words(session, fanout, public_url=public_url)
    if content is None:
        fanout.finished_at = now
        return 1
    found = session.execute(
        select(
            Subscriber.id,
            Subscriber.kind,
            Subscriber.language,
            Subscriber.component_ids,
            Subscriber.token_hash,
            ContactMethod.id,
        )
        .join(ContactMethod, ContactMethod.subscriber_id == Subscriber.id)
        .where(
            Subscriber.id > fanout.after_id,
            Subscriber.confirmed_at.is_not(None),
            Subscriber.unsubscribed_at.is_(None),
            ContactMethod.enabled.is_(True),
        )
        .order_by(Subscriber.id)
        .limit(BUNDLE)
    ).all()
    about = set(fanout.component_ids or [])
    spacing = timedelta(seconds=1 / rate)
    # A transport's next moment never lies in the past: a fan-out resumed late starts now.
    next_at = {
        "email": max(fanout.next_mail_at, now),
        "webhook": max(fanout.next_webhook_at, now),
    }
    rows = []
    for sub_id, kind, language, wanted, token_hash, method_id in found:
        # Page-wide news (no component named) goes to everyone; otherwise to those who
        # follow every component or one of these.
        if wanted and about and not about.intersection(wanted):
            continue
        lang = language if language in subscribers.LANGUAGES else "en"
        due = next_at[kind]
        next_at[kind] = due + spacing
        rows.append(
            outbox_rows.new_row(
                idem_key=f"{content['key']}:sub{sub_id}",
                kind="status_update",
                user_id=None,
                contact_method_id=method_id,
                due_at=due,
                now=now,
                data={
                    **content["by_language"][lang],
                    "subscriber": {"id": sub_id, "key": token_hash},
                },
            )
        )
    fanout.queued += outbox_rows.insert_new(session, rows)
    fanout.next_mail_at, fanout.next_webhook_at = next_at["email"], next_at["webhook"]
    if found:
        fanout.after_id = found[-1][0]
    if len(found) < BUNDLE:
        fanout.finished_at = now
    return len(found) or 1


def fan_out(ctx: JobContext) -> int:
    with ctx.session() as session:
        return expand(
            session,
            now=ctx.now,
            rate=ctx.subscriber_send_rate,
            public_url=ctx.public_url,
            skip_locked=ctx.skip_locked,
        )


JOBS: list[Job] = [Job("statuspage_fanout", fan_out, batch=BUNDLE, max_runs=20)]
