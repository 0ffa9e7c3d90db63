"""Credentials as people expect them (issue 9): API keys listed, revoked, expired and capped at
their user's current role; logout, a password change, deactivation and "sign out everywhere"
ending tokens and console sessions; viewers kept from other people's e-mail addresses."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from haetae.app import create_app
from haetae.auth import service as auth
from haetae.clock import utcnow
from haetae.migrations import upgrade_to_head
from haetae.policy.schema import Policy, Privacy
from tests.api.helpers import error_code
from tests.conftest import ADMIN_KEY, _new_database_url
from tests.support.pg import PostgresCluster
from tests.support.server import BOOTSTRAP_KEY, serve_env, serve_process, start_server

PASSWORD = "correct horse"
INCIDENT = {"title": "Checkout returns 502", "business_impact": "revenue", "user_impact": "all"}


@pytest.fixture
def people(db) -> None:
    with db.session() as session:
        for name, role in (("ada", "admin"), ("rin", "responder"), ("vera", "viewer")):
            auth.create_user(
                session,
                username=name,
                password=PASSWORD,
                role=role,
                email=f"{name}@example.com",
                now=utcnow(),
            )


def _login(server, username: str, password: str = PASSWORD) -> str:
    r = httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _as(server, credential: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {credential}"}, timeout=30
    )


def _console_status(server, token: str) -> tuple[int, str]:
    """What the console's dashboard answers to a browser holding `token` as its cookie."""
    r = httpx.get(
        f"{server.url}/", cookies={"haetae_session": token}, follow_redirects=False, timeout=30
    )
    return r.status_code, r.headers.get("location", "")


