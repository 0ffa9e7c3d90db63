"""Run the installed `haetae` console script as a subprocess against a real database."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND

HAETAE = Path(sys.executable).parent / "haetae"
# Settings a developer's shell may carry that would change what the CLI does.
_SCRUBBED = ("DATABASE_URL", "POLICY_FILE", "HAETAE_ACTOR", "HAETAE_LOCALE", "API_KEY")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Haetae:
    """`haetae("incidents list --json")` runs the CLI and checks its exit code.

    The command line is split as a shell would; `expect` is the exit code (default 0).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.url = env.get("DATABASE_URL", "")

    def __call__(
        self, command: str, *, expect: int = 0, stdin: str | None = None, **env: str
    ) -> Result:
        proc = subprocess.run(
            [str(HAETAE), *shlex.split(command)],
            env={**self.env, **env},
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
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
def haetae(fresh_database_url: str, tmp_path: Path) -> Haetae:
    """The CLI on a new, empty database of the run's backend."""
    run = Haetae({**_base_env(tmp_path), "DATABASE_URL": fresh_database_url})
    if BACKEND == "postgresql":  # migrations run on their own only on SQLite
        run("db upgrade")
    return run
