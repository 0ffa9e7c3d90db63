"""`haetae checklist ...`: a role checklist on an incident, ticked from the terminal."""

from __future__ import annotations

import typer

checklist_group = typer.Typer(help="checklist", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(checklist_group, name="checklist")
