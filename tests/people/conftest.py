"""Clients signed in as particular people, talking HTTP to the running server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from haetae.auth import keys
from haetae.clock import utcnow
from haetae.db import Database
from tests.cli.conftest import haetae
from tests.support.people import add_user
from tests.support.server import RunningServer

__all__ = ["as_user", "haetae"]

AsUser = Callable[..., httpx.Client]


@pytest.fixture
def as_user(server: RunningServer, db: Database) -> Iterator[AsUser]:
    """`as_user("kim", role="responder")`: a new user and a client using their API key."""
    clients: list[httpx.Client] = []

    def make(username: str, role: str = "responder", **fields: Any) -> httpx.Client:
        with db.session() as session:
            user = add_user(session, username, password=None, role=role, **fields)
            _, key = keys.create_api_key(
                session, name=f"{username}-key", role=role, now=utcnow(), user=user
            )
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
