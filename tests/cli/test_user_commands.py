"""`haetae user` and `haetae apikey`: the way in, created from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.db import Database

PASSWORD = "correct horse battery"


def test_user_created_with_password_from_stdin_can_log_in(haetae):
    created = haetae(
        "user create minji --role admin --display-name 'Kim Minji' --locale ko "
        "--password-stdin --json",
        stdin=PASSWORD + "\n",
    ).json()
    assert (created["username"], created["role"], created["locale"]) == ("minji", "admin", "ko")
    listed = haetae("user list --json").json()
    assert [u["username"] for u in listed] == ["minji"]
    assert PASSWORD not in str(created) + str(listed)

    db = Database(haetae.url)
    try:
        with db.session(write=False) as session:
            user = auth.authenticate_password(session, "minji", PASSWORD)
            assert user is not None and user.display_name == "Kim Minji"
            assert auth.authenticate_password(session, "minji", PASSWORD + "x") is None
    finally:
        db.dispose()


def test_api_key_is_printed_once_and_works(haetae):
    created = haetae("apikey create ci --role viewer --json").json()
    assert set(created) == {"id", "name", "role", "key", "prefix", "user", "expires_at"}
    assert (created["prefix"], created["user"]) == (created["key"][:10], None)
    assert (created["name"], created["role"]) == ("ci", "viewer")

    db = Database(haetae.url)
    try:
        with db.session(write=False) as session:
            principal = keys.principal_for_api_key(session, created["key"], datetime.now(UTC))
    finally:
        db.dispose()
    assert principal is not None and (principal.name, principal.role) == ("apikey:ci", "viewer")
