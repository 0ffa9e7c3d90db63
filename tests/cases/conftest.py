"""Fixtures of tests/cli and tests/web used here: the `haetae` script, console clients."""

from tests.cli.conftest import haetae
from tests.web.conftest import alice, victor

__all__ = ["alice", "haetae", "victor"]
