"""Console clients shared by the page tests: a signed-in responder and a viewer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from haetae.db import Database
from tests.support.server import RunningServer
from tests.web.console_client import console_for


@pytest.fixture
def alice(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    """A responder signed in to the console."""
    with console_for(server.url, db, "alice") as client:
        yield client


@pytest.fixture
def victor(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    """A viewer signed in to the console."""
    with console_for(server.url, db, "victor", role="viewer") as client:
        yield client
