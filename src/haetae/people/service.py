"""People: profiles, contact methods (Apprise URLs, masked when shown) and notification
rules, and what the engine pages a person with."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.notify import channels, delivery
from haetae.oncall.schemas import check_zone
from haetae.people.models import ContactMethod, NotificationRule
from haetae.people.schemas import ContactMethodOut

# Schemes whose host part is a real host name; in the others (slack://TOKEN/...) the "host"
# is a secret and the masked form shows the scheme alone.
HOST_SCHEMES = frozenset(
    {"mailto", "mailtos", "json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys"}
)


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise HaetaeError("NOT_FOUND", f"No user '{username}'.")
    return user


def update_profile(
    session: Session,
    user: User,
    *,
    display_name: str | None = None,
    email: str | None = None,
    locale: str | None = None,
    time_zone: str | None = None,
    fields: set[str],
) -> User:
    """Change the named `fields` of a user's profile (a field given as None clears it)."""
    if "display_name" in fields:
        user.display_name = display_name or user.username
    if "email" in fields:
        user.email = email or None
    if "locale" in fields:
        if locale not in ("en", "ko"):
            raise HaetaeError("VALIDATION_ERROR", "locale must be en or ko.", field="locale")
        user.locale = locale
    if "time_zone" in fields:
        if time_zone is not None:
            try:
                check_zone(time_zone)
            except ValueError as exc:
                raise HaetaeError("VALIDATION_ERROR", str(exc), field="time_zone") from None
        user.time_zone = time_zone
    session.flush()
    return user


# Contact methods.


def mask_url(url: str) -> str:
    """What the API shows of a contact method's URL: the scheme and, when it is a real host
    name, the host: `mailto://***@example.com`, `json://hooks.example.com/***`, `slack://***`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "***"
    scheme = parts.scheme.lower()
    if not scheme:
        return "***"
    if scheme not in HOST_SCHEMES or not host:
        return f"{scheme}://***"
    where = f"{host}:{port}" if port else host
    if "@" in parts.netloc:
        return f"{scheme}://***@{where}"
    rest = "/***" if (parts.path.strip("/") or parts.query) else ""
    return f"{scheme}://{where}{rest}"


def contact_out(method: ContactMethod) -> ContactMethodOut:
    """A contact method as the API and the CLI show it: the URL masked."""
    return ContactMethodOut(
        id=method.id,
        name=method.name,
        kind=method.kind,
        url=mask_url(method.url),
        position=method.position,
        enabled=method.enabled,
        created_at=method.created_at,
    )


def _url_kind(url: str) -> str:
    """The URL's scheme, if Apprise can deliver to it; the refusal never repeats the URL."""
    try:
        return delivery.check_url(url)
    except ValueError as exc:
        raise HaetaeError("VALIDATION_ERROR", f"url: {exc}", field="url") from None


def _marked(kind: str | None, url: str) -> str:
    """The `kind` column: the kind the contact method is marked with (phone, sms, email,
    slack, chat, webhook; for a URL that cannot tell, e.g. a voice gateway's webhook), else
    the URL's scheme."""
    scheme = _url_kind(url)
    if kind is None or kind == "auto":
        return scheme
    if kind not in channels.CHANNEL_KINDS:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"kind must be auto or one of: {', '.join(channels.CHANNEL_KINDS)}.",
            field="kind",
        )
    return kind


def contact_methods(session: Session, user: User) -> list[ContactMethod]:
    """A user's contact methods in fallback order."""
    return list(
        session.scalars(
            select(ContactMethod)
            .where(ContactMethod.user_id == user.id)
            .order_by(ContactMethod.position, ContactMethod.id)
        )
    )


def get_contact_method(session: Session, user: User, method_id: int) -> ContactMethod:
    method = session.get(ContactMethod, method_id)
    if method is None or method.user_id != user.id:
        raise HaetaeError("NOT_FOUND", f"{user.username} has no contact method {method_id}.")
    return method


def _name_taken(session: Session, user: User, name: str, but: int | None = None) -> None:
    query = select(ContactMethod.id).where(
        ContactMethod.user_id == user.id, ContactMethod.name == name
    )
    if but is not None:
        query = query.where(ContactMethod.id != but)
    if session.scalars(query).first() is not None:
        raise HaetaeError("CONFLICT", f"{user.username} already has a contact method '{name}'.")


