"""`haetae escalate` (page now) and `haetae external-contacts`."""

from __future__ import annotations

from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_INVALID,
    ActorOption,
    JsonFlag,
    actor,
    config_or_exit,
    fail,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.contacts import queries
from haetae.contacts import service as contacts
from haetae.contacts.schemas import EscalationOut, ExternalContactOut
from haetae.incidents import service as incidents

external_contacts_group = typer.Typer(
    help="External contacts (vendors, cloud and database support, CDN/WAF, partners).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command("escalate")(escalate)
    app.add_typer(external_contacts_group, name="external-contacts")


def escalate(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT", help="e.g. INC-20260301-001")],
    user: Annotated[str | None, typer.Option("--user", help="A person's username.")] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            help="A team: its services' current on-call, or every member when none of its "
            "services has a schedule.",
        ),
    ] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="A schedule: its current on-call.")
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="An external contact's slug.")
    ] = None,
    message_type: Annotated[
        str,
        typer.Option("--type", help="page, external_support (🔧) or business (💼)."),
    ] = "page",
    note: Annotated[str, typer.Option("--note", help="What is needed.")] = "",
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Page now: a person, a team, a schedule's on-call or an external contact, about an
    incident, with a plain page or seed 000's external support or business escalation."""
    given = {
        k: v
        for k, v in (("user", user), ("team", team), ("schedule", schedule), ("contact", contact))
        if v
    }
    if len(given) != 1:
        fail("give exactly one of --user, --team, --schedule or --contact", EXIT_INVALID)
    if message_type not in contacts.MESSAGE_TYPES:
        fail(f"--type must be one of {', '.join(contacts.MESSAGE_TYPES)}", EXIT_INVALID)
    ((kind, name),) = given.items()
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        done = contacts.page_now(
            session,
            pol,
            incident,
            target=contacts.EscalationTarget(kind, name),
            message_type=message_type,
            note=note,
            by=actor(who),
            now=now(),
        )
    out = EscalationOut(
        incident_id=done.incident_id,
        target_kind=kind,
        target=name,
        type=message_type,
        note=done.note,
        recipients=done.recipients,
        queued=done.queued,
        duplicate=done.duplicate,
    )
    if as_json:
        print_json(out)
    elif out.duplicate:
        say(f"{out.incident_id}: the same escalation was just made; nobody is paged twice.")
    else:
        say(
            f"{out.incident_id}: {message_type} to {kind} {name}: "
            f"{', '.join(out.recipients)} ({out.queued} message(s) queued)"
        )


def _show(contact: ExternalContactOut) -> None:
    state = "" if contact.enabled else " [disabled]"
    say(f"{contact.slug}  {contact.name}  ({contact.kind}, {contact.language}){state}")
    say(f"  Support plan: {contact.support_plan or '-'}")
    say(f"  SLA tier:     {contact.sla_tier or '-'}")
    if contact.notes:
        say(f"  Notes:        {contact.notes}")
    for method in contact.contact_methods:
        off = "" if method.enabled else " (disabled)"
        say(f"  - {method.name}: {method.kind} {method.url}{off}")


@external_contacts_group.command("list")
def list_contacts(as_json: JsonFlag = False) -> None:
    """Every external contact, contact method URLs masked."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        listed = queries.contacts_out(session)
    if as_json:
        print_json([c.model_dump(mode="json") for c in listed])
        return
    if not listed:
        say("No external contacts (add them with `external_contacts:` in haetae apply).")
    for contact in listed:
        plan = f"  {contact.support_plan}" if contact.support_plan else ""
        say(f"{contact.slug:<20} {contact.name}  [{contact.kind}]{plan}")


@external_contacts_group.command("show")
def show(slug: Annotated[str, typer.Argument(metavar="SLUG")], as_json: JsonFlag = False) -> None:
    """One external contact: support plan, SLA tier, notes and contact methods (masked)."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        contact = queries.contact_detail(session, slug)
    print_json(contact) if as_json else _show(contact)
