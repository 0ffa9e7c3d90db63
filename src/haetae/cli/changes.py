"""`haetae changes ...`: post, list and link changes from the change feed."""

from __future__ import annotations

import typer

changes_group = typer.Typer(help="changes", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(changes_group, name="changes")
