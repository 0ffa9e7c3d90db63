"""Passwords (argon2), API keys (hashed, shown once) and JWT login tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import ROLES, ApiKey, User
from haetae.errors import HaetaeError
from haetae.inputs import text_problem

_hasher = PasswordHasher()
KEY_PREFIX = "hk_"
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name shown on the timeline and the role that limits them."""

    name: str
    role: str
    via: str  # password | jwt | api_key | bootstrap_key
    locale: str = "en"

    def allows(self, needed: str) -> bool:
        return RANK[self.role] >= RANK[needed]


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise HaetaeError(
            "VALIDATION_ERROR", f"role must be one of: {', '.join(ROLES)}.", field="role"
        )


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    role: str = "responder",
    display_name: str = "",
    email: str | None = None,
    locale: str = "en",
    now: datetime,
) -> User:
    _check_role(role)
    if (
        not username
        or len(username) > 64
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise HaetaeError(
            "VALIDATION_ERROR",
            "username: letters, digits, '.', '-' and '_' only.",
            field="username",
        )
    if password is not None and len(password) < 8:
        raise HaetaeError(
            "VALIDATION_ERROR", "password must be at least 8 characters.", field="password"
        )
    if session.scalars(select(User).where(User.username == username)).first():
        raise HaetaeError("CONFLICT", f"User '{username}' already exists.")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role,
        locale=locale if locale in ("en", "ko") else "en",
        password_hash=_hasher.hash(password) if password else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """A new password (users made by `haetae apply` have none until one is set)."""
    if len(password) < 8:
        raise HaetaeError(
            "VALIDATION_ERROR", "password must be at least 8 characters.", field="password"
        )
    user.password_hash = _hasher.hash(password)


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    if text_problem(username) or text_problem(password):
        return None  # cannot match a stored user; the database would refuse the query
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # same work whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    return user


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, *, name: str, role: str, now: datetime, user: User | None = None
) -> tuple[ApiKey, str]:
    """A new key; the clear text is returned once and only its hash is stored."""
    _check_role(role)
    if not name.strip():
        raise HaetaeError("VALIDATION_ERROR", "name must not be empty.", field="name")
    clear = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name.strip(),
        prefix=clear[:10],
        key_hash=_digest(clear),
        role=role,
        user_id=user.id if user else None,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, clear


def principal_for_api_key(session: Session, clear: str) -> Principal | None:
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(clear))).first()
    if key is None or key.revoked_at is not None:
        return None
    if key.user_id is not None:
        user = session.get(User, key.user_id)
        if user is None or not user.active:
            return None
        return Principal(user.username, key.role, "api_key", user.locale)
    return Principal(f"apikey:{key.name}", key.role, "api_key")


def bootstrap_principal(configured: str | None, presented: str) -> Principal | None:
    if configured and hmac.compare_digest(configured.encode(), presented.encode()):
        return Principal("admin", "admin", "bootstrap_key")
    return None


def issue_token(user: User, *, secret: str, ttl: timedelta, now: datetime) -> str:
    claims = {"sub": user.username, "role": user.role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def principal_for_token(
    session: Session, token: str, *, secret: str, now: datetime
) -> Principal | None:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "require": ["sub", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    # Expiry against our clock, so that moving the clock in tests behaves like real time.
    if datetime.fromtimestamp(claims["exp"], tz=now.tzinfo) <= now:
        return None
    user = session.scalars(select(User).where(User.username == claims["sub"])).first()
    if user is None or not user.active:
        return None
    # The role comes from the database, so a demotion takes effect at once.
    return Principal(user.username, user.role, "jwt", user.locale)


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and not value.startswith(KEY_PREFIX)
