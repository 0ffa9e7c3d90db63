"""`haetae actions` (filled in by issue 11)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the commands to `haetae`."""
