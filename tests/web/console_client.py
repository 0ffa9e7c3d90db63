"""Signing in to the console over real HTTP, as a browser would, for the page tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from haetae.auth.service import create_user
from haetae.clock import utcnow
from haetae.db import Database

PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(db: Database, username: str, *, role: str = "responder", locale: str = "en") -> None:
    with db.session() as session:
        create_user(
            session, username=username, password=PASSWORD, role=role, locale=locale, now=utcnow()
        )


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200, form.text
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(form.text),
            "next": "/",
        },
    )


@contextmanager
def console_for(base_url: str, db: Database, username: str, **user: str) -> Iterator[httpx.Client]:
    """A new user and a client signed in as them (cookies kept, redirects not followed)."""
    make_user(db, username, **user)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client
