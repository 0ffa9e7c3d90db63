"""Subscribers: double opt-in, component filters, one-click unsubscribe, and the fan-out of a
published public update (or a maintenance notice) to them through the outbox."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.notify import rows as outbox_rows
from haetae.notify import unsubscribe
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from haetae.statuspage.fanout_models import StatusFanout
from haetae.statuspage.models import (
    Component,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
    Subscriber,
)

log = logging.getLogger("haetae.statuspage")

KINDS = ("email", "webhook")
LANGUAGES = ("en", "ko")
_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
ONE_CLICK = "List-Unsubscribe=One-Click"
# What the public page calls a state, in each language (the hosted status page API's words).
STATE_WORDS = {
    "investigating": {"en": "Investigating", "ko": "조사 중"},
    "identified": {"en": "Identified", "ko": "원인 확인"},
    "monitoring": {"en": "Monitoring", "ko": "모니터링 중"},
    "resolved": {"en": "Resolved", "ko": "해결됨"},
    "postmortem": {"en": "Postmortem", "ko": "사후 분석"},
    "scheduled": {"en": "Scheduled maintenance", "ko": "예정된 점검"},
    "in_progress": {"en": "Maintenance in progress", "ko": "점검 진행 중"},
    "verifying": {"en": "Verifying", "ko": "점검 확인 중"},
    "completed": {"en": "Maintenance completed", "ko": "점검 완료"},
}
SITE = {"en": "Status", "ko": "서비스 상태"}
# A pending e-mail subscription asked for again within this long gets no second mail.
CONFIRM_AGAIN_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Setup:
    """What subscribing needs from the settings: where links point (PUBLIC_URL), the secret
    unsubscribe links are signed with (JWT_SECRET), and STATUS_PAGE_MAIL_URL."""

    public_url: str
    secret: str
    mail_url: str


def text_in(value: dict[str, str] | None, language: str) -> str:
    """A {en, ko} text in the language, else English, else whatever it has."""
    value = value or {}
    return value.get(language) or value.get("en") or next(iter(value.values()), "")


_text = text_in


def page_enabled(session: Session) -> bool:
    settings = session.scalars(select(StatusPageSettings).limit(1)).first()
    return settings is not None and settings.enabled


def visible_components(session: Session) -> list[tuple[str, dict[str, str]]]:
    """(slug, name) of the components a reader can choose, in page order."""
    return [
        (slug, name)
        for slug, name in session.execute(
            select(Component.slug, Component.name)
            .where(Component.visible.is_(True))
            .order_by(Component.position, Component.id)
        )
    ]


def _site(session: Session, language: str) -> str:
    settings = session.scalars(select(StatusPageSettings).limit(1)).first()
    return _text(settings.title if settings else None, language) or SITE[language]


def hash_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Masking


def mask(kind: str, address: str) -> str:
    """`m***@e***.com` for an e-mail, `https://h***.com/***` for a webhook: enough to tell
    two apart in a list, too little to write to."""
    if kind == "email":
        local, _, domain = address.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{local[:1]}***@{host[:1]}***.{tld}" if host else f"{local[:1]}***@***"
    split = urlsplit(address)
    host = split.hostname or ""
    tld = host.rpartition(".")[2] if "." in host else ""
    scheme = "https" if split.scheme in ("jsons", "https") else "http"
    return f"{scheme}://{host[:1]}***{'.' + tld if tld else ''}/***"


# Subscribing


def _components(session: Session, wanted: list[Any]) -> list[int]:
    """Component ids from ids or slugs; every one must be a visible component."""
    if not wanted:
        return []
    found = session.execute(
        select(Component.id, Component.slug).where(Component.visible.is_(True))
    ).all()
    by_key = {str(cid): cid for cid, _ in found} | {slug: cid for cid, slug in found}
    ids = []
    for item in wanted:
        cid = by_key.get(str(item).strip())
        if cid is None:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"No component is called {str(item)[:64]!r}.",
                field="components",
            )
        ids.append(cid)
    return sorted(set(ids))


def _address(kind: str, address: str, setup: Setup) -> str:
    address = (address or "").strip()
    if kind == "email":
        if not setup.mail_url:
            raise HaetaeError(
                "VALIDATION_ERROR",
                "E-mail subscriptions are off here (STATUS_PAGE_MAIL_URL is not set).",
                field="email",
            )
        if len(address) > 254 or not _EMAIL.match(address):
            raise HaetaeError("VALIDATION_ERROR", "That is not an e-mail address.", field="email")
        local, _, domain = address.partition("@")
        return f"{local}@{domain.lower()}"
    if kind == "webhook":
        split = urlsplit(address)
        if split.scheme not in ("http", "https") or not split.hostname or len(address) > 2000:
            raise HaetaeError(
                "VALIDATION_ERROR", "A webhook is an http:// or https:// URL.", field="webhook"
            )
        return address
    raise HaetaeError("VALIDATION_ERROR", "Subscribe by e-mail or webhook.", field="kind")


def destination(subscriber: Subscriber, setup: Setup) -> str:
    """The subscriber's Apprise URL, carrying the one-click unsubscribe headers (RFC 8058):
    Apprise's mail and JSON plugins send `+Name=value` URL parameters as headers."""
    link = unsubscribe.url(
        setup.public_url, unsubscribe.token(setup.secret, subscriber.id, subscriber.token_hash)
    )
    headers = (
        f"+List-Unsubscribe={quote(f'<{link}>', safe='')}"
        f"&+List-Unsubscribe-Post={quote(ONE_CLICK, safe='')}"
    )
    if subscriber.kind == "email":
        base = setup.mail_url
        to = quote(subscriber.address, safe="@")
        return f"{base}{'&' if '?' in base else '?'}to={to}&{headers}"
    scheme, _, rest = subscriber.address.partition("://")
    url = f"{'jsons' if scheme == 'https' else 'json'}://{rest}"
    return f"{url}{'&' if '?' in rest else '?'}{headers}"


