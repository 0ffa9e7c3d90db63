"""Signing in to the console over real HTTP, as a browser would, for the page tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from haetae.db import Database
from tests.api.helpers import declare
from tests.support.people import PASSWORD, make_user

__all__ = ["PASSWORD", "console_for", "csrf_from", "make_user", "open_incident", "sign_in"]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(
    client: httpx.Client, username: str, password: str = PASSWORD, *, next: str = "/"
) -> httpx.Response:
    form = client.get(f"/login?next={next}")
    assert form.status_code == 200, form.text
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(form.text),
            "next": next,
        },
    )


def open_incident(
    api: httpx.Client, client: httpx.Client, **fields: object
) -> tuple[str, str, str]:
    """An incident declared through the API: its id, its console path and the form token
    `client` gets on its page."""
    incident_id = str(declare(api, **fields)["id"])
    url = f"/incidents/{incident_id}"
    return incident_id, url, csrf_from(client.get(url).text)


@contextmanager
def console_for(base_url: str, db: Database, username: str, **user: str) -> Iterator[httpx.Client]:
    """A new user and a client signed in as them (cookies kept, redirects not followed)."""
    make_user(db, username, **user)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client
