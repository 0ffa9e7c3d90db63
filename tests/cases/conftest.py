"""The CLI fixture of tests/cli, for the `haetae search` tests here."""

from tests.cli.conftest import haetae

__all__ = ["haetae"]
