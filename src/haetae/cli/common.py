"""What every CLI command shares: settings, the database, the actor and output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from haetae.config import ConfigError, Settings, load_settings
from haetae.db import Database
from haetae.errors import HaetaeError
from haetae.policy.loader import PolicyError, load_policy
from haetae.policy.schema import Policy

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


def settings() -> Settings:
    return load_settings()


def policy(config: Settings) -> Policy:
    try:
        return load_policy(config.policy_file)
    except PolicyError as exc:
        fail(str(exc), EXIT_INVALID)


def actor(explicit: str | None) -> str:
    return explicit or os.environ.get("HAETAE_ACTOR") or f"cli:{getpass.getuser()}"


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
        if exc.details:
            err_console.print_json(json.dumps({"code": exc.code, **exc.details}, default=str))
        fail(f"{exc.code}: {exc.message}", _EXIT_FOR_STATUS.get(exc.status, EXIT_ERROR))


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def config_or_exit(check: bool = False) -> Settings:
    try:
        config = settings()
        if check:
            config.check()
        return config
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
