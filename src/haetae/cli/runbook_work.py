"""`haetae runbook attach|step|accuracy|on`: runbooks on an incident (commands added to the
`runbook` group of cli/runbooks.py)."""

from __future__ import annotations

from haetae.cli.runbooks import runbook_group  # noqa: F401  (the group these commands join)


def register() -> None:
    """Importing this module adds its commands to the `runbook` group."""