def subscribe(
    session: Session,
    *,
    kind: str,
    address: str,
    components: list[Any],
    language: str,
    setup: Setup,
    now: datetime,
) -> Subscriber:
    """Subscribe an address: an e-mail waits for its confirmation link (a message queued
    now), a webhook is confirmed at once. A confirmed subscription is left as it is (an
    unauthenticated request must not change someone's subscription), and the caller answers
    the same whatever happened, so nobody learns who subscribes."""
    if not page_enabled(session):
        raise HaetaeError("NOT_FOUND", "The status page is off.")
    clean = _address(kind, address, setup)
    component_ids = _components(session, components)
    language = language if language in LANGUAGES else "en"
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.kind == kind, Subscriber.address == clean)
    ).first()
    if subscriber is not None and subscriber.confirmed_at and not subscriber.unsubscribed_at:
        return subscriber
    asked = (subscriber.data or {}).get("asked_at") if subscriber is not None else None
    if (
        subscriber is not None
        and subscriber.unsubscribed_at is None
        and asked
        and now - datetime.fromisoformat(asked) < CONFIRM_AGAIN_AFTER
    ):
        # Its confirmation mail is recent and still good: a new one would void that link,
        # and nobody can make us mail an address more than once an hour.
        return subscriber
    raw = secrets.token_urlsafe(32)
    if subscriber is None:
        subscriber = Subscriber(kind=kind, address=clean, created_at=now, data={})
        session.add(subscriber)
    subscriber.language = language
    subscriber.component_ids = component_ids
    subscriber.token_hash = hash_of(raw)
    subscriber.unsubscribed_at = None
    subscriber.confirmed_at = now if kind == "webhook" else None
    subscriber.data = {**(subscriber.data or {}), "asked_at": now.isoformat()}
    session.flush()
    method = session.scalars(
        select(ContactMethod).where(ContactMethod.subscriber_id == subscriber.id)
    ).first()
    if method is None:
        method = ContactMethod(
            user_id=None,
            subscriber_id=subscriber.id,
            name=f"status-subscriber-{subscriber.id}",
            kind="mailto" if kind == "email" else "json",
            url="",
            position=0,
            created_at=now,
        )
        session.add(method)
    method.url = destination(subscriber, setup)
    method.enabled = True
    session.flush()
    if kind == "email":
        outbox_rows.insert_new(
            session,
            [
                outbox_rows.new_row(
                    idem_key=f"statusconfirm:{subscriber.id}:{subscriber.token_hash[:16]}",
                    kind="status_confirm",
                    user_id=None,
                    contact_method_id=method.id,
                    due_at=now,
                    now=now,
                    data={
                        "site": _site(session, language),
                        "confirm_url": f"{setup.public_url.rstrip('/')}/status/confirm/{raw}",
                        "components": _names(session, component_ids, language),
                    },
                )
            ],
        )
    return subscriber


