"""`haetae notify approvals|approve|reject|follow|unfollow`: approval-gated messages and follows
(commands added to the `notify` group of cli/notify.py)."""

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
    local_time,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.cli.notify import notify_group
from haetae.comms import approvals, follows
from haetae.comms.approval_schemas import approval_out

MessageId = Annotated[
    int, typer.Argument(metavar="ID", help="the message's number", min=1, max=2**31 - 1)
]


def register() -> None:
    """Importing this module adds its commands to the `notify` group."""


@notify_group.command("approvals")
def list_approvals(json_: JsonFlag = False) -> None:
    """Messages waiting for approval, oldest first."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        out = [approval_out(m) for m in approvals.pending(session)]
    if json_:
        print_json([o.model_dump(mode="json") for o in out])
        return
    if not out:
        say("nothing waits for approval")
        return
    for o in out:
        say(
            f"{o.id:>5}  {local_time(o.created_at, pol)}  {o.kind:<22} {o.incident_id or '-'}  "
            f"by {o.created_by}  approvers: {', '.join(o.approvers)}"
        )
        say(f"       {o.subject}")


@notify_group.command("approve")
def approve(
    message_id: MessageId,
    subject: Annotated[str | None, typer.Option("--subject", help="The edited subject.")] = None,
    body: Annotated[str | None, typer.Option("--body", help="The edited body.")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Approve a waiting message (as one of its approvers, --as), maybe edited; it is sent."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        message = approvals.get_message(session, message_id, for_update=True)
        approvals.approve(
            session,
            pol,
            message,
            by=actor(as_),
            now=now(),
            subject=subject,
            body=body,
            note=note,
        )
        out = approval_out(message)
    if json_:
        print_json(out.model_dump(mode="json"))
        return
    say(f"message {out.id} approved by {out.decided_by}: {out.status}")


@notify_group.command("reject")
def reject(
    message_id: MessageId,
    note: Annotated[str, typer.Option("--note", help="Why (required).")] = "",
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Reject a waiting message (as one of its approvers, --as): it is never sent."""
    if not note.strip():
        fail("--note is required: say why it is rejected", EXIT_INVALID)
    config = config_or_exit()
    with transaction(config) as session:
        message = approvals.get_message(session, message_id, for_update=True)
        approvals.reject(session, message, by=actor(as_), now=now(), note=note)
        out = approval_out(message)
    if json_:
        print_json(out.model_dump(mode="json"))
        return
    say(f"message {out.id} rejected by {out.decided_by}")


def _target(incident_id: str | None, service: str | None) -> None:
    if (incident_id is None) == (service is None):
        fail("give an incident or --service (one of them)", EXIT_INVALID)


@notify_group.command("follow")
def follow(
    incident_id: Annotated[str | None, typer.Argument(metavar="[INCIDENT]")] = None,
    service: Annotated[str | None, typer.Option("--service", help="A service's slug.")] = None,
    as_: ActorOption = None,
) -> None:
    """Follow an incident or a service (as the user --as): get its updates."""
    _target(incident_id, service)
    config = config_or_exit()
    with transaction(config) as session:
        user = follows.user_named(session, actor(as_))
        follows.follow(session, user, incident_id=incident_id, service=service, now=now())
        name = user.username
    say(f"{name} follows {incident_id or service}")


@notify_group.command("unfollow")
def unfollow(
    incident_id: Annotated[str | None, typer.Argument(metavar="[INCIDENT]")] = None,
    service: Annotated[str | None, typer.Option("--service", help="A service's slug.")] = None,
    as_: ActorOption = None,
) -> None:
    """Stop following an incident or a service."""
    _target(incident_id, service)
    config = config_or_exit()
    with transaction(config) as session:
        user = follows.user_named(session, actor(as_))
        was = follows.unfollow(session, user, incident_id=incident_id, service=service)
        name = user.username
    say(f"{name} no longer follows {incident_id or service}" if was else "was not following")
