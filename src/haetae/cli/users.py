"""User and API key commands: the way in before anyone can log in to the API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.auth.schemas import ApiKeyCreated, ApiKeyIn, UserIn, UserOut
from haetae.cli.common import (
    EXIT_INVALID,
    JsonFlag,
    build,
    config_or_exit,
    console,
    fail,
    now,
    print_json,
    say,
    transaction,
)
from haetae.errors import HaetaeError

user_app = typer.Typer(
    help="People who log in to the API and the web console.", no_args_is_help=True
)
apikey_app = typer.Typer(help="API keys for scripts and integrations.", no_args_is_help=True)

RoleOption = Annotated[str, typer.Option("--role", help="viewer, responder or admin")]


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
        if session.scalars(select(User.id).where(User.username == username)).first() is None:
            raise HaetaeError("NOT_FOUND", f"User '{username}' does not exist.")
    password = _read_password(password_stdin)
    with transaction(config) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        auth.set_password(user, password)
    say(f"password set for {username}")


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
    json_: JsonFlag = False,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    data = build(ApiKeyIn, name=name, role=role)
    config = config_or_exit()
    with transaction(config) as session:
        user = None
        if owner is not None:
            user = session.scalars(select(User).where(User.username == owner)).first()
            if user is None:
                raise HaetaeError("NOT_FOUND", f"User '{owner}' does not exist.")
        key, clear = keys.create_api_key(
            session, name=data.name, role=data.role, now=now(), user=user
        )
        created = ApiKeyCreated(id=key.id, name=key.name, role=key.role, key=clear)
    if json_:
        print_json(created)
        return
    say(f"API key {created.name} ({created.role}); shown once, store it now:", err=True)
    # The key alone on stdout, so `KEY=$(haetae apikey create ci)` captures just the key.
    print(created.key)
