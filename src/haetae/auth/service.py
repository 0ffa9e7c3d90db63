"""Passwords (argon2), API keys (hashed, shown once) and JWT login tokens."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import ROLES, User
from haetae.errors import HaetaeError
from haetae.inputs import text_problem

_hasher = PasswordHasher()
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name shown on the timeline and the role that limits them."""

    name: str
    role: str
    via: str  # password | jwt | api_key | bootstrap_key
    locale: str = "en"
    key_id: int | None = None  # the API key used, so its last use can be recorded

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
    """A new password (users made by `haetae apply` have none until one is set). Every
    login token and console session of the user ends with the old password."""
    if len(password) < 8:
        raise HaetaeError(
            "VALIDATION_ERROR", "password must be at least 8 characters.", field="password"
        )
    user.password_hash = _hasher.hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: each login token (bearer or console cookie) carries the
    token version it was issued under, and is refused once that no longer matches."""
    user.token_version = (user.token_version or 0) + 1


def set_active(user: User, active: bool) -> None:
    """Deactivating ends the user's sessions; their API keys and action links stop working
    while they are inactive, because each use checks the owner."""
    if user.active and not active:
        end_sessions(user)
    user.active = active


def set_role(user: User, role: str) -> None:
    """The new role holds for every credential of the user from their next request: login
    tokens read the role from here, and a user's API key is capped at it."""
    _check_role(role)
    user.role = role


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the user's current one (to confirm a password change)."""
    if not user.password_hash or text_problem(password):
        return False
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerifyMismatchError, InvalidHashError):
        return False


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


def bootstrap_principal(configured: str | None, presented: str) -> Principal | None:
    if configured and hmac.compare_digest(configured.encode(), presented.encode()):
        return Principal("admin", "admin", "bootstrap_key")
    return None


def issue_token(user: User, *, secret: str, ttl: timedelta, now: datetime) -> str:
    claims = {
        "sub": user.username,
        "role": user.role,
        "ver": user.token_version or 0,
        "iat": now,
        "exp": now + ttl,
    }
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
    # Logout, a password change, deactivation and "sign out everywhere" raise the version.
    # Tokens from before versions existed carry none and count as version 0.
    version = claims.get("ver", 0)
    if not isinstance(version, int) or version != (user.token_version or 0):
        return None
    # The role comes from the database, so a demotion takes effect at once.
    return Principal(user.username, user.role, "jwt", user.locale)


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and not value.startswith("hk_")


def capped(role: str, ceiling: str) -> str:
    """The lower of two roles: what a key may do when its owner now holds `ceiling`."""
    return role if RANK[role] <= RANK[ceiling] else ceiling
