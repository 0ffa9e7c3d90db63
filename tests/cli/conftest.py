"""Run the `haetae` CLI in this process, as the installed script runs it, on a real database."""

from __future__ import annotations

import importlib
import json
import logging
import os
import shlex
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

import click
import pytest
import typer
from click.testing import CliRunner
from rich.console import Console

# Settings a developer's shell may carry that would change what the CLI does.
_SCRUBBED = ("DATABASE_URL", "POLICY_FILE", "HAETAE_ACTOR", "HAETAE_LOCALE", "API_KEY")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@cache
def _haetae_command() -> click.Command:
    """The `haetae` command with every command module registered.

    cli/main.py registers only the module of the command in sys.argv (a process runs one
    command); this process runs them all, so it registers whatever that left out.
    """
    argv = sys.argv
    sys.argv = ["haetae"]  # no command named: main.py registers every module
    try:
        main = importlib.import_module("haetae.cli.main")
    finally:
        sys.argv = argv
    registered = {c.name or c.callback.__name__ for c in main.app.registered_commands}  # type: ignore[union-attr]
    registered |= {g.name for g in main.app.registered_groups if g.name}
    missing = [m for m, names in main.COMMAND_MODULES.items() if not set(names) <= registered]
    main.register_modules(main.app, missing)
    return typer.main.get_command(main.app)


class _Runner(CliRunner):
    """Click's runner (stdin, separate stdout and stderr, exit codes), with fresh consoles."""

    @contextmanager
    def isolation(
        self,
        input: str | bytes | IO[Any] | None = None,
        env: Any = None,
        color: bool = False,
    ) -> Iterator[Any]:
        from haetae.cli import common

        with super().isolation(input=input, env=env, color=color) as streams:
            # A new process makes its consoles at import, reading COLUMNS, NO_COLOR and whether
            # stdout is a terminal then; make them again for this call's environment and streams.
            common.console.__dict__.update(Console().__dict__)
            common.err_console.__dict__.update(Console(stderr=True).__dict__)
            yield streams


def _replace_environ(env: dict[str, str]) -> None:
    # Key by key, never clear(): the suite's server threads may read the environment meanwhile.
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)


@contextmanager
def _process_state(env: dict[str, str], argv: list[str]) -> Iterator[None]:
    """os.environ exactly as `env`, sys.argv and the logging set-up, all put back afterwards.

    A command may change any of them (e.g. `haetae worker` configures logging to its stderr).
    """
    environ, old_argv = dict(os.environ), sys.argv
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    _replace_environ(env)
    sys.argv = argv
    try:
        yield
    finally:
        _replace_environ(environ)
        sys.argv = old_argv
        root.handlers[:], root.level = handlers, level


class Haetae:
    """`haetae("incidents list --json")` runs the CLI and checks its exit code.

    The command line is split as a shell would; `expect` is the exit code (default 0). The
    command runs in this process (a new `haetae` process costs over a second of start-up), with
    the environment, stdin and output streams a process of its own would have;
    tests/unit/test_cli_commands.py and tests/cli/test_cli_script.py run the real script.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.url = env.get("DATABASE_URL", "")

    def __call__(
        self, command: str, *, expect: int = 0, stdin: str | None = None, **env: str
    ) -> Result:
        args = shlex.split(command)
        with _process_state({**self.env, **env}, ["haetae", *args]):
            ran = _Runner().invoke(_haetae_command(), args, input=stdin or "", prog_name="haetae")
        err = ran.stderr
        if ran.exc_info is not None and not isinstance(ran.exc_info[1], SystemExit):
            # What the real script prints for an unexpected error (and exits 1).
            err += "".join(traceback.format_exception(*ran.exc_info))
        result = Result(ran.exit_code, ran.stdout, err)
        assert result.code == expect, (
            f"haetae {command} exited {result.code}, expected {expect}\n"
            f"stdout:\n{result.out}\nstderr:\n{result.err}"
        )
        return result


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    # Wide enough that Rich does not wrap the lines the tests read.
    env.update(COLUMNS="200", HAETAE_DATA_DIR=str(tmp_path / "data"))
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Haetae:
    """The CLI for commands that need no database (policy check, policy show)."""
    return Haetae(_base_env(tmp_path))


@pytest.fixture
def haetae(migrated_database_url: str, tmp_path: Path) -> Haetae:
    """The CLI on a new database of the run's backend, migrated and empty.

    A copy of one migrated once per run; test_cli_script.py starts from a database the CLI
    migrates itself.
    """
    return Haetae({**_base_env(tmp_path), "DATABASE_URL": migrated_database_url})
