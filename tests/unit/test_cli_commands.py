"""`haetae` imports only the module of the command it runs: the table that says which module
adds which command must match what the modules really register, or a command would vanish."""

from __future__ import annotations

import importlib
import subprocess

import pytest
import typer

from haetae.cli.main import COMMAND_MODULES, _modules_for
from tests.support.server import HAETAE

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's


def _names(module: str) -> list[str]:
    target = typer.Typer()
    importlib.import_module(f"haetae.cli.{module}").register(target)
    commands = [c.name or c.callback.__name__ for c in target.registered_commands]  # type: ignore[union-attr]
    return sorted([*commands, *(g.name or "" for g in target.registered_groups)])


def test_the_table_names_every_command_each_module_registers() -> None:
    for module, names in COMMAND_MODULES.items():
        assert _names(module) == sorted(names), module
    every = [name for names in COMMAND_MODULES.values() for name in names]
    assert len(every) == len(set(every)), "two modules claim one command"


def test_a_command_loads_its_module_and_help_loads_them_all() -> None:
    assert _modules_for(["haetae", "--json", "board"]) == ["actions"]
    assert _modules_for(["haetae", "postmortem", "export", "INC-1"]) == ["postmortems"]
    assert _modules_for(["haetae", "--help"]) == list(COMMAND_MODULES)
    assert _modules_for(["haetae", "no-such-command"]) == list(COMMAND_MODULES)


def test_the_real_script_lists_every_command_and_runs_a_nested_one() -> None:
    listed = subprocess.run([HAETAE, "--help"], capture_output=True, text=True, check=True)
    for names in COMMAND_MODULES.values():
        for name in names:
            assert f" {name} " in listed.stdout, name
    export = subprocess.run(
        [HAETAE, "postmortem", "export", "--help"], capture_output=True, text=True, check=True
    )
    assert "--format" in export.stdout
