"""`haetae notify ...`: stakeholder channels, messages from templates, follows."""

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
from haetae.comms import queries, service
from haetae.comms.schemas import MessageOut
from haetae.incidents import service as incidents

notify_group = typer.Typer(
    help="Stakeholder channels and messages: channels, send, messages (and approvals).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_group, name="notify")


@notify_group.command("channels")
def channels(as_json: JsonFlag = False) -> None:
    """The stakeholder channels (config as code), their URLs masked."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        listed = queries.channels_out(session)
    if as_json:
        print_json([c.model_dump(mode="json") for c in listed])
        return
    if not listed:
        say("No stakeholder channels (add them with `channels:` in haetae apply).")
    for channel in listed:
        off = "" if channel.enabled else " [disabled]"
        reached = [m.url for m in channel.contact_methods] + list(channel.members)
        say(f"{channel.slug:<22} {channel.name} ({channel.language}){off}")
        if channel.purpose:
            say(f"  {channel.purpose}")
        say(f"  -> {', '.join(reached) or '(nobody)'}")


@notify_group.command("send")
def send(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT", help="e.g. INC-20260301-001")],
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            help="internal_update, management_summary, customer_support_notice, "
            "public_announcement, customer_first_notice, recovery_notice, disband, ...",
        ),
    ],
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="A channel slug (repeat); default: the policy's routes."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="ko or en (default: the first channel's).")
    ] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Send a message from its template to stakeholders (or put it up for approval when the
    policy's approvals name its kind)."""
    if lang is not None and lang not in ("ko", "en"):
        fail("--lang must be ko or en", EXIT_INVALID)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        message = service.create_message(
            session,
            pol,
            incident,
            kind,
            channels=channel or None,
            by=actor(who),
            now=now(),
            locale=lang,
        )
        out = queries.messages_out(session, [message])[0]
    if as_json:
        print_json(out)
        return
    say(
        f"#{out.id} {out.kind} to {', '.join(out.channels) or 'followers'}: {out.status}"
        + (f" ({out.delivery.total} message(s) queued)" if out.status == "sent" else "")
    )
    say(out.subject)


def _line(message: MessageOut) -> str:
    d = message.delivery
    delivery = f"{d.sent}/{d.total} sent" + (f", {d.failed} failed" if d.failed else "")
    return (
        f"#{message.id:<5} {message.created_at:%Y-%m-%d %H:%M} {message.kind:<24} "
        f"{message.status:<17} {delivery:<16} {', '.join(message.channels)}"
    )


@notify_group.command("messages")
def list_messages(
    incident_id: Annotated[str, typer.Argument(metavar="INCIDENT")],
    as_json: JsonFlag = False,
) -> None:
    """The incident's messages to stakeholders with their status and delivery."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        incidents.get_incident(session, incident_id)
        listed = queries.messages_out(session, queries.incident_messages(session, incident_id))
    if as_json:
        print_json([m.model_dump(mode="json") for m in listed])
        return
    if not listed:
        say(f"{incident_id}: no messages to stakeholders yet.")
    for message in listed:
        say(_line(message))
        say(f"       {message.subject}")