def _key(api: httpx.Client, **body: Any) -> dict[str, Any]:
    r = api.post("/api/v1/api-keys", json={"name": "script", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


# Keys capped at their user's current role.


def test_a_key_of_a_demoted_user_reads_but_no_longer_writes_until_promoted_again(
    server, api, people
):
    key = _key(api, role="responder", user="rin")
    assert (key["user"], key["role"], key["prefix"]) == ("rin", "responder", key["key"][:10])
    with _as(server, key["key"]) as rin:
        assert rin.post("/api/v1/incidents", json=INCIDENT).status_code == 201

        r = api.patch("/api/v1/users/rin", json={"role": "viewer"})
        assert (r.status_code, r.json()["role"]) == (200, "viewer")
        assert rin.get("/api/v1/incidents").status_code == 200
        r = rin.post("/api/v1/incidents", json=INCIDENT)
        assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
        assert rin.get("/api/v1/auth/me").json()["role"] == "viewer"
        listed = {k["id"]: k for k in api.get("/api/v1/api-keys").json()}
        assert (listed[key["id"]]["role"], listed[key["id"]]["effective_role"]) == (
            "responder",
            "viewer",
        )

        assert api.patch("/api/v1/users/rin", json={"role": "responder"}).status_code == 200
        assert rin.post("/api/v1/incidents", json=INCIDENT).status_code == 201


def test_a_key_made_by_a_signed_in_admin_is_theirs_and_falls_with_their_demotion(
    server, api, people
):
    with _as(server, _login(server, "ada")) as ada:
        made = ada.post("/api/v1/api-keys", json={"name": "ada-ci", "role": "admin"})
        assert made.status_code == 201, made.text
    assert made.json()["user"] == "ada"
    with _as(server, made.json()["key"]) as key:
        assert key.post("/api/v1/users", json={"username": "kim"}).status_code == 201
        assert api.patch("/api/v1/users/ada", json={"role": "viewer"}).status_code == 200
        r = key.post("/api/v1/users", json={"username": "lee"})
        assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
        assert key.post("/api/v1/incidents", json=INCIDENT).status_code == 403
        assert key.get("/api/v1/incidents").status_code == 200
    # The bootstrap key makes service keys bound to nobody.
    assert _key(api, role="viewer")["user"] is None


def test_a_key_above_its_users_role_or_with_two_expiries_is_refused(api, people):
    r = api.post("/api/v1/api-keys", json={"name": "x", "role": "admin", "user": "rin"})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = api.post("/api/v1/api-keys", json={"name": "x", "role": "viewer", "user": "nobody"})
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_USER")
    later = (utcnow() + timedelta(days=1)).isoformat()
    r = api.post("/api/v1/api-keys", json={"name": "x", "expires_at": later, "expires_in_days": 3})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = api.post("/api/v1/api-keys", json={"name": "x", "expires_in_days": 0})
    assert r.status_code == 422
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    r = api.post("/api/v1/api-keys", json={"name": "x", "expires_at": past})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    assert api.get("/api/v1/api-keys").json() == []


def test_keys_are_listed_without_their_secret_and_an_expiry_in_days_is_kept(api, people):
    made = _key(api, role="viewer", user="vera", expires_in_days=30)
    listed = api.get("/api/v1/api-keys")
    assert listed.status_code == 200
    (key,) = listed.json()
    assert set(key) == {
        "id",
        "name",
        "prefix",
        "role",
        "effective_role",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "state",
    }
    assert (key["user"], key["state"], key["effective_role"]) == ("vera", "active", "viewer")
    assert key["expires_at"] == made["expires_at"]
    assert made["key"] not in listed.text
    expires = datetime.fromisoformat(key["expires_at"])
    created = datetime.fromisoformat(key["created_at"])
    assert expires - created == timedelta(days=30)


def test_last_use_of_a_key_appears_in_the_list_after_it_is_used(settings, db, policy, people):
    # A server of its own: the shared one remembers writing the last use of keys with this id
    # in earlier tests (SQLite gives a deleted row's id again) and would wait a minute.
    running = start_server(create_app(settings, policy=policy, database=db, migrate=False))
    try:
        with _as(running, ADMIN_KEY) as api:
            key = _key(api, role="viewer", user="vera")
            assert api.get("/api/v1/api-keys").json()[0]["last_used_at"] is None
            with _as(running, key["key"]) as vera:
                assert vera.get("/api/v1/incidents").status_code == 200
            deadline = time.monotonic() + 5
            while True:
                (listed,) = api.get("/api/v1/api-keys").json()
                if listed["last_used_at"] is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    finally:
        running.stop()
    assert listed["last_used_at"] is not None
    assert listed["last_used_at"] >= listed["created_at"]


# Who may list and revoke which key.


def test_a_responder_sees_and_revokes_only_their_own_keys(server, api, people):
    own = _key(api, role="responder", user="rin")
    other = _key(api, role="viewer", user="vera")
    service = _key(api, role="viewer")
    with _as(server, _login(server, "rin")) as rin:
        assert [k["id"] for k in rin.get("/api/v1/api-keys").json()] == [own["id"]]
        for key in (other, service):
            r = rin.post(f"/api/v1/api-keys/{key['id']}/revoke")
            assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
        for unknown in ("999999", "99999999999999999999", "\u00b2", "hk_nothing", "ci"):
            r = rin.post(f"/api/v1/api-keys/{unknown}/revoke")
            assert (r.status_code, error_code(r)) == (404, "NOT_FOUND"), unknown
        r = rin.post(f"/api/v1/api-keys/{own['prefix']}/revoke")
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["effective_role"]) == ("revoked", None)
        first = r.json()["revoked_at"]
        again = rin.post(f"/api/v1/api-keys/{own['id']}/revoke")
        assert (again.status_code, again.json()["revoked_at"]) == (200, first)
        assert rin.get("/api/v1/api-keys", params={"include_revoked": "false"}).json() == []
    with _as(server, own["key"]) as revoked:
        assert revoked.get("/api/v1/incidents").status_code == 401
    with _as(server, other["key"]) as still:
        assert still.get("/api/v1/incidents").status_code == 200
    # The admin sees every key, revoked ones too unless asked not to.
    assert len(api.get("/api/v1/api-keys").json()) == 3
    assert len(api.get("/api/v1/api-keys?include_revoked=false").json()) == 2


def test_a_key_bound_to_a_user_revokes_itself_and_an_admin_revokes_any(server, api, people):
    rins = _key(api, role="responder", user="rin")
    veras = _key(api, role="viewer", user="vera")
    with _as(server, rins["key"]) as rin:
        assert [k["id"] for k in rin.get("/api/v1/api-keys").json()] == [rins["id"]]
        assert rin.post(f"/api/v1/api-keys/{rins['id']}/revoke").status_code == 200
        assert rin.get("/api/v1/api-keys").status_code == 401
    assert api.post(f"/api/v1/api-keys/{veras['id']}/revoke").json()["state"] == "revoked"


# Sessions that end.


def test_logout_ends_every_login_token_and_console_session_of_the_user(server, people):
    first, second = _login(server, "rin"), _login(server, "rin")
    assert _console_status(server, second)[0] == 200
    with _as(server, first) as rin:
        assert rin.post("/api/v1/auth/logout").status_code == 204
        assert rin.get("/api/v1/incidents").status_code == 401
    with _as(server, second) as other_device:
        assert other_device.get("/api/v1/incidents").status_code == 401
    status, location = _console_status(server, second)
    assert status == 303 and location.startswith("/login")
    with _as(server, _login(server, "rin")) as again:
        assert again.get("/api/v1/incidents").status_code == 200


def test_logout_with_an_api_key_says_to_revoke_it_instead(server, api, people):
    r = api.post("/api/v1/auth/logout")
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    key = _key(api, role="responder", user="rin")
    with _as(server, key["key"]) as rin:
        r = rin.post("/api/v1/auth/logout")
        assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
        assert "revok" in r.json()["error"]["message"]
        assert rin.get("/api/v1/incidents").status_code == 200


def test_a_password_change_ends_old_sessions_and_answers_a_token_that_works(server, people):
    old, elsewhere = _login(server, "rin"), _login(server, "rin")
    with _as(server, old) as rin:
        wrong = rin.post(
            "/api/v1/auth/password",
            json={"current_password": "not it at all", "new_password": "a new password"},
        )
        assert (wrong.status_code, error_code(wrong)) == (401, "UNAUTHORIZED")
        short = rin.post(
            "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        assert short.status_code == 422
        assert rin.get("/api/v1/incidents").status_code == 200  # refused changes end nothing
        changed = rin.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "a new password"},
        )
        assert changed.status_code == 200, changed.text
        assert rin.get("/api/v1/incidents").status_code == 401
    for token in (old, elsewhere):
        with _as(server, token) as stale:
            assert stale.get("/api/v1/incidents").status_code == 401
        assert _console_status(server, token)[0] == 303
    fresh = changed.json()["access_token"]
    with _as(server, fresh) as rin:
        assert rin.get("/api/v1/auth/me").json()["name"] == "rin"
    assert _console_status(server, fresh)[0] == 200
    _login(server, "rin", "a new password")
    r = httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"username": "rin", "password": PASSWORD},
        timeout=30,
    )
    assert r.status_code == 401


