"""Logout, a password change, deactivation and "sign out everywhere" end a user's console
sessions and login tokens on the server: the old cookie and the old bearer token are refused
afterwards, over real HTTP against the running server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from haetae.auth.models import User
from haetae.db import Database
from tests.support.people import api_login, api_token
from tests.support.server import RunningServer
from tests.web.console_client import PASSWORD, console_for, csrf_from, make_user, sign_in

NEW_PASSWORD = "a-new-and-longer-passphrase"


def _user_id(db: Database, username: str) -> int:
    with db.session(write=False) as session:
        found = session.scalars(select(User.id).where(User.username == username)).first()
        assert found is not None
        return found


def _bearer(server: RunningServer, username: str, password: str = PASSWORD) -> str:
    return api_token(server.url, username, password)


def _csrf(client: httpx.Client, page: str = "/profile") -> str:
    answer = client.get(page)
    assert answer.status_code == 200, answer.text
    return csrf_from(answer.text)


def _cookie_works(server: RunningServer, cookie: str) -> bool:
    with httpx.Client(base_url=server.url, cookies={"haetae_session": cookie}) as fresh:
        return fresh.get("/").status_code == 200


def _bearer_works(server: RunningServer, token: str) -> bool:
    me = httpx.get(
        f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return me.status_code == 200


def _logout(client: httpx.Client, admin: httpx.Client, user_id: int) -> None:
    answer = client.post("/logout", data={"csrf_token": _csrf(client)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def _password_form(client: httpx.Client, current: str, new: str, repeat: str) -> httpx.Response:
    return client.post(
        "/profile/password",
        data={
            "csrf_token": _csrf(client),
            "current_password": current,
            "new_password": new,
            "repeat_password": repeat,
        },
    )


def _change_password(client: httpx.Client, admin: httpx.Client, user_id: int) -> None:
    answer = _password_form(client, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/profile?changed=password")


def _deactivate(client: httpx.Client, admin: httpx.Client, user_id: int) -> None:
    answer = admin.post(
        f"/access/users/{user_id}/active", data={"csrf_token": _csrf(admin), "active": "0"}
    )
    assert answer.status_code == 303, answer.text


def _admin_signs_out(client: httpx.Client, admin: httpx.Client, user_id: int) -> None:
    answer = admin.post(f"/access/users/{user_id}/sign-out", data={"csrf_token": _csrf(admin)})
    assert answer.status_code == 303, answer.text


def _own_sign_out(client: httpx.Client, admin: httpx.Client, user_id: int) -> None:
    answer = client.post("/profile/sign-out", data={"csrf_token": _csrf(client)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


ENDINGS: dict[str, Callable[[httpx.Client, httpx.Client, int], None]] = {
    "console logout": _logout,
    "password change": _change_password,
    "deactivation on /access": _deactivate,
    "admin's sign out everywhere on /access": _admin_signs_out,
    "own sign out everywhere on the profile": _own_sign_out,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_old_cookie_and_old_bearer_token_are_refused_after(
    ending: str, server: RunningServer, db: Database
) -> None:
    make_user(db, "robin", role="viewer")  # viewers may log out and change their password too
    with (
        console_for(server.url, db, "ada", role="admin") as admin,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        assert sign_in(client, "robin").status_code == 303
        old_cookie = client.cookies["haetae_session"]
        token = _bearer(server, "robin")
        assert _cookie_works(server, old_cookie) and _bearer_works(server, token)

        ENDINGS[ending](client, admin, _user_id(db, "robin"))

        with httpx.Client(base_url=server.url, cookies={"haetae_session": old_cookie}) as old:
            page = old.get("/")
            assert page.status_code == 303
            assert page.headers["location"].startswith("/login")
            fragment = old.get("/", headers={"HX-Request": "true"})
            assert fragment.status_code == 401
            assert fragment.headers["hx-redirect"].startswith("/login")
        assert not _bearer_works(server, token)
        # The admin who acted is still signed in.
        assert admin.get("/access").status_code == 200


def test_after_a_password_change_this_browser_stays_signed_in_with_a_new_cookie(
    server: RunningServer, db: Database
) -> None:
    with console_for(server.url, db, "robin") as client:
        old_cookie = client.cookies["haetae_session"]
        _change_password(client, client, 0)
        new_cookie = client.cookies["haetae_session"]
        assert new_cookie != old_cookie
        assert _cookie_works(server, new_cookie)
        assert not _cookie_works(server, old_cookie)
        banner = client.get("/profile?changed=password")
        assert "Password changed; you were signed out everywhere else." in banner.text
        # And the new password is the one that signs in from now on.
        assert _bearer_works(server, _bearer(server, "robin", NEW_PASSWORD))
        refused = api_login(server.url, "robin", PASSWORD)
        assert refused.status_code == 401


@pytest.mark.parametrize(
    ("current", "new", "repeat", "status", "message"),
    [
        ("wrong-password-1", NEW_PASSWORD, NEW_PASSWORD, 401, "Your current password is not"),
        (PASSWORD, "short", "short", 422, "at least 8 characters"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", 422, "its repetition differ"),
    ],
)
def test_a_refused_password_change_says_why_and_ends_nothing(
    current: str,
    new: str,
    repeat: str,
    status: int,
    message: str,
    server: RunningServer,
    db: Database,
) -> None:
    with console_for(server.url, db, "robin") as client:
        old_cookie = client.cookies["haetae_session"]
        answer = _password_form(client, current, new, repeat)
        assert answer.status_code == status
        assert message in answer.text
        assert new not in answer.text  # typed passwords are never sent back
        assert _cookie_works(server, old_cookie)
        assert _bearer_works(server, _bearer(server, "robin"))


def test_a_password_change_in_korean_says_so_in_korean(server: RunningServer, db: Database) -> None:
    with console_for(server.url, db, "robin", locale="ko") as client:
        answer = client.post(
            "/profile/password",
            data={
                "csrf_token": _csrf(client),
                "current_password": "wrong-password-1",
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
            },
        )
        assert answer.status_code == 401
        assert "현재 비밀번호가 올바르지 않습니다." in answer.text
        assert "비밀번호 변경" in answer.text
