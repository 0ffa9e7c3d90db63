"""The installed `haetae` script itself, as a process: what the in-process runner stands in for.

The other CLI tests run commands in the test process (tests/cli/conftest.py); these check that
the real script reads stdin, keeps stdout for the answer and exits with the documented codes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from haetae.cli.common import EXIT_NOT_FOUND
from tests.cli.conftest import Haetae, _base_env
from tests.conftest import BACKEND
from tests.support.server import HAETAE


@pytest.fixture
def haetae(fresh_database_url: str, tmp_path: Path) -> Haetae:
    """The CLI on an empty database that no migration has touched."""
    return Haetae({**_base_env(tmp_path), "DATABASE_URL": fresh_database_url})


def _script(haetae: Haetae, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HAETAE, *args], env=haetae.env, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_the_script_reads_stdin_answers_on_stdout_and_exits_with_its_codes(haetae: Haetae):
    if BACKEND == "postgresql":  # on SQLite the script's first command migrates the new file
        haetae("db upgrade")
    created = _script(
        haetae,
        *["user", "create", "minji", "--role", "admin", "--password-stdin", "--json"],
        stdin="correct horse battery\n",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["username"] == "minji"  # stdout holds the JSON alone
    assert "correct horse battery" not in created.stdout + created.stderr
    # The in-process runner sees the same database the script wrote.
    assert [u["username"] for u in haetae("user list --json").json()] == ["minji"]

    missing = _script(haetae, "incidents", "show", "INC-19990101-001")
    assert missing.returncode == EXIT_NOT_FOUND, missing.stderr
    assert missing.stdout == "" and "INC-19990101-001" in missing.stderr
    assert "Traceback" not in missing.stderr
