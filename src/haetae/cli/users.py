"""User and API key commands: the way in before anyone can log in to the API, and the way to
take it back (deactivate, sign out everywhere, revoke)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.auth.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, UserIn, UserOut
from haetae.cli.common import (
    EXIT_INVALID,
    JsonFlag,
    build,
    config_or_exit,
    console,
    fail,
    local_time,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.people import service as people
from haetae.policy.terms import parse_duration

user_app = typer.Typer(
    help="People who log in to the API and the web console.", no_args_is_help=True
)
apikey_app = typer.Typer(help="API keys for scripts and integrations.", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option("--role", help="viewer, responder or admin")]
UsernameArg = Annotated[str, typer.Argument(metavar="USERNAME")]


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(apikey_app, name="apikey")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so `printf '%s\n' "$PW" | haetae user create ...` works as expected.
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on stdin", EXIT_INVALID)
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def create_user(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    role: RoleOption = "responder",
    display_name: Annotated[str, typer.Option("--display-name")] = "",
    email: Annotated[str | None, typer.Option("--email")] = None,
    locale: Annotated[str, typer.Option("--locale", help="en or ko")] = "en",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin (one line)."),
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Create a user; the password is prompted for twice, or read with --password-stdin."""
    # Check everything but the password first, so nobody types a password for nothing.
    build(
        UserIn, username=username, role=role, display_name=display_name, email=email, locale=locale
    )
    data = build(
        UserIn,
        username=username,
        password=_read_password(password_stdin),
        role=role,
        display_name=display_name,
        email=email,
        locale=locale,
    )
    config = config_or_exit()
    with transaction(config) as session:
        user = UserOut.model_validate(auth.create_user(session, now=now(), **data.model_dump()))
    if json_:
        print_json(user)
    else:
        say(f"created {user.role} {user.username}")


@user_app.command("passwd")
def set_password(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin (one line)."),
    ] = False,
) -> None:
    """Set a user's password (people made by `haetae apply` have none until then)."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        people.get_user(session, username)  # before anyone types a password for nobody
    password = _read_password(password_stdin)
    with transaction(config) as session:
        auth.set_password(people.get_user(session, username), password)
    say(f"password set for {username}; their login tokens and console sessions have ended")


@user_app.command("deactivate")
def deactivate_user(username: UsernameArg, json_: JsonFlag = False) -> None:
    """Deactivate a user: signed out everywhere, their API keys and action links stop working
    until they are activated again."""
    config = config_or_exit()
    with transaction(config) as session:
        user = people.get_user(session, username)
        auth.set_active(user, False)
        out = UserOut.model_validate(user)
    if json_:
        print_json(out)
    else:
        say(f"deactivated {username}; signed out everywhere, their API keys stop working")


@user_app.command("activate")
def activate_user(username: UsernameArg, json_: JsonFlag = False) -> None:
    """Activate a deactivated user again (they sign in anew; their keys work again)."""
    config = config_or_exit()
    with transaction(config) as session:
        user = people.get_user(session, username)
        auth.set_active(user, True)
        out = UserOut.model_validate(user)
    if json_:
        print_json(out)
    else:
        say(f"activated {username}")


@user_app.command("set-role")
def set_role(
    username: UsernameArg,
    role: Annotated[str, typer.Argument(metavar="ROLE", help="viewer, responder or admin")],
    json_: JsonFlag = False,
) -> None:
    """Change a user's role; it holds from their next request, for their API keys too."""
    config = config_or_exit()
    with transaction(config) as session:
        user = people.get_user(session, username)
        auth.set_role(user, role)
        out = UserOut.model_validate(user)
    if json_:
        print_json(out)
    else:
        say(f"{username} is now {role}")


@user_app.command("sign-out")
def sign_out(username: UsernameArg) -> None:
    """Sign a user out everywhere: every login token and console session ends (API keys are
    revoked with `haetae apikey revoke`)."""
    config = config_or_exit()
    with transaction(config) as session:
        auth.end_sessions(people.get_user(session, username))
    say(f"signed {username} out everywhere")


