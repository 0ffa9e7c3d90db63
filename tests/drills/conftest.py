"""The engine tests' people and on-call fixtures (drills that page) and the in-process CLI."""

from tests.cli.conftest import haetae
from tests.engine.conftest import make_user, oncall_schedule

__all__ = ["haetae", "make_user", "oncall_schedule"]
