"""`haetae teams`, `haetae services` and `haetae contacts`: read who is who, send a test."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from haetae.cli.common import (
    JsonFlag,
    actor,
    config_or_exit,
    console,
    now,
    print_json,
    say,
    transaction,
)
from haetae.errors import HaetaeError
from haetae.notify import outbox
from haetae.people import service as people
from haetae.people import teams

teams_app = typer.Typer(help="Teams, their members and leads.", no_args_is_help=True)
services_app = typer.Typer(help="Services, their team and schedule.", no_args_is_help=True)
contacts_app = typer.Typer(help="A person's contact methods.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(teams_app, name="teams")
    app.add_typer(services_app, name="services")
    app.add_typer(contacts_app, name="contacts")


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column)
    return table


@teams_app.command("list")
def list_teams(json_: JsonFlag = False) -> None:
    """Every team with its leads and members."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        specs = [teams.team_spec(session, t) for t in teams.list_teams(session)]
    if json_:
        print_json(specs)
        return
    table = _table("TEAM", "NAME", "LEADS", "MEMBERS")
    for spec in specs:
        table.add_row(
            Text(spec.id),
            Text(spec.name),
            Text(", ".join(spec.leads)),
            Text(", ".join(spec.members)),
        )
    console.print(table)


@services_app.command("list")
def list_services(json_: JsonFlag = False) -> None:
    """Every service with its team, schedule and own escalation policies."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        specs = [teams.service_spec(session, s) for s in teams.list_services(session)]
    if json_:
        print_json(specs)
        return
    table = _table("SERVICE", "NAME", "TEAM", "SCHEDULE", "ESCALATION")
    for spec in specs:
        escalation = "; ".join(f"{k}: {', '.join(v)}" for k, v in spec.escalation.items())
        table.add_row(
            Text(spec.id),
            Text(spec.name),
            Text(spec.team or "-"),
            Text(spec.schedule or "-"),
            Text(escalation or "policy file"),
        )
    console.print(table)


@contacts_app.command("list")
def list_contacts(
    username: Annotated[str, typer.Argument(metavar="USERNAME")], json_: JsonFlag = False
) -> None:
    """A person's contact methods in fallback order (URLs masked)."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        user = people.get_user(session, username)
        methods = [people.contact_out(m) for m in people.contact_methods(session, user)]
    if json_:
        print_json(methods)
        return
    table = _table("ID", "NAME", "KIND", "URL", "ENABLED")
    for method in methods:
        table.add_row(
            str(method.id),
            Text(method.name),
            method.kind,
            Text(method.url),
            "yes" if method.enabled else Text("no", style="red"),
        )
    console.print(table)


@contacts_app.command("test")
def test_contact(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The contact method's name.")],
    as_: Annotated[str | None, typer.Option("--as", metavar="ACTOR")] = None,
) -> None:
    """Queue a test message to one contact method; a running worker delivers it."""
    config = config_or_exit()
    with transaction(config) as session:
        user = people.get_user(session, username)
        method = next((m for m in people.contact_methods(session, user) if m.name == name), None)
        if method is None:
            raise HaetaeError("NOT_FOUND", f"{username} has no contact method '{name}'.")
        queued = outbox.enqueue_test(session, method, by=actor(as_), now=now())
        notification_id = queued.id
    say(f"test message {notification_id} queued for {username}'s {name}")
