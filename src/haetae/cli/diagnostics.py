"""`haetae diagnose ...` and `haetae checks`: run a check on an incident, its runs and first
analysis."""

from __future__ import annotations

import typer

diagnose_group = typer.Typer(help="diagnose", no_args_is_help=True)
checks_group = typer.Typer(help="checks", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(diagnose_group, name="diagnose")
    app.add_typer(checks_group, name="checks")