def _names(session: Session, ids: list[int], language: str) -> str:
    if not ids:
        return ""
    names = session.scalars(select(Component.name).where(Component.id.in_(ids))).all()
    return ", ".join(_text(n, language) for n in names)


def pending(session: Session, raw: str) -> Subscriber | None:
    """The subscription a confirmation link names (looking only: a GET must not act)."""
    if not raw or len(raw) > 200:
        return None
    return session.scalars(select(Subscriber).where(Subscriber.token_hash == hash_of(raw))).first()


def confirm(session: Session, raw: str, *, now: datetime) -> Subscriber | None:
    """Confirm by the link's token; None when no subscription has it or it was ended."""
    subscriber = pending(session, raw)
    if subscriber is None or subscriber.unsubscribed_at is not None:
        return None
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
    return subscriber


def by_unsubscribe_token(session: Session, value: str, *, secret: str) -> Subscriber | None:
    subscriber_id = unsubscribe.subscriber_id_of(value or "")
    if subscriber_id is None:
        return None
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or not unsubscribe.matches(
        secret, value, subscriber.id, subscriber.token_hash
    ):
        return None
    return subscriber


def unsubscribe_by_token(session: Session, value: str, *, secret: str, now: datetime) -> bool:
    """End a subscription from its link (the page's button or a one-click POST); nothing
    more goes to it, including messages already queued."""
    subscriber = by_unsubscribe_token(session, value, secret=secret)
    if subscriber is None:
        return False
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = now
    _stop(session, subscriber.id)
    return True


def _stop(session: Session, subscriber_id: int) -> None:
    methods = select(ContactMethod.id).where(ContactMethod.subscriber_id == subscriber_id)
    session.execute(
        update(Notification)
        .where(Notification.contact_method_id.in_(methods), Notification.status == "pending")
        .values(status="canceled", last_error="the subscriber unsubscribed")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ContactMethod)
        .where(ContactMethod.subscriber_id == subscriber_id)
        .values(enabled=False)
        .execution_options(synchronize_session=False)
    )


# Personal data: the list (masked), one person's export, deletion


def state_of(subscriber: Subscriber) -> str:
    if subscriber.unsubscribed_at is not None:
        return "unsubscribed"
    return "confirmed" if subscriber.confirmed_at is not None else "pending"


def listing(session: Session, *, limit: int = 500) -> dict[str, Any]:
    """Masked subscribers (newest first) and counts by state and kind."""
    found = session.scalars(
        select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id.desc()).limit(limit)
    ).all()
    counts: dict[str, int] = {"confirmed": 0, "pending": 0, "unsubscribed": 0}
    kinds: dict[str, int] = {}
    confirmed = Subscriber.confirmed_at.is_not(None)
    live = Subscriber.unsubscribed_at.is_(None)
    for kind, is_confirmed, is_live, n in session.execute(
        select(Subscriber.kind, confirmed, live, func.count()).group_by(
            Subscriber.kind, confirmed, live
        )
    ):
        state = "unsubscribed" if not is_live else ("confirmed" if is_confirmed else "pending")
        counts[state] += n
        if state == "confirmed":
            kinds[kind] = kinds.get(kind, 0) + n
    return {
        "counts": counts,
        "confirmed_by_kind": kinds,
        "subscribers": [public_view(s) for s in found],
    }


def public_view(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "kind": subscriber.kind,
        "address": mask(subscriber.kind, subscriber.address),
        "language": subscriber.language,
        "component_ids": list(subscriber.component_ids or []),
        "state": state_of(subscriber),
        "created_at": subscriber.created_at,
        "confirmed_at": subscriber.confirmed_at,
        "unsubscribed_at": subscriber.unsubscribed_at,
    }


