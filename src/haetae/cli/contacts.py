"""`haetae escalate` (page now) and `haetae external-contacts`."""

from __future__ import annotations

import typer

escalate_group = typer.Typer(help="escalate", no_args_is_help=True)
external_contacts_group = typer.Typer(help="external-contacts", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(escalate_group, name="escalate")
    app.add_typer(external_contacts_group, name="external-contacts")
