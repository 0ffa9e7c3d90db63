"""Integrations: a named sender with a secret token, shown once and stored hashed."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from haetae.alerts.models import INTEGRATION_TYPES, Integration
from haetae.alerts.schemas import IntegrationOut, IntegrationToken
from haetae.db import Database
from haetae.errors import HaetaeError
from haetae.inputs import is_number

# Where each type of sender posts, relative to Haetae's base URL.
INGEST_PATHS = {
    "alertmanager": "/ingest/alertmanager",
    "grafana": "/ingest/grafana",
    "pagerduty": "/v2/enqueue",
    "generic": "/ingest/generic",
    "changes": "/api/v1/changes",
}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    # 32 characters: PagerDuty's integration keys have that length, and its client
    # libraries accept the token as a routing key unchanged.
    return secrets.token_hex(16)


def webhook_url(base_url: str, integration_type: str) -> str:
    return base_url.rstrip("/") + INGEST_PATHS[integration_type]


def integration_view(
    integration: Integration, base_url: str, token: str | None = None
) -> IntegrationOut:
    """An integration as the API, the CLI and the console show it: never the token's hash,
    and the token itself only on the answer that made it (`token`)."""
    values = {
        "id": integration.id,
        "name": integration.name,
        "type": integration.type,
        "token_prefix": integration.token_prefix,
        "created_by": integration.created_by,
        "created_at": integration.created_at,
        "rotated_at": integration.rotated_at,
        "enabled": integration.disabled_at is None,
        "url": webhook_url(base_url, integration.type),
    }
    return IntegrationToken(**values, token=token) if token else IntegrationOut(**values)


def get_integration(session: Session, name_or_id: str | int) -> Integration:
    query = select(Integration)
    if isinstance(name_or_id, int) or is_number(str(name_or_id)):
        query = query.where(Integration.id == int(name_or_id))
    else:
        query = query.where(Integration.name == name_or_id)
    found = session.scalars(query).first()
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No integration {name_or_id}.")
    return found


def list_integrations(session: Session) -> list[Integration]:
    return list(session.scalars(select(Integration).order_by(Integration.name)))


def create_integration(
    session: Session, *, name: str, type: str, actor: str, now: datetime
) -> tuple[Integration, str]:
    if type not in INTEGRATION_TYPES:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"type must be one of {', '.join(INTEGRATION_TYPES)}",
            field="type",
        )
    name = name.strip()
    if not name:
        raise HaetaeError("VALIDATION_ERROR", "name must not be empty", field="name")
    if session.scalars(select(Integration.id).where(Integration.name == name)).first():
        raise HaetaeError("CONFLICT", f"An integration named {name} already exists.")
    token = new_token()
    integration = Integration(
        name=name,
        type=type,
        token_hash=digest(token),
        token_prefix=token[:6],
        created_by=actor,
        created_at=now,
    )
    session.add(integration)
    session.flush()
    return integration, token


def rotate_token(session: Session, integration: Integration, *, now: datetime) -> str:
    """A new token; the old one stops working at once in this process (see TokenCache)."""
    token = new_token()
    integration.token_hash = digest(token)
    integration.token_prefix = token[:6]
    integration.rotated_at = now
    return token


def set_enabled(integration: Integration, enabled: bool, *, now: datetime) -> None:
    integration.disabled_at = None if enabled else (integration.disabled_at or now)


@dataclass(frozen=True, slots=True)
class Sender:
    """The integration a token belongs to, as the ingest path needs it."""

    id: int
    name: str
    type: str


class TokenCache:
    """Token -> integration, looked up once per `ttl` seconds instead of on every alert.

    A rotated or disabled token stops working at once in the process that changed it and
    within `ttl` seconds in other worker processes.
    """

    def __init__(self, database: Database, ttl: float = 5.0) -> None:
        self.database = database
        self.ttl = ttl
        self._entries: dict[str, tuple[Sender | None, float]] = {}
        self._lock = threading.Lock()

    async def lookup(self, token: str) -> Sender | None:
        key = digest(token)
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and entry[1] > now:
            return entry[0]
        # In a worker thread: an unreachable database must not stall the event loop.
        sender = await run_in_threadpool(self._load, key)
        with self._lock:
            if len(self._entries) > 10_000:  # bounded: random tokens cannot grow it forever
                self._entries.clear()
            self._entries[key] = (sender, now + self.ttl)
        return sender

    def was_valid(self, token: str) -> bool:
        """Whether this process has seen the token name a live integration (no database
        read): a sender that was let in before is looked up again even while its address
        is blocked for wrong tokens; a guess never was."""
        entry = self._entries.get(digest(token))
        return entry is not None and entry[0] is not None

    def _load(self, key: str) -> Sender | None:
        with self.database.session(write=False) as session:
            row = session.scalars(
                select(Integration).where(
                    Integration.token_hash == key, Integration.disabled_at.is_(None)
                )
            ).first()
            return Sender(row.id, row.name, row.type) if row else None

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


def presented_token(authorization: str | None, query_token: str | None) -> str | None:
    """The integration token a sender presents: `Authorization: Bearer|Token <token>`, else
    `?token=` (for senders that cannot set headers). The ingest paths and the change feed
    read it alike."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
    return query_token or None
