"""`haetae policy check|show`: problems with file and line, the policy in force."""

from __future__ import annotations

from pathlib import Path
from shlex import quote

import pytest

from haetae.cli.common import EXIT_INVALID

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

DEFAULT = Path(__file__).parents[2] / "src/haetae/policy/defaults/default.yaml"


def test_default_policy_passes_check(cli):
    result = cli(f"policy check {quote(str(DEFAULT))}")
    assert result.out.startswith(f"OK {DEFAULT}: default-p1-p4: severities P1, P2, P3, P4;")
    assert "impact matrix 3x4" in result.out


def test_broken_policy_fails_check_naming_file_line_and_field(cli, tmp_path):
    lines = DEFAULT.read_text(encoding="utf-8").splitlines()
    # P1's weight is the first "weight: 4"; a weight must be positive.
    line = lines.index("    weight: 4") + 1
    lines[line - 1] = "    weight: -4"
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = cli(f"policy check {quote(str(DEFAULT))} {quote(str(broken))}", expect=EXIT_INVALID)

    assert f"OK {DEFAULT}" in result.out
    assert f"{broken}:{line}: severities.0.weight: Input should be greater than 0" in result.out
    assert "1 of 2 policy files invalid" in result.err


def test_policy_show_prints_the_policy_in_force(cli):
    shown = cli("policy show --json").json()
    assert shown["source"] == "built-in default"
    assert [s["id"] for s in shown["severities"]] == ["P1", "P2", "P3", "P4"]
    assert shown["impact_matrix"]["cells"]["revenue"] == ["P3", "P2", "P1", "P1"]

    table = cli("policy show").out
    assert "Impact matrix" in table and "Critical" in table