def test_only_people_change_passwords(server, api):
    r = api.post(
        "/api/v1/auth/password",
        json={"current_password": "whatever it is", "new_password": "a new password"},
    )
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")


def test_deactivation_ends_tokens_sessions_and_keys_until_reactivated(server, api, people):
    token = _login(server, "rin")
    key = _key(api, role="responder", user="rin")
    r = api.patch("/api/v1/users/rin", json={"active": False})
    assert (r.status_code, r.json()["active"]) == (200, False)
    for credential in (token, key["key"]):
        with _as(server, credential) as rin:
            assert rin.get("/api/v1/incidents").status_code == 401
    assert _console_status(server, token)[0] == 303
    assert api.get("/api/v1/api-keys").json()[0]["effective_role"] is None

    assert api.patch("/api/v1/users/rin", json={"active": True}).json()["active"] is True
    with _as(server, token) as rin:
        assert rin.get("/api/v1/incidents").status_code == 401  # signed out for good
    with _as(server, key["key"]) as rin:
        assert rin.get("/api/v1/incidents").status_code == 200


def test_sign_out_everywhere_by_an_admin_or_the_user_themselves(server, api, people):
    rins, veras = _login(server, "rin"), _login(server, "vera")
    with _as(server, veras) as vera:
        r = vera.post("/api/v1/users/rin/sign-out")
        assert (r.status_code, error_code(r)) == (403, "FORBIDDEN")
    assert api.post("/api/v1/users/rin/sign-out").status_code == 204
    with _as(server, rins) as rin:
        assert rin.get("/api/v1/incidents").status_code == 401
    assert _console_status(server, rins)[0] == 303
    with _as(server, veras) as vera:
        assert vera.post("/api/v1/users/vera/sign-out").status_code == 204
        assert vera.get("/api/v1/incidents").status_code == 401
    assert api.post("/api/v1/users/nobody/sign-out").status_code == 404


