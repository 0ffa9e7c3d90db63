"""What a caller may see and change of people's accounts: whose keys, whose e-mail, which
role and active changes, shared by the API and the console."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth import service as auth
from haetae.auth.models import ApiKey, User
from haetae.auth.service import Principal
from haetae.errors import HaetaeError
from haetae.policy.schema import Policy


def caller_user(session: Session, principal: Principal) -> User | None:
    """The user a caller acts as: a login token's, or a key's owner. None for the bootstrap
    API_KEY and for keys bound to nobody (service keys)."""
    if principal.via == "api_key":
        key = session.get(ApiKey, principal.key_id) if principal.key_id is not None else None
        return session.get(User, key.user_id) if key and key.user_id is not None else None
    if principal.via in ("jwt", "password"):
        return session.scalars(select(User).where(User.username == principal.name)).first()
    return None


def shown_email(principal: Principal, policy: Policy, user: User) -> str | None:
    """A user's e-mail address as this caller may see it. Viewers (often people outside the
    on-call team, or a wall screen's key) see only their own unless the policy allows more."""
    if principal.role != "viewer" or policy.privacy.viewers_see_emails:
        return user.email
    # A service key's name is apikey:..., which no username can be (no ':' allowed).
    return user.email if principal.name == user.username else None


def _another_admin_remains(session: Session, user: User) -> bool:
    """Whether an active admin other than `user` exists. Their rows are locked (PostgreSQL)
    so that two admins demoting each other at the same moment cannot both pass; SQLite has
    one writer at a time anyway."""
    admins = session.scalars(
        select(User.id).where(User.role == "admin", User.active.is_(True)).with_for_update()
    )
    return any(admin_id != user.id for admin_id in admins)


def change_user(
    session: Session,
    user: User,
    *,
    by: Principal,
    role: str | None = None,
    active: bool | None = None,
) -> None:
    """Change a user's role or active state (API and console). The last active admin cannot
    be demoted or deactivated: nobody could sign in to undo it. The bootstrap API_KEY, and
    `haetae user` on the server, are the way back in and are not held to this."""
    stays_admin = (role or user.role) == "admin" and (user.active if active is None else active)
    if (
        by.via != "bootstrap_key"
        and user.role == "admin"
        and user.active
        and not stays_admin
        and not _another_admin_remains(session, user)
    ):
        raise HaetaeError(
            "CONFLICT",
            f"{user.username} is the last active admin; make another admin first.",
        )
    if role is not None:
        auth.set_role(user, role)
    if active is not None:
        auth.set_active(user, active)
