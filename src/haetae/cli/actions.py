"""`haetae actions ...` (list, show, add, edit, move, assign) and `haetae board`: the follow-up
board from a terminal, through the same services and readers as the API and the console."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from haetae.actions import board as boards
from haetae.actions import queries, service
from haetae.actions.queries import ItemFilter
from haetae.actions.schemas import ITEMS_MAX_PAGE, BoardOut, ItemIn, ItemOut, ItemPatch
from haetae.cli.common import (
    EXIT_INVALID,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    console,
    fail,
    now,
    parse_date,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.labels import COLUMN_LABELS, LANE_LABELS

actions_app = typer.Typer(
    help="Action items (AI-NNN) on the follow-up board.", no_args_is_help=True
)
ItemRef = Annotated[str, typer.Argument(metavar="ITEM", help="e.g. AI-007")]
Column = Annotated[str | None, typer.Option("--column", help="backlog, in_progress, review, done")]
Owner = Annotated[str | None, typer.Option("--owner", help="A username.")]
Team = Annotated[str | None, typer.Option("--team", help="A team's slug.")]
Service = Annotated[str | None, typer.Option("--service", help="A service's slug.")]
Klass = Annotated[
    str | None, typer.Option("--class", help="Class of service: expedite, fixed_date, standard.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(actions_app, name="actions")
    app.command("board")(board)


def _check(choice: str | None, allowed: tuple[str, ...], name: str) -> None:
    if choice is not None and choice not in allowed:
        fail(f"{name} must be one of {', '.join(allowed)}", EXIT_INVALID)


def _show(item: ItemOut) -> None:
    say(f"{item.code}  {item.title}")
    rows = [
        ("Column", COLUMN_LABELS.get(item.column, item.column)),
        ("Owner", item.owner or "-"),
        ("Due", f"{item.due_date or '-'}{'  OVERDUE' if item.overdue else ''}"),
        ("Priority", item.priority),
        ("Class", item.class_of_service),
        ("Incident", item.incident_id or "-"),
        ("Tracker", item.tracker_url or "-"),
    ]
    for label, value in rows:
        say(f"  {label + ':':<10} {value}")
    if item.description:
        say("")
        say(item.description)


@actions_app.command("list")
def list_items(
    column: Column = None,
    owner: Owner = None,
    team: Team = None,
    service_slug: Service = None,
    class_of_service: Klass = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue items.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=ITEMS_MAX_PAGE)] = 100,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a page")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Action items in AI number order."""
    _check(column, service.COLUMNS_ALL, "--column")
    _check(class_of_service, service.CLASSES, "--class")
    config = config_or_exit()
    pol = policy(config)
    where = ItemFilter(
        column=column,
        owner=owner,
        team=team,
        service=service_slug,
        class_of_service=class_of_service,
        overdue=True if overdue else None,
    )
    with transaction(config, write=False) as session:
        page = queries.item_page(session, pol, where, now=now(), limit=limit, cursor=cursor)
    if as_json:
        print_json(page)
        return
    table = Table("Item", "Title", "Column", "Owner", "Due", "Priority", "Class", "Incident")
    for item in page.items:
        due = f"{item.due_date}{' (overdue)' if item.overdue else ''}" if item.due_date else "-"
        table.add_row(  # people's words as Text: a title may hold `[...]`, not Rich markup
            item.code,
            Text(item.title),
            COLUMN_LABELS.get(item.column, item.column),
            Text(item.owner or "-"),
            due,
            item.priority,
            item.class_of_service,
            item.incident_id or "-",
        )
    console.print(table)
    if page.next_cursor:
        say(f"more: --cursor {page.next_cursor}", err=True)


@actions_app.command("show")
def show(ref: ItemRef, as_json: JsonFlag = False) -> None:
    """One action item."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        out = queries.item_detail(session, pol, service.find_item(session, ref), now=now())
    print_json(out) if as_json else _show(out)


@actions_app.command("add")
def add(
    title: Annotated[str, typer.Option("--title")],
    description: Annotated[str, typer.Option("--description")] = "",
    incident: Annotated[str | None, typer.Option("--incident", help="e.g. INC-...")] = None,
    owner: Owner = None,
    due: Annotated[str | None, typer.Option("--due", help="YYYY-MM-DD")] = None,
    priority: Annotated[str, typer.Option("--priority", help="high, medium, low")] = "medium",
    class_of_service: Klass = None,
    tracker: Annotated[str | None, typer.Option("--tracker", help="External tracker URL.")] = None,
    column: Annotated[str, typer.Option("--column")] = "backlog",
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an action item; prints its code (AI-NNN)."""
    body = build(
        ItemIn,
        title=title,
        description=description,
        incident_id=incident,
        owner=owner,
        due_date=parse_date(due),
        priority=priority,
        class_of_service=class_of_service,
        tracker_url=tracker,
        column=column,
    )
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        item = service.add_item(session, pol, by=actor(who), now=now(), **body.model_dump())
        out = queries.item_detail(session, pol, item, now=now())
    print_json(out) if as_json else say(out.code)


