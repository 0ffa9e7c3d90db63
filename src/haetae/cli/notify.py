"""`haetae notify ...`: stakeholder channels, messages from templates, follows."""

from __future__ import annotations

import typer

notify_group = typer.Typer(help="notify", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_group, name="notify")
