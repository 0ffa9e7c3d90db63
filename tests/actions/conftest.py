"""The CLI fixture of tests/cli, for `haetae actions` and `haetae board`."""

from __future__ import annotations

from tests.cli.conftest import haetae

__all__ = ["haetae"]
