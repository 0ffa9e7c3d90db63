"""`haetae drill ...`: schedule, start, end (kill switch), score and list drills."""

from __future__ import annotations

import typer

group = typer.Typer(
    help="Drills: tabletop, simulation, game day and chaos experiments.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="drill")
