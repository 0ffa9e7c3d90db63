"""What every CLI command shares: settings, the database, the actor, input and output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from haetae.clock import utcnow
from haetae.config import ConfigError, Settings, load_settings
from haetae.db import Database, database_fault
from haetae.errors import HaetaeError
from haetae.policy.loader import PolicyError, load_policy
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration

# Exit codes scripts can rely on (documented in docs/cli.md).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INVALID = 3  # invalid input or policy
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5  # refused by the rules: invalid transition, unmet conditions
EXIT_AUTH = 6
EXIT_CONFIG = 7

_EXIT_FOR_STATUS = {
    401: EXIT_AUTH,
    403: EXIT_AUTH,
    404: EXIT_NOT_FOUND,
    409: EXIT_CONFLICT,
    413: EXIT_INVALID,
    422: EXIT_INVALID,
}

console = Console()
err_console = Console(stderr=True)

# Options shared by many commands, so they read and behave the same everywhere.
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON only (on stdout).")
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="ACTOR",
        help="Who does this, for the timeline (default: $HAETAE_ACTOR, else cli:<os user>).",
    ),
]

M = TypeVar("M", bound=BaseModel)


def settings() -> Settings:
    return load_settings()


def policy(config: Settings) -> Policy:
    try:
        return load_policy(config.policy_file)
    except PolicyError as exc:
        fail(str(exc), EXIT_INVALID)


def actor(explicit: str | None) -> str:
    return explicit or os.environ.get("HAETAE_ACTOR") or f"cli:{getpass.getuser()}"


def locale() -> str:
    """The language of policy labels in human output (HAETAE_LOCALE: en or ko)."""
    value = os.environ.get("HAETAE_LOCALE", "en").lower()
    return value if value in ("en", "ko") else "en"


def now() -> datetime:
    return utcnow()


@contextmanager
def database(config: Settings, *, migrate: bool = True) -> Iterator[Database]:
    db = Database(config.resolved_database_url)
    try:
        if migrate and db.is_sqlite:
            from haetae.migrations import upgrade_to_head

            upgrade_to_head(db.url)
        yield db
    finally:
        db.dispose()


@contextmanager
def transaction(config: Settings, *, write: bool = True) -> Iterator[Session]:
    """One transaction per command; a refusal by the rules exits with its code."""
    try:
        with database(config) as db, db.session(write=write) as session:
            yield session
    except HaetaeError as exc:
        error(f"{exc.code}: {exc.message}")
        _print_details(exc.details)
        raise typer.Exit(_EXIT_FOR_STATUS.get(exc.status, EXIT_ERROR)) from None
    except ProgrammingError as exc:
        # On PostgreSQL, usually a database nobody has migrated yet.
        fail(f"database error: {_first_line(exc)} (has `haetae db upgrade` run?)", EXIT_ERROR)
    except OperationalError as exc:
        fault = database_fault(exc)  # e.g. from the migrations run first on SQLite
        if fault is not None:
            fail(f"{fault.code}: {fault.message} ({_first_line(exc)})", EXIT_ERROR)
        fail(f"database error: {_first_line(exc)} (check DATABASE_URL)", EXIT_ERROR)


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0].rstrip(".")


def _print_details(details: dict[str, Any]) -> None:
    """Details as lines a person can act on (e.g. the ids of unmet conditions)."""
    for key, value in details.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            say(f"  {key}:", err=True)
            for item in value:
                label = item.get("id", "")
                text = item.get("text") or json.dumps(item, ensure_ascii=False, default=str)
                say(f"    - {label}: {text}", err=True)
        elif isinstance(value, list):
            say(f"  {key}: {', '.join(map(str, value)) or '-'}", err=True)
        elif value is not None:
            say(f"  {key}: {value}", err=True)


def say(message: str, *, err: bool = False, style: str = "") -> None:
    """A line of plain text: no Rich markup (user text may hold `[...]`), no re-wrapping."""
    (err_console if err else console).print(
        Text(message, style=style), highlight=False, soft_wrap=True
    )


def error(message: str) -> None:
    err_console.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    error(message)
    raise typer.Exit(code)


def build(model: type[M], **data: Any) -> M:
    """The API's input model, so the CLI accepts exactly what the API accepts.

    Pydantic's own message would echo the input (a password, say); print field and reason only.
    """
    try:
        return model(**data)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            error(f"{field + ': ' if field else ''}{message}")
        raise typer.Exit(EXIT_INVALID) from None


def parse_date(value: str | None) -> date | None:
    """A day as YYYY-MM-DD; None for none given; exits EXIT_INVALID for anything else."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"'{value}' is not a date (YYYY-MM-DD)", EXIT_INVALID)


def parse_time(value: str, pol: Policy, *, at: datetime, ago: bool = False) -> datetime:
    """ISO 8601 (naive means the policy's time zone) or a duration like 15m from `at`.

    `ago` makes a duration count backwards, as `--since 2h` means.
    """
    try:
        step = parse_duration(value)
    except ValueError:
        pass
    else:
        return at - step if ago else at + step
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"'{value}' is neither an ISO 8601 time nor a duration like 15m", EXIT_INVALID)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=pol.zone)
    return parsed


def local_time(value: datetime | None, pol: Policy, *, short: bool = False) -> str:
    """A stored UTC time as people read it: `2026-11-21 14:30 KST` in the policy's zone.

    `short` (`11-21 14:30`) is for narrow table columns whose header names the zone.
    """
    if value is None:
        return "-"
    return value.astimezone(pol.zone).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M %Z")


def zone_name(pol: Policy, at: datetime) -> str:
    return at.astimezone(pol.zone).strftime("%Z")


def print_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def config_or_exit(check: bool = False) -> Settings:
    try:
        config = settings()
        if check:
            config.check()
        return config
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings: {problems}", EXIT_CONFIG)
