"""`haetae templates check|render`: communication templates."""

from __future__ import annotations

import typer

templates_group = typer.Typer(help="templates", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(templates_group, name="templates")
