"""Who may do what: API keys with roles, passwords and JWT login."""

from __future__ import annotations

import httpx
import pytest

from haetae.clock import clock
from tests.api.helpers import declare, error_code
from tests.support.people import add_user


@pytest.fixture
def people(db):
    with db.session() as session:
        for name, role in (("vera", "viewer"), ("rin", "responder")):
            add_user(session, name, password="correct horse", role=role)


def _client(server, token):
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _login(anon, username, password="correct horse"):
    return anon.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_every_api_route_needs_credentials(anon):
    for method, path in [
        ("GET", "/api/v1/incidents"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/incidents/INC-20260101-001/timeline"),
        ("GET", "/api/v1/policy"),
        ("POST", "/api/v1/users"),
    ]:
        r = anon.request(method, path, json={})
        assert (r.status_code, error_code(r)) == (401, "UNAUTHORIZED"), path
    r = anon.get("/api/v1/incidents", headers={"Authorization": "Bearer hk_not-a-real-key"})
    assert r.status_code == 401
    r = anon.get("/api/v1/incidents", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert r.status_code == 401


def test_login_gives_a_token_whose_role_limits_the_caller(server, anon, api, people):
    assert _login(anon, "vera", "wrong password").status_code == 401
    assert _login(anon, "nobody").status_code == 401
    token = _login(anon, "vera").json()["access_token"]
    inc = declare(api)["id"]
    with _client(server, token) as viewer:
        assert viewer.get("/api/v1/auth/me").json() == {
            "name": "vera",
            "role": "viewer",
            "via": "jwt",
        }
        assert viewer.get(f"/api/v1/incidents/{inc}").status_code == 200
        r = viewer.post(f"/api/v1/incidents/{inc}/notes", json={"body": "hi"})
        assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    token = _login(anon, "rin").json()["access_token"]
    with _client(server, token) as responder:
        r = responder.post(f"/api/v1/incidents/{inc}/notes", json={"body": "on it"})
        assert r.status_code == 201 and r.json()["author"] == "rin"
        r = responder.post("/api/v1/api-keys", json={"name": "ci"})
        assert r.status_code == 403


def test_tokens_expire(server, anon, people):
    token = _login(anon, "rin").json()["access_token"]
    clock.advance(hours=13)
    with _client(server, token) as client:
        assert client.get("/api/v1/incidents").status_code == 401


def test_a_tampered_token_is_refused(server, anon, people):
    token = _login(anon, "vera").json()["access_token"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    with _client(server, forged) as client:
        assert client.get("/api/v1/incidents").status_code == 401


def test_api_keys_are_shown_once_and_carry_their_role(server, api, db):
    created = api.post("/api/v1/api-keys", json={"name": "grafana", "role": "viewer"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("hk_")
    from sqlalchemy import select

    from haetae.auth.models import ApiKey

    with db.session() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert key not in (stored.key_hash, stored.prefix)
    with _client(server, key) as client:
        assert client.get("/api/v1/auth/me").json()["name"] == "apikey:grafana"
        assert client.post("/api/v1/incidents", json={"title": "x"}).status_code == 403


def test_admin_creates_users_who_can_log_in(api, anon):
    r = api.post(
        "/api/v1/users",
        json={"username": "soo", "password": "long enough pw", "role": "responder", "locale": "ko"},
    )
    assert r.status_code == 201
    assert (
        api.post(
            "/api/v1/users", json={"username": "soo", "password": "long enough pw"}
        ).status_code
        == 409
    )
    assert api.post("/api/v1/users", json={"username": "x", "password": "short"}).status_code == 422
    assert _login(anon, "soo", "long enough pw").status_code == 200
