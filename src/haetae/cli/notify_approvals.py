"""`haetae notify approvals|approve|reject`: approval-gated messages (commands added to the
`notify` group of cli/notify.py)."""

from __future__ import annotations

from haetae.cli.notify import notify_group  # noqa: F401  (the group these commands join)


def register() -> None:
    """Importing this module adds its commands to the `notify` group."""
