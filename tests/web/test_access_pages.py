"""The Access page over real HTTP: admins manage people and API keys; a new key is shown once
and works at once, a revoked one stops at once; nobody else gets in; the last admin stays."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from haetae.auth import keys
from haetae.auth.models import ApiKey, User
from haetae.clock import utcnow
from haetae.db import Database
from tests.support.people import api_login
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from, make_user

_FRESH = re.compile(r'id="fresh-key-value"[^>]*value="(hk_[^"]+)"')


@pytest.fixture
def ada(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    """An admin signed in to the console."""
    with console_for(server.url, db, "ada", role="admin") as client:
        yield client


def _csrf(client: httpx.Client, page: str = "/profile") -> str:
    answer = client.get(page)
    assert answer.status_code == 200, answer.text
    return csrf_from(answer.text)


def _id_of(db: Database, username: str) -> int:
    with db.session(write=False) as session:
        found = session.scalars(select(User.id).where(User.username == username)).first()
        assert found is not None
        return found


def _me(server: RunningServer, key: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _create_key(ada: httpx.Client, **form: str) -> httpx.Response:
    data = {"name": "deploy script", "role": "responder", "owner": "", "days": ""} | form
    return ada.post("/access/keys", data={"csrf_token": _csrf(ada, "/access"), **data})


def test_admin_sees_people_and_keys(ada: httpx.Client, db: Database) -> None:
    make_user(db, "robin", role="viewer")
    with db.session() as session:
        _key, clear = keys.create_api_key(
            session, name="nightly export", role="viewer", now=utcnow()
        )
    page = ada.get("/access")
    assert page.status_code == 200
    assert "robin" in page.text and "ada" in page.text
    assert "nightly export" in page.text
    assert clear[:10] in page.text  # the prefix, to tell keys apart
    assert clear not in page.text  # never the key itself
    assert 'href="/access" aria-current="page"' in page.text


def test_a_new_key_is_shown_once_and_works_at_once(
    ada: httpx.Client, server: RunningServer
) -> None:
    answer = _create_key(ada, days="30")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found = _FRESH.search(answer.text)
    assert found, "the new key is not on the page"
    clear = found.group(1)
    assert "it is shown only once" in answer.text
    me = _me(server, clear)
    assert me.status_code == 200
    assert me.json()["role"] == "responder"
    again = ada.get("/access")
    assert clear not in again.text
    assert clear[:10] in again.text
    assert "deploy script" in again.text


def test_a_key_bound_to_a_user_is_shown_with_the_role_it_acts_with(
    ada: httpx.Client, server: RunningServer, db: Database
) -> None:
    make_user(db, "robin", role="responder")
    created = _create_key(ada, owner="robin", role="responder")
    found = _FRESH.search(created.text)
    assert found, created.text
    clear = found.group(1)
    demoted = ada.post(
        f"/access/users/{_id_of(db, 'robin')}/role",
        data={"csrf_token": _csrf(ada, "/access"), "role": "viewer"},
    )
    assert demoted.status_code == 303
    assert "Responder (acts as Viewer)" in ada.get("/access").text
    assert _me(server, clear).json()["role"] == "viewer"


def test_a_key_cannot_be_made_above_its_owner_or_with_a_bad_expiry(
    ada: httpx.Client, db: Database
) -> None:
    make_user(db, "robin", role="viewer")
    above = _create_key(ada, owner="robin", role="admin")
    assert above.status_code == 422
    assert "can have at most their role (Viewer)" in above.text
    assert not _FRESH.search(above.text)
    days = _create_key(ada, days="0")
    assert days.status_code == 422
    assert "a whole number from 1 to 3650" in days.text
    with db.session(write=False) as session:
        assert session.scalars(select(ApiKey)).first() is None


def test_revoking_a_key_refuses_it_at_once(
    ada: httpx.Client, server: RunningServer, db: Database
) -> None:
    found = _FRESH.search(_create_key(ada).text)
    assert found
    clear = found.group(1)
    assert _me(server, clear).status_code == 200
    with db.session(write=False) as session:
        key_id = session.scalars(select(ApiKey.id)).one()
    revoked = ada.post(f"/access/keys/{key_id}/revoke", data={"csrf_token": _csrf(ada)})
    assert revoked.status_code == 303
    assert _me(server, clear).status_code == 401
    page = ada.get("/access").text
    row = page[page.index(f'id="key-{key_id}"') :]
    assert "Revoked" in row[: row.index("</tr>")]
    assert f"/access/keys/{key_id}/revoke" not in page


def _admin_posts(db: Database) -> list[tuple[str, dict[str, str]]]:
    target = _id_of(db, "ada")
    with db.session() as session:
        key, _clear = keys.create_api_key(session, name="ci", role="viewer", now=utcnow())
        key_id = key.id
    return [
        ("/access/keys", {"name": "mine", "role": "viewer", "owner": "", "days": ""}),
        (f"/access/keys/{key_id}/revoke", {}),
        (f"/access/users/{target}/sign-out", {}),
        (f"/access/users/{target}/active", {"active": "0"}),
        (f"/access/users/{target}/role", {"role": "viewer"}),
    ]


@pytest.mark.parametrize("role", ["responder", "viewer"])
def test_only_admins_get_the_access_page_or_its_actions(
    role: str, ada: httpx.Client, server: RunningServer, db: Database
) -> None:
    with console_for(server.url, db, "robin", role=role) as other:
        page = other.get("/access")
        assert page.status_code == 403
        assert "Only an admin can manage access." in page.text
        for path, form in _admin_posts(db):
            answer = other.post(path, data={"csrf_token": _csrf(other), **form})
            assert answer.status_code == 403, path
    with db.session(write=False) as session:
        ada_now = session.scalars(select(User).where(User.username == "ada")).one()
        assert ada_now.active and ada_now.role == "admin" and ada_now.token_version == 0
        assert [k.revoked_at for k in session.scalars(select(ApiKey))] == [None]
    assert ada.get("/access").status_code == 200


def test_an_access_post_without_the_csrf_token_is_refused(ada: httpx.Client, db: Database) -> None:
    make_user(db, "robin")
    for path, form in _admin_posts(db):
        answer = ada.post(path, data=form)
        assert answer.status_code == 403, path
        assert "security token is missing" in answer.text
    with db.session(write=False) as session:
        assert len(list(session.scalars(select(ApiKey)))) == 1
    assert ada.get("/access").status_code == 200


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    ada: httpx.Client, db: Database
) -> None:
    ada_id = _id_of(db, "ada")
    for path, form in [
        (f"/access/users/{ada_id}/active", {"active": "0"}),
        (f"/access/users/{ada_id}/role", {"role": "responder"}),
    ]:
        answer = ada.post(path, data={"csrf_token": _csrf(ada), **form})
        assert answer.status_code == 409, path
        assert "ada is the last active admin" in answer.text
    assert ada.get("/access").status_code == 200
    # With a second admin, the first may step down; the second is then the last one.
    make_user(db, "grace", role="admin")
    grace_id = _id_of(db, "grace")
    stepped_down = ada.post(
        f"/access/users/{ada_id}/role", data={"csrf_token": _csrf(ada), "role": "responder"}
    )
    assert stepped_down.status_code == 303
    assert stepped_down.headers["location"] == "/"
    assert ada.get("/access").status_code == 403
    with db.session(write=False) as session:
        assert session.get(User, grace_id).role == "admin"


def test_an_admin_can_deactivate_and_reactivate_someone(
    ada: httpx.Client, server: RunningServer, db: Database
) -> None:
    make_user(db, "robin")
    robin = _id_of(db, "robin")
    off = ada.post(f"/access/users/{robin}/active", data={"csrf_token": _csrf(ada), "active": "0"})
    assert off.status_code == 303
    assert "Deactivated" in ada.get("/access").text
    refused = api_login(server.url, "robin")
    assert refused.status_code == 401
    on = ada.post(f"/access/users/{robin}/active", data={"csrf_token": _csrf(ada), "active": "1"})
    assert on.status_code == 303
    with db.session(write=False) as session:
        assert session.get(User, robin).active


def test_the_access_page_in_korean(server: RunningServer, db: Database) -> None:
    with console_for(server.url, db, "ada", role="admin") as ada:
        ada.cookies.set("lang", "ko")
        page = ada.get("/access")
        assert page.status_code == 200
        assert '<html lang="ko">' in page.text
        for korean in ("접근 관리", "사용자", "API 키", "새 API 키", "모든 곳에서 로그아웃"):
            assert korean in page.text, korean
        refused = ada.post(
            f"/access/users/{_id_of(db, 'ada')}/active",
            data={"csrf_token": _csrf(ada), "active": "0"},
        )
        assert "ada 님은 마지막 활성 관리자입니다." in refused.text
