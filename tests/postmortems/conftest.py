"""Fixtures the post-mortem tests share with other folders: the CLI on a fresh database."""

from tests.cli.conftest import haetae  # noqa: F401 - re-exported as a fixture here
