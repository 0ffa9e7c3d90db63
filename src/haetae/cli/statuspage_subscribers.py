"""`haetae status-page subscribers ...`: list (masked), export and delete subscribers (commands
added to the `status-page` group of cli/statuspage.py)."""

from __future__ import annotations

from haetae.cli.statuspage import status_page_group  # noqa: F401  (the group these join)


def register() -> None:
    """Importing this module adds its commands to the `status-page` group."""
