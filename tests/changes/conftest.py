"""The change feed tests' console clients and in-process CLI."""

from tests.cli.conftest import haetae
from tests.web.conftest import alice

__all__ = ["alice", "haetae"]