def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(server, api, people):
    with _as(server, _login(server, "ada")) as ada:
        for change in ({"active": False}, {"role": "responder"}):
            r = ada.patch("/api/v1/users/ada", json=change)
            assert (r.status_code, error_code(r)) == (409, "CONFLICT"), change
        assert ada.patch("/api/v1/users/rin", json={"role": "admin"}).status_code == 200
        r = ada.patch("/api/v1/users/ada", json={"role": "responder"})
        assert (r.status_code, r.json()["role"]) == (200, "responder")
        assert ada.get("/api/v1/users").status_code == 200
        assert ada.patch("/api/v1/users/rin", json={"role": "viewer"}).status_code == 403
    with _as(server, _login(server, "rin")) as rin:
        assert rin.patch("/api/v1/users/vera", json={"role": "responder"}).status_code == 200
    assert api.patch("/api/v1/users/nobody", json={"role": "viewer"}).status_code == 404


# Viewers and e-mail addresses.


def _emails(client: httpx.Client) -> dict[str, str | None]:
    listed = client.get("/api/v1/users")
    assert listed.status_code == 200
    emails = {u["username"]: u["email"] for u in listed.json()}
    for name in emails:
        profile = client.get(f"/api/v1/users/{name}/profile")
        assert profile.json()["email"] == emails[name], name
    return emails


def test_a_viewer_sees_only_their_own_email_and_others_see_all(server, api, people):
    with _as(server, _login(server, "vera")) as vera:
        assert _emails(vera) == {"ada": None, "rin": None, "vera": "vera@example.com"}
    key = _key(api, role="viewer")  # a service key (a wall screen) sees nobody's
    with _as(server, key["key"]) as screen:
        assert set(_emails(screen).values()) == {None}
    everyone = {n: f"{n}@example.com" for n in ("ada", "rin", "vera")}
    with _as(server, _login(server, "rin")) as rin:
        assert _emails(rin) == everyone
    assert _emails(api) == everyone


def test_a_policy_can_let_viewers_see_emails(settings, db, policy: Policy, people):
    open_policy = policy.model_copy(update={"privacy": Privacy(viewers_see_emails=True)})
    running = start_server(create_app(settings, policy=open_policy, database=db, migrate=False))
    try:
        with _as(running, _login(running, "vera")) as vera:
            assert _emails(vera) == {n: f"{n}@example.com" for n in ("ada", "rin", "vera")}
    finally:
        running.stop()


# Several server processes: a change holds in every one of them at once.


