"""Making people for tests through the services a deployment uses (auth and people), never by
inserting rows, so a test's user is whatever a real user would be."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.clock import utcnow
from haetae.db import Database
from haetae.people import service as people

PASSWORD = "correct-horse-battery"


def add_user(
    session: Session,
    username: str,
    *urls: str,
    password: str | None = PASSWORD,
    role: str = "responder",
    locale: str = "en",
    display_name: str = "",
    email: str | None = None,
    delays: tuple[int, ...] = (),
) -> User:
    """A user with contact methods `urls` in fallback order; `delays` adds notification rules
    (one per contact method, in minutes after the page)."""
    now = utcnow()
    user = auth.create_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        email=email,
        locale=locale,
        now=now,
    )
    for position, url in enumerate(urls):
        method = people.add_contact_method(
            session, user, name=f"{url.split(':', 1)[0]}-{position}", url=url, now=now
        )
        if position < len(delays):
            people.add_notification_rule(
                session, user, contact_method_id=method.id, delay_minutes=delays[position]
            )
    return user


def make_user(db: Database, username: str, *urls: str, **fields: Any) -> int:
    """`add_user` in a transaction of its own; the new user's id."""
    with db.session() as session:
        return add_user(session, username, *urls, **fields).id


def api_login(base_url: str, username: str, password: str = PASSWORD) -> httpx.Response:
    """Signing in over the API (POST /api/v1/auth/login), as a script would."""
    return httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=30,
    )


def api_token(base_url: str, username: str, password: str = PASSWORD) -> str:
    """The bearer token a successful API sign-in gives."""
    answer = api_login(base_url, username, password)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
