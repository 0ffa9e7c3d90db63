"""Config-as-code tests reuse the CLI tests' `haetae` runner (a real subprocess)."""

from tests.cli.conftest import cli, haetae

__all__ = ["cli", "haetae"]