def add_contact_method(
    session: Session,
    user: User,
    *,
    name: str,
    url: str,
    position: int | None = None,
    enabled: bool = True,
    kind: str | None = None,
    now: datetime,
) -> ContactMethod:
    """`kind` marks the contact method as a phone, sms ... (None or "auto": its URL says)."""
    kind = _marked(kind, url)
    _name_taken(session, user, name)
    if position is None:
        last = session.scalar(
            select(func.max(ContactMethod.position)).where(ContactMethod.user_id == user.id)
        )
        position = 0 if last is None else last + 1
    method = ContactMethod(
        user_id=user.id,
        name=name,
        kind=kind,
        url=url,
        position=position,
        enabled=enabled,
        created_at=now,
    )
    session.add(method)
    session.flush()
    return method


def update_contact_method(
    session: Session,
    method: ContactMethod,
    user: User,
    *,
    name: str | None = None,
    url: str | None = None,
    position: int | None = None,
    enabled: bool | None = None,
    kind: str | None = None,
) -> ContactMethod:
    """`kind`: None keeps the kind the method is marked with (if any), "auto" clears it."""
    if name is not None and name != method.name:
        _name_taken(session, user, name, but=method.id)
        method.name = name
    if kind is None:
        kind = channels.marked_kind(method.kind, method.url)
    new_url = url if url is not None else method.url
    kind = _marked(kind, new_url) if (kind or url is not None) else method.kind
    if url is not None and url != method.url:
        method.url = url
    method.kind = kind
    if position is not None:
        method.position = position
    if enabled is not None:
        method.enabled = enabled
    session.flush()
    return method


def delete_contact_method(session: Session, method: ContactMethod) -> None:
    """Its notification rules go with it (ON DELETE CASCADE, and here for SQLite's sake)."""
    session.execute(delete(NotificationRule).where(NotificationRule.contact_method_id == method.id))
    session.delete(method)
    session.flush()


# Notification rules: which contact method after how many minutes.


def notification_rules(
    session: Session, user: User
) -> list[tuple[NotificationRule, ContactMethod]]:
    rows = session.execute(
        select(NotificationRule, ContactMethod)
        .join(ContactMethod, ContactMethod.id == NotificationRule.contact_method_id)
        .where(NotificationRule.user_id == user.id)
        .order_by(NotificationRule.delay_minutes, ContactMethod.position, NotificationRule.id)
    )
    return [(rule, method) for rule, method in rows.all()]


def add_notification_rule(
    session: Session, user: User, *, contact_method_id: int, delay_minutes: int
) -> NotificationRule:
    method = session.get(ContactMethod, contact_method_id)
    if method is None or method.user_id != user.id:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"{user.username} has no contact method {contact_method_id}.",
            field="contact_method_id",
        )
    if delay_minutes < 0:
        raise HaetaeError(
            "VALIDATION_ERROR", "delay_minutes must be 0 or more.", field="delay_minutes"
        )
    exists = session.scalars(
        select(NotificationRule.id).where(
            NotificationRule.user_id == user.id,
            NotificationRule.contact_method_id == method.id,
            NotificationRule.delay_minutes == delay_minutes,
        )
    ).first()
    if exists is not None:
        raise HaetaeError(
            "CONFLICT", f"{method.name} after {delay_minutes} minutes is already a rule."
        )
    rule = NotificationRule(
        user_id=user.id, contact_method_id=method.id, delay_minutes=delay_minutes
    )
    session.add(rule)
    session.flush()
    return rule


def get_notification_rule(session: Session, user: User, rule_id: int) -> NotificationRule:
    rule = session.get(NotificationRule, rule_id)
    if rule is None or rule.user_id != user.id:
        raise HaetaeError("NOT_FOUND", f"{user.username} has no notification rule {rule_id}.")
    return rule


def delete_notification_rule(session: Session, rule: NotificationRule) -> None:
    """The API, the console and `haetae apply` all remove a rule through here."""
    session.delete(rule)
    session.flush()
