"""`haetae runbook ...`: check, list and show the runbook library."""

from __future__ import annotations

import typer

runbook_group = typer.Typer(help="runbook", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(runbook_group, name="runbook")