def export(session: Session, address: str) -> list[dict[str, Any]]:
    """Everything kept about one address (a data subject's request): its subscriptions and
    how many messages went to each."""
    clean = (address or "").strip()
    if "@" in clean:
        local, _, domain = clean.partition("@")
        clean = f"{local}@{domain.lower()}"
    found = session.scalars(
        select(Subscriber).where(Subscriber.address == clean).order_by(Subscriber.id)
    ).all()
    out = []
    for subscriber in found:
        sent = session.scalar(
            select(func.count())
            .select_from(Notification)
            .join(ContactMethod, ContactMethod.id == Notification.contact_method_id)
            .where(ContactMethod.subscriber_id == subscriber.id, Notification.status == "sent")
        )
        out.append(
            {
                **public_view(subscriber),
                "address": subscriber.address,
                "messages_sent": sent or 0,
            }
        )
    return out


def delete(session: Session, subscriber_id: int, *, by: str, now: datetime) -> bool:
    """Forget a subscriber on request: the address and its contact method go; what was sent
    keeps no address (messages name the subscriber by number). The audit line says who
    deleted which number, never the address."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    _stop(session, subscriber.id)
    for method in session.scalars(
        select(ContactMethod).where(ContactMethod.subscriber_id == subscriber.id)
    ):
        session.delete(method)
    session.delete(subscriber)
    session.flush()
    log.info(
        "status page subscriber deleted",
        extra={"f_subscriber": subscriber_id, "f_by": by, "f_at": now.isoformat()},
    )
    return True


# The fan-out


def on_published(session: Session, update: PublicUpdate, *, now: datetime) -> None:
    """Called by statuspage.service when a public update is published, in its transaction: queue
    the update's fan-out to the subscribers of its components (the fan-out job sends it)."""
    if update.id is None:
        session.flush()
    public = session.get(PublicIncident, update.public_incident_id)
    if public is None or _is_drill(session, public.incident_id):
        return  # a drill never reaches outside stakeholders (docs/drills.md)
    components = sorted(int(c) for c in (public.components or {}) if str(c).isdigit())
    _queue(session, kind="update", now=now, components=components, public_update_id=update.id)


def on_maintenance(session: Session, maintenance: Maintenance, *, now: datetime) -> None:
    """A maintenance notice (scheduled, started, completed) for its components' subscribers."""
    if maintenance.id is None:
        session.flush()
    _queue(
        session,
        kind="maintenance",
        now=now,
        components=sorted(maintenance.component_ids or []),
        maintenance_id=maintenance.id,
    )


def _is_drill(session: Session, incident_id: str | None) -> bool:
    if incident_id is None:
        return False
    return bool(session.scalar(select(Incident.drill).where(Incident.id == incident_id)))


def _queue(
    session: Session,
    *,
    kind: str,
    now: datetime,
    components: list[int],
    public_update_id: int | None = None,
    maintenance_id: int | None = None,
) -> None:
    session.add(
        StatusFanout(
            kind=kind,
            public_update_id=public_update_id,
            maintenance_id=maintenance_id,
            component_ids=components,
            after_id=0,
            queued=0,
            next_mail_at=now,
            next_webhook_at=now,
            created_at=now,
        )
    )


def words(session: Session, fanout: StatusFanout, *, public_url: str) -> dict[str, Any] | None:
    """What a fan-out's message says, per language, and what makes each message unique to
    it (its idempotency key's prefix). None: its update or maintenance is gone."""
    page = f"{public_url.rstrip('/')}/status"
    by_language: dict[str, dict[str, str]] = {}
    if fanout.kind == "update":
        update_row = session.get(PublicUpdate, fanout.public_update_id)
        public = session.get(PublicIncident, update_row.public_incident_id) if update_row else None
        if update_row is None or public is None:
            return None
        key = f"status:update:{update_row.id}"
        for lang in LANGUAGES:
            by_language[lang] = {
                "title": _text(public.title, lang),
                "status": STATE_WORDS.get(update_row.status, {}).get(lang, update_row.status),
                "text": _text(update_row.body, lang),
            }
    else:
        maintenance = session.get(Maintenance, fanout.maintenance_id)
        if maintenance is None:
            return None
        key = f"status:maintenance:{maintenance.id}:{fanout.id}"
        for lang in LANGUAGES:
            by_language[lang] = {
                "title": _text(maintenance.title, lang),
                "status": STATE_WORDS.get(maintenance.status, {}).get(lang, maintenance.status),
                "text": _text(maintenance.body, lang),
            }
    for lang in LANGUAGES:
        by_language[lang] |= {
            "site": _site(session, lang),
            "page_url": page,
            "components": _names(session, list(fanout.component_ids or []), lang),
        }
    return {"key": key, "by_language": by_language}
