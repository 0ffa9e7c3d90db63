"""Config-as-code tests reuse the CLI tests' `haetae` runner (a real subprocess) and the
people tests' clients signed in as someone."""

from tests.cli.conftest import cli, haetae
from tests.people.conftest import as_user

__all__ = ["as_user", "cli", "haetae"]
