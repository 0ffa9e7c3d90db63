"""Fixtures borrowed from the other suites: pageable people and an on-call schedule (engine),
a responder signed in to the console (web), and the in-process CLI (cli)."""

from tests.cli.conftest import haetae
from tests.engine.conftest import make_user, oncall_schedule
from tests.web.conftest import alice

__all__ = ["alice", "haetae", "make_user", "oncall_schedule"]
