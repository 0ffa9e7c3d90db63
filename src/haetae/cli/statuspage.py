"""`haetae status-page ...`: components, public incidents and updates, maintenance."""

from __future__ import annotations

import typer

status_page_group = typer.Typer(help="status-page", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(status_page_group, name="status-page")
