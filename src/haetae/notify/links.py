"""Signed one-use links that acknowledge or resolve an incident from a page, without a login.

A token is `JTI.SIGNATURE`: a random id and an HMAC of it under the app's JWT secret, short
enough for an SMS. What it may do (incident, action, who, until when) lives in its
ActionLink row, so nothing in the token can be edited to widen it, and using it once marks
the row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from haetae.notify.models import ActionLink

# "approve" opens a gated message's approval page (web/approval_pages.py), never /act/.
ACTIONS = ("acknowledge", "resolve", "approve")
_CONTEXT = b"haetae-action-link:"
_SIGNATURE_CHARS = 32  # 192 bits of the HMAC, base64url


def _signature(jti: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), _CONTEXT + jti.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_SIGNATURE_CHARS]


def issue(
    session: Session,
    *,
    incident_id: str,
    action: str,
    user_id: int | None,
    now: datetime,
    ttl: timedelta,
    secret: str,
    external_contact_id: int | None = None,
) -> str:
    """A new link's token, recorded as an ActionLink row in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown link action '{action}' (one of {', '.join(ACTIONS)})")
    if not secret:
        raise ValueError("action links need the JWT secret to sign them")
    jti = secrets.token_urlsafe(16)
    session.add(
        ActionLink(
            jti=jti,
            incident_id=incident_id,
            action=action,
            user_id=user_id,
            external_contact_id=external_contact_id,
            expires_at=now + ttl,
            used_at=None,
        )
    )
    return f"{jti}.{_signature(jti, secret)}"


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/act/{token}"


def verified_jti(token: str, secret: str) -> str | None:
    """The link id a token carries if its signature is ours, else None."""
    jti, dot, signature = token.partition(".")
    if not dot or not jti or len(jti) > 64 or not secret:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(jti, secret).encode()):
        return None
    return jti


def find(session: Session, token: str, *, secret: str) -> ActionLink | None:
    """The link a token names, or None for a forged, mangled or unknown token."""
    jti = verified_jti(token, secret)
    return session.get(ActionLink, jti) if jti is not None else None


def expired(link: ActionLink, *, now: datetime) -> bool:
    return link.expires_at <= now


def use(session: Session, link: ActionLink, *, now: datetime) -> bool:
    """Mark the link used. True for exactly one caller, however many click at once: the
    update only matches an unused, unexpired row, and the database serialises it."""
    result = session.execute(
        update(ActionLink)
        .where(
            ActionLink.jti == link.jti,
            ActionLink.used_at.is_(None),
            ActionLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
