"""API keys: made (the clear text shown once), listed, revoked, expired, capped at the
owner's current role, and their last use recorded."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from haetae.auth.models import ApiKey, User
from haetae.auth.service import RANK, Principal, _check_role, capped
from haetae.db import Database
from haetae.errors import HaetaeError
from haetae.inputs import INT32_MAX

log = logging.getLogger("haetae.auth")

KEY_PREFIX = "hk_"
# At most one "last used" write per key per process in this time: a busy script must not
# turn every read into a write.
LAST_USED_EVERY = timedelta(seconds=60)
MAX_LIFETIME = timedelta(days=3650)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session,
    *,
    name: str,
    role: str,
    now: datetime,
    user: User | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key; the clear text is returned once and only its hash is stored.

    A key bound to a user cannot be made with more than the user's current role, and it
    acts with at most the role the user holds when it is used."""
    _check_role(role)
    if not name.strip():
        raise HaetaeError("VALIDATION_ERROR", "name must not be empty.", field="name")
    if user is not None:
        if not user.active:
            raise HaetaeError(
                "VALIDATION_ERROR", f"User '{user.username}' is deactivated.", field="user"
            )
        if RANK[role] > RANK[user.role]:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"A key for {user.username} can have at most their role ({user.role}).",
                field="role",
            )
    if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
        raise HaetaeError(
            "VALIDATION_ERROR",
            "expires_at must be in the future and within ten years.",
            field="expires_at",
        )
    clear = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name.strip(),
        prefix=clear[:10],
        key_hash=digest(clear),
        role=role,
        user_id=user.id if user else None,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, clear


def state(key: ApiKey, now: datetime) -> str:
    """active, expired or revoked."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def principal_for_api_key(session: Session, clear: str, now: datetime) -> Principal | None:
    """Who a presented key acts as, or None if it is unknown, revoked, expired, or its
    owner is deactivated. Read on every request, so a change holds at once everywhere."""
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest(clear))).first()
    if key is None or state(key, now) != "active":
        return None
    if key.user_id is not None:
        user = session.get(User, key.user_id)
        if user is None or not user.active:
            return None
        return Principal(
            user.username, capped(key.role, user.role), "api_key", user.locale, key_id=key.id
        )
    return Principal(f"apikey:{key.name}", key.role, "api_key", key_id=key.id)


@dataclass(frozen=True)
class KeyView:
    """A key as it is listed: never its hash or clear text."""

    id: int
    name: str
    prefix: str
    role: str
    effective_role: str  # the role it acts with now: capped at its owner's, none if unusable
    user: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str


def _view(key: ApiKey, owner: User | None, now: datetime) -> KeyView:
    current = state(key, now)
    effective = key.role if owner is None else capped(key.role, owner.role)
    if current != "active" or (owner is not None and not owner.active):
        effective = ""
    return KeyView(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=key.role,
        effective_role=effective,
        user=owner.username if owner else None,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        state=current,
    )


def list_keys(
    session: Session, *, now: datetime, owner: User | None = None, include_revoked: bool = True
) -> list[KeyView]:
    """Every key (or one user's), newest first."""
    query = select(ApiKey, User).outerjoin(User, ApiKey.user_id == User.id)
    if owner is not None:
        query = query.where(ApiKey.user_id == owner.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    rows = session.execute(query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    return [_view(key, user, now) for key, user in rows]


def find_key(session: Session, ref: str | int) -> ApiKey:
    """A key by id, or by its shown prefix (`hk_AbC1234`) when that names just one."""
    key: ApiKey | None = None
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        number = int(ref)
        # Beyond the id column's range PostgreSQL would refuse the query: no such key.
        key = session.get(ApiKey, number) if 0 < number <= INT32_MAX else None
    elif ref.startswith(KEY_PREFIX):
        found = list(session.scalars(select(ApiKey).where(ApiKey.prefix == ref[:10]).limit(2)))
        if len(found) > 1:
            raise HaetaeError("CONFLICT", f"More than one key starts with {ref}; use its id.")
        key = found[0] if found else None
    if key is None:
        raise HaetaeError("NOT_FOUND", f"No API key {ref}.")
    return key


def view_of(session: Session, key: ApiKey, now: datetime) -> KeyView:
    owner = session.get(User, key.user_id) if key.user_id is not None else None
    return _view(key, owner, now)


def revoke(key: ApiKey, *, now: datetime) -> bool:
    """Revoke a key; it gets 401 from its next request. False if it already was."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    return True


def owned_by(session: Session, key: ApiKey, username: str) -> bool:
    if key.user_id is None:
        return False
    owner = session.get(User, key.user_id)
    return owner is not None and owner.username == username


class KeyUse:
    """Records when each key was last used, writing at most once per key per minute per
    process, after the answer has gone (FastAPI background task)."""

    def __init__(self) -> None:
        self._written: dict[int, float] = {}
        self._lock = threading.Lock()

    def due(self, key_id: int) -> bool:
        """Whether this process should record a use of the key now (and note that it will)."""
        moment = time.monotonic()
        with self._lock:
            last = self._written.get(key_id)
            if last is not None and moment - last < LAST_USED_EVERY.total_seconds():
                return False
            self._written[key_id] = moment
            return True

    @staticmethod
    def record(db: Database, key_id: int, now: datetime) -> None:
        """Write the use; a failure is logged and dropped, as it must never cost a request."""
        cutoff = now - LAST_USED_EVERY
        try:
            with db.session(write=True) as session:
                session.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == key_id,
                        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < cutoff),
                    )
                    .values(last_used_at=now)
                    .execution_options(synchronize_session=False)
                )
        except Exception as exc:  # a locked or unreachable database: try again next minute
            log.warning("API key last use not recorded", extra={"f_reason": type(exc).__name__})