@pytest.fixture(scope="module")
def two_workers(
    pg_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """`haetae serve --workers 2` on a database of its own: its URL and its process id."""
    tmp = tmp_path_factory.mktemp("two-workers")
    url = _new_database_url(pg_cluster, tmp, "credentials")
    upgrade_to_head(url)
    env = serve_env(tmp / "data", DATABASE_URL=url, HAETAE_RUN_WORKER="false")
    with serve_process(env, "--workers", "2") as (proc, base):
        yield base, proc.pid


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces; the parent's id is the 2nd field after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _process_holding(pids: set[int], server_port: int, client_port: int) -> int | None:
    """Which of `pids` accepted the connection from `client_port` (its socket is theirs)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.rsplit(":", 1)[1], 16) == server_port
            and int(remote.rsplit(":", 1)[1], 16) == client_port
        ):
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


def _answer_of_every_process(
    base: str, serve_pid: int, credential: str, *, within: float = 60.0
) -> int:
    """GET /api/v1/auth/me with `credential`, each on a new connection, until both worker
    processes have answered at least three times: the one status they all gave. Bounded in
    time rather than tries: on a busy machine the second process may still be starting, and
    one idle process can take many connections in a row."""
    workers = _children(serve_pid)
    port = int(base.rsplit(":", 1)[1])
    seen: dict[int, list[int]] = {}
    deadline = time.monotonic() + within
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        if tries > 20:
            time.sleep(0.02)  # give the other process a turn at accept()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(
                "GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {credential}"}
            )
            response = conn.getresponse()
            response.read()
            pid = _process_holding(workers, port, conn.sock.getsockname()[1])
        finally:
            conn.close()
        assert pid is not None, "no worker process holds the connection"
        seen.setdefault(pid, []).append(response.status)
        if len(seen) >= 2 and all(len(s) >= 3 for s in seen.values()):
            break
    assert len(seen) == 2, f"only {len(seen)} process(es) answered {tries} connections"
    statuses = {status for answered in seen.values() for status in answered}
    assert len(statuses) == 1, f"the processes answered differently: {seen}"
    return statuses.pop()


def _admin(base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=30
    )


def _user(admin: httpx.Client, username: str) -> None:
    r = admin.post(
        "/api/v1/users", json={"username": username, "password": PASSWORD, "role": "responder"}
    )
    assert r.status_code == 201, r.text


def test_a_revoked_key_is_refused_at_once_by_every_worker_process(two_workers):
    base, pid = two_workers
    with _admin(base) as admin:
        _user(admin, "mia")
        made = admin.post("/api/v1/api-keys", json={"name": "ci", "user": "mia"}).json()
        assert _answer_of_every_process(base, pid, made["key"]) == 200
        assert admin.post(f"/api/v1/api-keys/{made['id']}/revoke").status_code == 200
    assert _answer_of_every_process(base, pid, made["key"]) == 401


def test_an_expired_key_is_refused_by_every_worker_process(two_workers):
    base, pid = two_workers
    expires = utcnow() + timedelta(seconds=4)
    with _admin(base) as admin:
        r = admin.post(
            "/api/v1/api-keys",
            json={"name": "brief", "role": "viewer", "expires_at": expires.isoformat()},
        )
        assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert _answer_of_every_process(base, pid, key) == 200
    time.sleep(max(0.0, (expires - utcnow()).total_seconds()) + 0.5)
    assert _answer_of_every_process(base, pid, key) == 401
    with _admin(base) as admin:
        listed = {k["name"]: k for k in admin.get("/api/v1/api-keys").json()}
    assert listed["brief"]["state"] == "expired"


def test_a_deactivated_users_key_and_tokens_are_refused_by_every_worker_process(two_workers):
    base, pid = two_workers
    with _admin(base) as admin:
        _user(admin, "noa")
        key = admin.post("/api/v1/api-keys", json={"name": "noa-ci", "user": "noa"}).json()["key"]
        login = {"username": "noa", "password": PASSWORD}
        token = httpx.post(f"{base}/api/v1/auth/login", json=login).json()["access_token"]
        for credential in (key, token):
            assert _answer_of_every_process(base, pid, credential) == 200
        assert admin.patch("/api/v1/users/noa", json={"active": False}).status_code == 200
    for credential in (key, token):
        assert _answer_of_every_process(base, pid, credential) == 401


def test_a_logged_out_token_is_refused_by_every_worker_process(two_workers):
    base, pid = two_workers
    with _admin(base) as admin:
        _user(admin, "ari")
    login = {"username": "ari", "password": PASSWORD}
    token = httpx.post(f"{base}/api/v1/auth/login", json=login).json()["access_token"]
    assert _answer_of_every_process(base, pid, token) == 200
    out = httpx.post(f"{base}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert _answer_of_every_process(base, pid, token) == 401
    assert (
        json.loads(
            httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).text
        )["error"]["code"]
        == "UNAUTHORIZED"
    )
