"""`haetae apply` and `haetae export`: people, teams, schedules, escalation policies,
services, integrations and routing rules as one YAML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from haetae.cli.common import (
    EXIT_INVALID,
    JsonFlag,
    actor,
    config_or_exit,
    database,
    error,
    fail,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.configfile.apply import ApplyResult, apply_config
from haetae.configfile.export import export_yaml
from haetae.configfile.schema import ConfigError, parse_config
from haetae.errors import HaetaeError


class _DryRun(Exception):
    """Raised after a dry run's writes so that its transaction rolls back."""

    def __init__(self, result: ApplyResult) -> None:
        self.result = result


def register(app: typer.Typer) -> None:
    app.command("apply")(apply_file)
    app.command("export")(export_file)


def _print(result: ApplyResult, *, dry_run: bool, json_: bool) -> None:
    if json_:
        print_json(
            {
                "dry_run": dry_run,
                "changes": [c.as_json() for c in result.changes],
                "tokens": {} if dry_run else result.tokens,
            }
        )
        return
    for change in result.changes:
        style = {"create": "green", "update": "yellow", "remove": "red"}.get(change.action, "")
        say(str(change), style=style)
    suffix = " (dry run: nothing written)" if dry_run else ""
    say(result.summary() + suffix)
    for name, token in ({} if dry_run else result.tokens).items():
        say(f"integration {name}: token (shown once, store it now): {token}")


def apply_file(
    file: Annotated[Path, typer.Option("-f", "--file", help="The config YAML ('-' reads stdin).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Also remove what the file's sections no longer name (users are deactivated, "
            "integrations disabled).",
        ),
    ] = False,
    as_: Annotated[str | None, typer.Option("--as", metavar="ACTOR", help="Who applies.")] = None,
    json_: JsonFlag = False,
) -> None:
    """Create or update everything the file describes, all or nothing, in one transaction.

    Lines start with + (create), ~ (update, with the fields that change), = (unchanged) or
    - (removed by --prune). Applying the same file twice changes nothing."""
    if str(file) == "-":
        text, name = typer.get_text_stream("stdin").read(), "<stdin>"
    else:
        try:
            text, name = file.read_text(encoding="utf-8"), str(file)
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{file}: {getattr(exc, 'strerror', None) or exc}", EXIT_INVALID)
    try:
        loaded = parse_config(text, name)
    except ConfigError as exc:
        _problems(exc)
    config = config_or_exit()
    pol = policy(config)
    try:
        with transaction(config) as session:
            result = apply_config(session, pol, loaded, actor=actor(as_), now=now(), prune=prune)
            if dry_run:
                raise _DryRun(result)
    except ConfigError as exc:
        _problems(exc)
    except _DryRun as done:
        _print(done.result, dry_run=True, json_=json_)
        return
    _print(result, dry_run=False, json_=json_)


def _problems(exc: ConfigError) -> NoReturn:
    for problem in exc.problems:
        error(str(problem))
    raise typer.Exit(EXIT_INVALID)


def export_file(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here (private: mode 600) instead of stdout."),
    ] = None,
) -> None:
    """Write the current configuration as a file `haetae apply` takes. It holds contact
    methods' URLs in full, secrets included."""
    config = config_or_exit()
    try:
        with database(config) as db, db.session(write=False) as session:
            text = export_yaml(session, now=now())
    except HaetaeError as exc:
        fail(f"{exc.code}: {exc.message}")
    if output is None:
        typer.echo(text, nl=False)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    say(f"wrote {output}", err=True)
