"""A status page subscriber's one-click unsubscribe link (RFC 8058), the same in every message.

Only a hash of a subscriber's random token is stored, so a message cannot carry that token.
Its unsubscribe token is instead derived from the stored hash with the server's secret
(HMAC-SHA256): anyone with the database alone cannot make one, and a subscriber deleted and
another given the same id gets a different one (the hash differs)."""

from __future__ import annotations

import hashlib
import hmac

_CONTEXT = b"haetae-statuspage-unsubscribe:"


def token(secret: str, subscriber_id: int, token_hash: str) -> str:
    """`ID.SIGNATURE`: the id finds the subscriber, the signature proves the link is ours."""
    mac = hmac.new(secret.encode(), _CONTEXT + f"{subscriber_id}:{token_hash}".encode(), "sha256")
    return f"{subscriber_id}.{mac.hexdigest()[:40]}"


def subscriber_id_of(value: str) -> int | None:
    """The id a token names (None: not a token's shape); check it with `matches`."""
    head, _, signature = value.partition(".")
    if not head.isdigit() or len(head) > 12 or len(signature) != 40:
        return None
    return int(head)


def matches(secret: str, value: str, subscriber_id: int, token_hash: str) -> bool:
    return hmac.compare_digest(token(secret, subscriber_id, token_hash), value)


def url(public_url: str, value: str) -> str:
    return f"{public_url.rstrip('/')}/status/unsubscribe/{value}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