@user_app.command("list")
def list_users(json_: JsonFlag = False) -> None:
    """Every user, by username."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        users = [
            UserOut.model_validate(u) for u in session.scalars(select(User).order_by(User.username))
        ]
    if json_:
        print_json(users)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("USERNAME", "NAME", "ROLE", "LOCALE", "EMAIL", "ACTIVE"):
        table.add_column(column)
    for user in users:
        table.add_row(
            Text(user.username),
            Text(user.display_name),
            user.role,
            user.locale,
            Text(user.email or ""),
            "yes" if user.active else Text("no", style="red"),
        )
    console.print(table)


@apikey_app.command("create")
def create_api_key(
    name: Annotated[str, typer.Argument(metavar="NAME", help="What the key is for, e.g. ci.")],
    role: RoleOption = "responder",
    owner: Annotated[
        str | None,
        typer.Option("--user", help="Act as this user (the timeline shows their name)."),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="WHEN",
            help="90d (days from now) or an ISO date or time such as 2027-03-01 (UTC).",
        ),
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    data = build(ApiKeyIn, name=name, role=role)
    created_at = now()
    expires_at = _expiry(expires, created_at) if expires is not None else None
    config = config_or_exit()
    with transaction(config) as session:
        user = people.get_user(session, owner) if owner is not None else None
        key, clear = keys.create_api_key(
            session,
            name=data.name,
            role=data.role,
            now=created_at,
            user=user,
            expires_at=expires_at,
        )
        created = ApiKeyCreated(
            id=key.id,
            name=key.name,
            role=key.role,
            key=clear,
            prefix=key.prefix,
            user=owner,
            expires_at=key.expires_at,
        )
    if json_:
        print_json(created)
        return
    say(f"API key {created.name} ({created.role}); shown once, store it now:", err=True)
    # The key alone on stdout, so `KEY=$(haetae apikey create ci)` captures just the key.
    print(created.key)


def _expiry(value: str, at: datetime) -> datetime:
    """`90d` from `at`, or an ISO date (midnight) or time; naive means UTC."""
    try:
        return at + parse_duration(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"--expires: '{value}' is neither a number of days like 90d nor an ISO date",
            EXIT_INVALID,
        )
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _role_shown(view: keys.KeyView) -> str:
    if view.effective_role and view.effective_role != view.role:
        return f"{view.role} -> {view.effective_role}"
    return view.role


@apikey_app.command("list")
def list_api_keys(
    owner: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoked keys too.")] = False,
    json_: JsonFlag = False,
) -> None:
    """API keys, newest first, with their user, effective role, expiry, last use and state.
    A key's secret is never shown again."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        user = people.get_user(session, owner) if owner is not None else None
        views = keys.list_keys(session, now=now(), owner=user, include_revoked=all_)
    if json_:
        print_json([ApiKeyOut.model_validate(v) for v in views])
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in (
        "ID",
        "NAME",
        "PREFIX",
        "USER",
        "ROLE",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "STATE",
    ):
        table.add_column(column)
    styles = {"active": "", "expired": "yellow", "revoked": "red"}
    for view in views:
        table.add_row(
            str(view.id),
            Text(view.name),
            view.prefix,
            Text(view.user or "-"),
            _role_shown(view),
            local_time(view.created_at, pol),
            local_time(view.expires_at, pol),
            local_time(view.last_used_at, pol),
            Text(view.state, style=styles[view.state]),
        )
    console.print(table)


@apikey_app.command("revoke")
def revoke_api_key(
    ref: Annotated[str, typer.Argument(metavar="ID_OR_PREFIX", help="e.g. 12 or hk_AbC1234")],
    json_: JsonFlag = False,
) -> None:
    """Revoke a key: it gets 401 from its next request, in every server process."""
    config = config_or_exit()
    with transaction(config) as session:
        key = keys.find_key(session, ref)
        at = now()
        changed = keys.revoke(key, now=at)
        out = ApiKeyOut.model_validate(keys.view_of(session, key, at))
    if json_:
        print_json(out)
    elif changed:
        say(f"revoked API key {out.id} ({out.name}, {out.prefix})")
    else:
        say(f"API key {out.id} ({out.name}, {out.prefix}) was already revoked")
