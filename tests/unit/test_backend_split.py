"""Tests marked no_database run in the SQLite run only; the PostgreSQL run deselects them, and a
test that reaches the database cannot carry the mark (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

ROOT = Path(__file__).resolve().parents[2]


def _collect(*args: str, backend: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        cwd=ROOT,
        env={**os.environ, "TEST_DB": backend},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_postgresql_run_deselects_only_tests_that_touch_no_database(tmp_path: Path):
    files = ["tests/unit/test_policy_lookup.py", "tests/cli/test_user_commands.py"]
    collected = _collect(*files, backend="postgresql")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    listed = [line for line in collected.stdout.splitlines() if "::" in line]
    assert listed and all(line.startswith("tests/cli/test_user_commands.py::") for line in listed)
    assert "4 deselected" in collected.stdout

    # A marked test that asks for the database is refused, whichever the run.
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import pytest\n\npytestmark = pytest.mark.no_database\n\n\ndef test_it(db):\n    pass\n"
    )
    refused = _collect(
        "-p", "tests.conftest", "--rootdir", str(tmp_path), str(probe), backend="sqlite"
    )
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout + refused.stderr
    assert "test_it is marked no_database but uses database_url, db, pg_cluster" in refused.stderr
