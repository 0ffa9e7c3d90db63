"""The runbook tests use the CLI tests' in-process runner and the console's viewer client."""

from tests.cli.conftest import cli
from tests.web.conftest import victor

__all__ = ["cli", "victor"]
