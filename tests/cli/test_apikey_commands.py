"""`haetae apikey list|revoke|create --expires` and `haetae user deactivate|activate|set-role|
sign-out`: taking access back from the command line, checked against the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.db import Database
from tests.conftest import JWT_SECRET

PASSWORD = "correct horse battery"


@pytest.fixture
def database(haetae) -> Iterator[Database]:
    """The CLI's database, read directly; every test runs a command (which migrates) first."""
    db = Database(haetae.url)
    yield db
    db.dispose()


def _make_user(haetae, username: str, role: str) -> None:
    haetae(f"user create {username} --role {role} --password-stdin", stdin=PASSWORD + "\n")


def _acts_as(database: Database, clear: str) -> tuple[str, str] | None:
    with database.session(write=False) as session:
        principal = keys.principal_for_api_key(session, clear, datetime.now(UTC))
    return None if principal is None else (principal.name, principal.role)


def _token(database: Database, username: str) -> str:
    now = datetime.now(UTC)
    with database.session(write=False) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return auth.issue_token(user, secret=JWT_SECRET, ttl=timedelta(hours=1), now=now)


def _token_works(database: Database, token: str) -> bool:
    with database.session(write=False) as session:
        found = auth.principal_for_token(session, token, secret=JWT_SECRET, now=datetime.now(UTC))
    return found is not None


def test_keys_are_listed_with_user_effective_role_and_state_and_revoked_by_prefix(haetae, database):
    _make_user(haetae, "rin", "responder")
    rins = haetae("apikey create rin-ci --role responder --user rin --json").json()
    service = haetae("apikey create grafana --role viewer --expires 90d --json").json()
    assert rins["user"] == "rin" and service["user"] is None
    expires = datetime.fromisoformat(service["expires_at"])
    assert timedelta(days=89, hours=23) < expires - datetime.now(UTC) <= timedelta(days=90)

    haetae("user set-role rin viewer")
    listed = {k["name"]: k for k in haetae("apikey list --json").json()}
    assert (listed["rin-ci"]["role"], listed["rin-ci"]["effective_role"]) == (
        "responder",
        "viewer",
    )
    assert listed["grafana"]["user"] is None and listed["grafana"]["state"] == "active"
    assert _acts_as(database, rins["key"]) == ("rin", "viewer")
    table = haetae("apikey list").out
    header = next(line for line in table.splitlines() if line.strip()).split()
    assert header[:5] == ["ID", "NAME", "PREFIX", "USER", "ROLE"]
    assert "STATE" in header and "LAST" in header
    assert "responder -> viewer" in table
    assert rins["prefix"] in table and rins["key"] not in table

    out = haetae(f"apikey revoke {rins['prefix']}").out
    assert f"revoked API key {rins['id']}" in out
    assert _acts_as(database, rins["key"]) is None
    again = haetae(f"apikey revoke {rins['id']} --json").json()
    assert again["state"] == "revoked"
    assert "already revoked" in haetae(f"apikey revoke {rins['id']}").out

    assert [k["name"] for k in haetae("apikey list --json").json()] == ["grafana"]
    assert {k["name"] for k in haetae("apikey list --all --json").json()} == {"rin-ci", "grafana"}
    assert [k["name"] for k in haetae("apikey list --all --user rin --json").json()] == ["rin-ci"]
    assert "revoked" in haetae("apikey list --all").out
    haetae("apikey revoke 999", expect=4)
    haetae("apikey list --user nobody", expect=4)


def test_a_key_expires_on_an_iso_date_and_bad_expiries_are_refused(haetae, database):
    day = f"{datetime.now(UTC).year + 2}-03-01"
    made = haetae(f"apikey create nightly --role viewer --expires {day} --json").json()
    assert made["expires_at"].startswith(f"{day}T00:00:00")
    assert _acts_as(database, made["key"]) == ("apikey:nightly", "viewer")
    haetae("apikey create x --expires soon", expect=3)
    haetae("apikey create x --expires 2001-01-01", expect=3)  # in the past
    haetae("apikey create x --expires 20000d", expect=3)  # beyond ten years
    assert [k["name"] for k in haetae("apikey list --json").json()] == ["nightly"]


def test_a_key_above_its_users_role_is_refused(haetae, database):
    _make_user(haetae, "vera", "viewer")
    haetae("apikey create wall --role responder --user vera", expect=3)
    haetae("apikey create wall --user nobody", expect=4)


def test_deactivating_a_user_signs_them_out_and_stops_their_keys_until_activated(haetae, database):
    _make_user(haetae, "mia", "responder")
    key = haetae("apikey create mia-ci --user mia --json").json()["key"]
    token = _token(database, "mia")
    assert _token_works(database, token)

    assert "signed out everywhere" in haetae("user deactivate mia").out
    assert not _token_works(database, token)
    assert _acts_as(database, key) is None
    listed = haetae("user list").out
    assert any(
        line.split()[0] == "mia" and line.split()[-1] == "no"
        for line in listed.splitlines()
        if line.strip()
    )
    assert haetae("user list --json").json()[0]["active"] is False
    (shown,) = haetae("apikey list --json").json()
    assert shown["effective_role"] is None

    assert haetae("user activate mia --json").json()["active"] is True
    assert _acts_as(database, key) == ("mia", "responder")
    assert not _token_works(database, token)  # signed out stays signed out
    haetae("user deactivate nobody", expect=4)


def test_sign_out_and_passwd_end_every_login_token(haetae, database):
    _make_user(haetae, "joon", "admin")
    token = _token(database, "joon")
    assert "signed joon out everywhere" in haetae("user sign-out joon").out
    assert not _token_works(database, token)

    token = _token(database, "joon")
    out = haetae("user passwd joon --password-stdin", stdin="another long one\n").out
    assert "sessions have ended" in out
    assert not _token_works(database, token)
    assert _token_works(database, _token(database, "joon"))


def test_set_role_changes_the_role_and_refuses_an_unknown_one(haetae, database):
    _make_user(haetae, "soo", "viewer")
    assert haetae("user set-role soo admin --json").json()["role"] == "admin"
    haetae("user set-role soo owner", expect=3)
    haetae("user set-role nobody admin", expect=4)
    assert haetae("user list --json").json()[0]["role"] == "admin"
