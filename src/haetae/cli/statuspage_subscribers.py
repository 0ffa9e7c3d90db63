"""`haetae status-page subscribers ...`: list (masked), export and delete subscribers (commands
added to the `status-page` group of cli/statuspage.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_NOT_FOUND,
    ActorOption,
    JsonFlag,
    actor,
    config_or_exit,
    fail,
    now,
    print_json,
    say,
    transaction,
)
from haetae.cli.statuspage import status_page_group
from haetae.statuspage import subscribers

subscribers_group = typer.Typer(
    help="Status page subscribers (personal data: listed masked, exported and deleted on request).",
    no_args_is_help=True,
)


def register() -> None:
    """Importing this module adds its commands to the `status-page` group."""
    status_page_group.add_typer(subscribers_group, name="subscribers")


@subscribers_group.command("list")
def list_subscribers(as_json: JsonFlag = False) -> None:
    """Subscribers with their addresses masked, and counts by state."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        listed = subscribers.listing(session)
    if as_json:
        print_json(listed)
        return
    counts = listed["counts"]
    say(
        f"{counts['confirmed']} confirmed, {counts['pending']} waiting for confirmation, "
        f"{counts['unsubscribed']} unsubscribed"
    )
    for s in listed["subscribers"]:
        say(f"#{s['id']:<6} {s['kind']:<8} {s['address']:<32} {s['language']:<3} {s['state']}")


@subscribers_group.command("export")
def export(
    address: Annotated[str, typer.Argument(help="the e-mail address or webhook URL")],
) -> None:
    """Everything kept about one address, as JSON (a data subject's access request)."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        print_json({"address": address, "subscriptions": subscribers.export(session, address)})


@subscribers_group.command("delete")
def delete(
    subscriber_id: Annotated[
        int, typer.Argument(help="the subscriber's number (from list)", min=1, max=2**31 - 1)
    ],
    by: ActorOption = None,
) -> None:
    """Forget a subscriber: the address and its contact method are deleted."""
    config = config_or_exit()
    with transaction(config) as session:
        if not subscribers.delete(session, subscriber_id, by=actor(by), now=now()):
            fail(f"No subscriber #{subscriber_id}.", EXIT_NOT_FOUND)
    say(f"Subscriber #{subscriber_id} deleted.")
