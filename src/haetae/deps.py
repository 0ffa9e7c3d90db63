"""What every route gets: the caller, the policy, the database and the time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.service import Principal
from haetae.clock import utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.errors import HaetaeError
from haetae.policy.schema import Policy


@dataclass
class Context:
    principal: Principal
    policy: Policy
    db: Database
    settings: Settings

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.db.session(write=True) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.session(write=False) as session:
            yield session

    @property
    def actor(self) -> str:
        return self.principal.name

    @staticmethod
    def now() -> datetime:
        return utcnow()


def resolve_principal(request: Request, credential: str | None) -> Principal | None:
    if not credential:
        return None
    settings: Settings = request.app.state.settings
    found = auth.bootstrap_principal(settings.api_key, credential)
    if found:
        return found
    db: Database = request.app.state.db
    with db.session(write=False) as session:
        if auth.looks_like_jwt(credential):
            return auth.principal_for_token(
                session, credential, secret=settings.jwt_secret or "", now=utcnow()
            )
        return keys.principal_for_api_key(session, credential, utcnow())


def note_key_use(request: Request, principal: Principal, tasks: BackgroundTasks) -> None:
    """Record an API key's use after the answer has gone, once a minute at most."""
    if principal.key_id is None:
        return
    uses: keys.KeyUse = request.app.state.key_use
    if uses.due(principal.key_id):
        tasks.add_task(uses.record, request.app.state.db, principal.key_id, utcnow())


# Declared so that the OpenAPI document (and /docs' Authorize button) knows the scheme.
_bearer_scheme = HTTPBearer(
    auto_error=False, description="An API key (hk_...), the bootstrap API_KEY or a login token"
)


def require(role: str) -> Callable[..., Context]:
    """A dependency that admits callers with at least `role` (viewer < responder < admin)."""

    def dependency(
        request: Request,
        tasks: BackgroundTasks,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer_scheme),
    ) -> Context:
        principal = resolve_principal(request, credentials.credentials if credentials else None)
        if principal is None:
            raise HaetaeError("UNAUTHORIZED", "Send 'Authorization: Bearer <API key or token>'.")
        note_key_use(request, principal, tasks)
        if not principal.allows(role):
            raise HaetaeError("FORBIDDEN", f"This needs the {role} role; you are {principal.role}.")
        state = request.app.state
        return Context(principal, state.policy, state.db, state.settings)

    return dependency


viewer = Depends(require("viewer"))
responder = Depends(require("responder"))
admin = Depends(require("admin"))
