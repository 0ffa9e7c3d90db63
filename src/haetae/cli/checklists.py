"""`haetae checklist ...`: a role checklist on an incident, ticked from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from haetae.checklists import service
from haetae.checklists.schemas import checklist_out, item_out
from haetae.cli.common import (
    EXIT_USAGE,
    ActorOption,
    JsonFlag,
    actor,
    config_or_exit,
    fail,
    local_time,
    locale,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.incidents import service as incidents
from haetae.policy.terms import localized

checklist_group = typer.Typer(
    help="Role checklists on an incident: show them, tick their items.", no_args_is_help=True
)
IncidentId = Annotated[str, typer.Argument(metavar="ID", help="e.g. INC-20261121-001")]
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang", metavar="en|ko", help="The checklists' language (default: HAETAE_LOCALE)."
    ),
]
MARKS = {"done": "[x]", "skipped": "[-]", "pending": "[ ]"}


def register(app: typer.Typer) -> None:
    app.add_typer(checklist_group, name="checklist")


@checklist_group.command("show")
def show(
    incident_id: IncidentId,
    role: Annotated[
        str | None,
        typer.Option("--role", metavar="ROLE", help="One role's checklists only (id or name)."),
    ] = None,
    lang: LangOption = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """The incident's checklists with each item's state; yours (--as) first."""
    language = _language(lang)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        incident = incidents.get_incident(session, incident_id)
        found = service.incident_checklists(session, pol, incident, viewer=actor(as_), role=role)
    if json_:
        print_json([checklist_out(c, language) for c in found])
        return
    if not found:
        say(f"{incident_id}: the policy has no checklist for a {incident.severity} incident")
        return
    for checklist in found:
        owner = "everyone"
        if checklist.role is not None:
            definition = pol.role(checklist.role)
            name = localized(definition.name, language) if definition else checklist.role
            owner = f"{name}: {checklist.holder or 'unassigned'}"
        say(
            f"{checklist.id}  {localized(checklist.title, language)} ({owner}) "
            f"{checklist.done + checklist.skipped}/{checklist.total}",
            style="bold",
        )
        for stage, items in checklist.stages():
            if stage is not None:
                say(f"  {localized(stage, language)}")
            for item in items:
                line = f"    {MARKS[item.status]} {item.id}: {localized(item.text, language)}"
                if item.status != "pending" and item.by:
                    line += f"  ({item.by}, {local_time(item.at, pol)}"
                    line += f": {item.note})" if item.note else ")"
                say(line)
        say("")


@checklist_group.command("tick")
def tick(
    incident_id: IncidentId,
    checklist_id: Annotated[str, typer.Argument(metavar="CHECKLIST")],
    item_id: Annotated[str, typer.Argument(metavar="ITEM")],
    skip: Annotated[bool, typer.Option("--skip", help="Mark it skipped, not done.")] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Mark it not done again.")] = False,
    note: Annotated[str, typer.Option("--note", help="Why, or what was found.")] = "",
    lang: LangOption = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Mark a checklist item done (or --skip, or --undo); it goes on the timeline."""
    if skip and undo:
        fail("give --skip or --undo, not both", EXIT_USAGE)
    status = "skipped" if skip else "pending" if undo else "done"
    language = _language(lang)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        item = service.set_item(
            session,
            pol,
            incident_id,
            checklist_id,
            item_id,
            status=status,
            note=note,
            by=actor(as_),
            now=now(),
        )
    if json_:
        print_json(item_out(item, language))
    else:
        say(f"{incident_id}: {MARKS[item.status]} {localized(item.text, language)}")


def _language(lang: str | None) -> str:
    if lang is None:
        return locale()
    if lang not in ("en", "ko"):
        fail("--lang is en or ko", EXIT_USAGE)
    return lang
