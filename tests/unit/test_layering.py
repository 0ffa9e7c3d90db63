"""The layering is a checked rule: import-linter's contracts in pyproject.toml hold for the
code as it is, and break when a domain reaches up into a face (notify importing web).

The broken case runs the real `lint-imports` on a copy of the package with one module added,
so the contract is tested as `scripts/test` runs it, not a model of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import haetae

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(haetae.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(python_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=python_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_every_layering_contract() -> None:
    result = _lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_notify_importing_web_breaks_the_no_domain_imports_a_face_contract(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "haetae"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "locale")
    )
    (copy / "notify" / "console_probe.py").write_text(
        '"""A domain module reaching up into the console."""\n\n'
        "from haetae.web.console import Console\n\n"
        "__all__ = ['Console']\n"
    )
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "No domain imports web, cli, api or app BROKEN" in result.stdout
    assert "Faces above domains above the base BROKEN" in result.stdout
    assert "haetae.notify.console_probe -> haetae.web.console" in result.stdout