@actions_app.command("edit")
def edit(
    ref: ItemRef,
    title: Annotated[str | None, typer.Option("--title")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    due: Annotated[str | None, typer.Option("--due", help="YYYY-MM-DD, or 'none'")] = None,
    priority: Annotated[str | None, typer.Option("--priority")] = None,
    class_of_service: Klass = None,
    tracker: Annotated[str | None, typer.Option("--tracker", help="URL, or 'none'")] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an item's title, description, due date, priority, class or tracker link."""
    given: dict[str, Any] = {}
    for name, value in (
        ("title", title),
        ("description", description),
        ("priority", priority),
        ("class_of_service", class_of_service),
    ):
        if value is not None:
            given[name] = value
    if due is not None:
        given["due_date"] = None if due == "none" else parse_date(due)
    if tracker is not None:
        given["tracker_url"] = None if tracker == "none" else tracker
    changes = build(ItemPatch, **given).model_dump(exclude_unset=True)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        item = service.find_item(session, ref)
        service.edit(session, pol, item, by=actor(who), now=now(), **changes)
        out = queries.item_detail(session, pol, item, now=now())
    print_json(out) if as_json else _show(out)


@actions_app.command("move")
def move(
    ref: ItemRef,
    column: Annotated[str, typer.Argument(help="backlog, in_progress, review, done")],
    before: Annotated[str | None, typer.Option("--before", help="Above this item.")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Below this item.")] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move an item to a column (refused at the column's WIP limit unless Expedite)."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        item = service.find_item(session, ref)
        service.move(
            session,
            pol,
            item,
            column=column,
            before=before,
            after=after,
            by=actor(who),
            now=now(),
        )
        out = queries.item_detail(session, pol, item, now=now())
    if as_json:
        print_json(out)
    else:
        say(f"{out.code} -> {COLUMN_LABELS.get(out.column, out.column)}")


@actions_app.command("assign")
def assign(
    ref: ItemRef,
    owner: Annotated[str, typer.Argument(help="A username, or 'none'.")],
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Give an item to an owner."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        item = service.find_item(session, ref)
        service.assign(
            session, pol, item, None if owner == "none" else owner, by=actor(who), now=now()
        )
        out = queries.item_detail(session, pol, item, now=now())
    print_json(out) if as_json else say(f"{out.code} owner: {out.owner or '-'}")


def board(
    team: Team = None,
    service_slug: Service = None,
    owner: Owner = None,
    class_of_service: Klass = None,
    as_json: JsonFlag = False,
) -> None:
    """The follow-up board: Incident, Post-mortem and Incident Action Items lanes by column."""
    _check(class_of_service, service.CLASSES, "--class")
    config = config_or_exit()
    pol = policy(config)
    where = boards.BoardFilter(
        team=team, service=service_slug, owner=owner, class_of_service=class_of_service
    )
    with transaction(config, write=False) as session:
        out = boards.read_board(session, pol, where, now=now())
    if as_json:
        print_json(out)
        return
    print_board(out)


def print_board(out: BoardOut) -> None:
    for lane in out.lanes:
        say(LANE_LABELS[lane.id], style="bold")
        for column in lane.columns:
            limit = f"/{column.wip_limit}" if column.wip_limit else ""
            say(f"  {COLUMN_LABELS.get(column.id, column.id)} ({column.count}{limit})")
            for card in column.cards:
                extra = [card.owner or "", card.class_of_service]
                if card.due_date:
                    extra.append(f"due {card.due_date}{' OVERDUE' if card.overdue else ''}")
                if card.severity:
                    extra.insert(0, card.severity)
                say(f"    {card.code}  {card.title}  [{', '.join(e for e in extra if e)}]")
