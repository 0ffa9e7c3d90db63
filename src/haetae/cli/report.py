"""`haetae report weekly|monthly`: the review report as Markdown, HTML or CSV."""

from __future__ import annotations

import typer

group = typer.Typer(help="Weekly and monthly review reports.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="report")
