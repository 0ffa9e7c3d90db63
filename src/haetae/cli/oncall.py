"""`haetae oncall`: who is on call, the shifts ahead, and overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from haetae.cli.common import (
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    console,
    local_time,
    now,
    parse_time,
    policy,
    print_json,
    say,
    transaction,
    zone_name,
)
from haetae.oncall import service as oncall
from haetae.oncall.schemas import OverrideSpec
from haetae.oncall.views import override_out, shift_outs, who_is_on_call

oncall_app = typer.Typer(
    help="On-call schedules: who is on call, shifts, overrides.", no_args_is_help=True
)

TimeOption = Annotated[
    str | None,
    typer.Option("--at", metavar="ISO", help="A moment (naive: the policy's zone); default now."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(oncall_app, name="oncall")


@oncall_app.command("now")
def now_(
    schedule: Annotated[str | None, typer.Option("--schedule", metavar="SLUG")] = None,
    team: Annotated[str | None, typer.Option("--team", metavar="SLUG")] = None,
    service: Annotated[str | None, typer.Option("--service", metavar="SLUG")] = None,
    at: TimeOption = None,
    json_: JsonFlag = False,
) -> None:
    """Who is on call now (or --at), per schedule and layer, and until when."""
    config = config_or_exit()
    pol = policy(config)
    moment = parse_time(at, pol, at=now()) if at else now()
    with transaction(config, write=False) as session:
        answers = who_is_on_call(session, at=moment, schedule=schedule, team=team, service=service)
    if json_:
        print_json(answers)
        return
    if not answers:
        say("no schedules match", style="dim")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("SCHEDULE", "LAYER", "ON CALL", "SINCE", "UNTIL"):
        table.add_column(column)
    for answer in answers:
        people = ", ".join(u.username for u in answer.users)
        table.add_row(
            Text(answer.schedule),
            Text(answer.layer),
            Text(people) if people else Text("nobody", style="yellow"),
            local_time(answer.since, pol, short=True),
            local_time(answer.until, pol, short=True),
        )
    console.print(table)
    say(f"at {local_time(moment, pol)}; times in {zone_name(pol, moment)}", style="dim")


@oncall_app.command("shifts")
def shifts(
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="The schedule's slug.")],
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="How far ahead.")] = 14,
    start: Annotated[
        str | None, typer.Option("--start", metavar="ISO", help="default: now")
    ] = None,
    layer: Annotated[str | None, typer.Option("--layer", help="Only this layer.")] = None,
    json_: JsonFlag = False,
) -> None:
    """The shifts of a schedule from now (or --start) for --days days."""
    config = config_or_exit()
    pol = policy(config)
    begin = parse_time(start, pol, at=now()) if start else now()
    with transaction(config, write=False) as session:
        found = oncall.get_schedule(session, schedule)
        views = shift_outs(
            session, found, start=begin, end=begin + timedelta(days=days), layer=layer
        )
    if json_:
        print_json(views)
        return
    if not views:
        say("nobody is on call in that period", style="dim")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("LAYER", "ON CALL", "START", "END", "BY"):
        table.add_column(column)
    for view in views:
        by = f"override {view.override_id}" if view.source == "override" else view.rotation or ""
        table.add_row(
            Text(view.layer),
            Text(view.user),
            local_time(view.start, pol, short=True),
            local_time(view.end, pol, short=True),
            Text(by),
        )
    console.print(table)
    say(f"times in {zone_name(pol, begin)}", style="dim")


@oncall_app.command("override")
def override(
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="The schedule's slug.")],
    user: Annotated[str, typer.Option("--user", metavar="USERNAME", help="Who covers.")],
    start: Annotated[str, typer.Option("--start", metavar="ISO", help="naive: the policy's zone")],
    end: Annotated[str, typer.Option("--end", metavar="ISO", help="or a duration from --start")],
    replaces: Annotated[
        str | None,
        typer.Option("--replaces", metavar="USERNAME", help="Only this person's time."),
    ] = None,
    layer: Annotated[str, typer.Option("--layer")] = "primary",
    note: Annotated[str, typer.Option("--note")] = "",
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Someone covers a period of a layer (with --replaces: only that person's shifts)."""
    config = config_or_exit()
    pol = policy(config)
    begin = parse_time(start, pol, at=now())
    spec = build(
        OverrideSpec,
        layer=layer,
        user=user,
        replaces=replaces,
        start=begin,
        end=parse_time(end, pol, at=begin),
        note=note,
    )
    with transaction(config) as session:
        found = oncall.get_schedule(session, schedule)
        row = oncall.add_override(session, found.id, spec, by=actor(as_), now=now())
        view = override_out(session, found, row)
    if json_:
        print_json(view)
        return
    whose = f" (for {view.replaces})" if view.replaces else ""
    say(
        f"override {view.id}: {view.user}{whose} on call in {schedule} ({view.layer}) "
        f"from {local_time(view.start, pol)} to {local_time(view.end, pol)}"
    )
