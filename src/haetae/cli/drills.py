"""`haetae drill ...`: schedule, start, end (kill switch), score and list drills."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from haetae.actions import service as actions
from haetae.cli.common import (
    EXIT_INVALID,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    fail,
    local_time,
    now,
    parse_date,
    parse_time,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.drills import scorecard, service
from haetae.drills.schemas import DrillIn, DrillItemIn, DrillOut, ScorecardIn, ScorecardOut

group = typer.Typer(
    help="Drills: tabletop, simulation, game day and chaos experiments.", no_args_is_help=True
)
items_group = typer.Typer(help="A drill's improvement items (TI-NNN).", no_args_is_help=True)
DrillRef = Annotated[str, typer.Argument(metavar="DRILL", help="e.g. DR-001")]
Note = Annotated[str, typer.Option("--note", help="Said on the incident's timeline.")]


def register(app: typer.Typer) -> None:
    group.add_typer(items_group, name="item")
    app.add_typer(group, name="drill")


def _show(out: DrillOut, pol: Any) -> None:
    say(f"{out.code}  {out.title}  [{out.kind}, {out.status}]")
    rows = [
        ("Severity", out.severity),
        ("Scheduled", local_time(out.scheduled_at, pol) or "-"),
        ("Started", local_time(out.started_at, pol) or "-"),
        ("Ended", f"{local_time(out.ended_at, pol)} ({out.end_reason})" if out.ended_at else "-"),
        ("Incident", out.incident_id or "-"),
        ("Inject", f"{sum(1 for i in out.inject if i.get('sent_at'))}/{len(out.inject)} sent"),
        ("Max", f"{out.max_duration_seconds // 60} min"),
    ]
    for label, value in rows:
        say(f"  {label + ':':<10} {value}")
    for key, value in out.chaos.items():
        say(f"  {key}: {value}")


def _card(card: ScorecardOut) -> None:
    say(f"{card.drill}  {card.title}  scorecard")
    for row in card.timed:
        actual = "-" if row.actual_minutes is None else f"{row.actual_minutes:g} min"
        met = "-" if row.met is None else ("Y" if row.met else "N")
        say(f"  {row.label:<22} target {row.target_minutes:g} min  actual {actual}  met {met}")
    for judged in card.judged:
        hint = f" (suggested: {judged.suggested})" if judged.suggested else ""
        say(f"  {judged.label:<22} {judged.value or '-'}{hint}")
    say(f"  Participants: {', '.join(card.participants) or '-'}")
    say(f"  Assessment: {card.assessment or '-'}")
    for item in card.items:
        say(f"  {item.code} {item.title} ({item.owner or '-'}, {item.due_date or '-'})")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        fail(f"cannot read {path}: {exc}", EXIT_INVALID)
    if not isinstance(data, dict):
        fail(f"{path} must hold a mapping (title, kind, inject, chaos ...)", EXIT_INVALID)
    return data


@group.command("list")
def list_drills(
    status: Annotated[str | None, typer.Option("--status")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Drills, newest first."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        rows, _total = service.list_drills(session, status=status, limit=service.MAX_PAGE)
        outs = [service.drill_out(d) for d in rows]
    if as_json:
        print_json(outs)
        return
    for out in outs:
        when = local_time(out.started_at or out.scheduled_at, pol, short=True) or "-"
        say(f"{out.code}  {out.status:<9} {out.kind:<10} {when}  {out.title}")


@group.command("create")
def create(
    title: Annotated[str | None, typer.Option("--title")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="tabletop, simulation, game_day, chaos")
    ] = None,
    scenario: Annotated[str | None, typer.Option("--scenario")] = None,
    severity: Annotated[str | None, typer.Option("--severity")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the worker starts it.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="YAML or JSON with any fields, inject and chaos too."),
    ] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a drill; prints its code (DR-NNN). Options override the file's fields."""
    config = config_or_exit()
    pol = policy(config)
    data: dict[str, Any] = _read_file(file) if file is not None else {}
    for name, value in (
        ("title", title),
        ("kind", kind),
        ("scenario", scenario),
        ("severity", severity),
    ):
        if value is not None:
            data[name] = value
    if at is not None:
        data["scheduled_at"] = parse_time(at, pol, at=now())
    body = build(DrillIn, **data)
    with transaction(config) as session:
        drill = service.create_drill(session, pol, body, by=actor(who), now=now())
        out = service.drill_out(drill)
    print_json(out) if as_json else say(out.code)


@group.command("show")
def show(
    ref: DrillRef,
    fmt: Annotated[str, typer.Option("--format", help="text, json or md (the scorecard)")] = "text",
) -> None:
    """A drill; `--format md` prints its scorecard as seed 001 8.3's Markdown table."""
    if fmt not in ("text", "json", "md"):
        fail("--format must be text, json or md", EXIT_INVALID)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        drill = service.get_drill(session, ref)
        out = service.drill_out(drill)
        card = scorecard.build(session, pol, drill)
    if fmt == "json":
        print_json(out)
    elif fmt == "md":
        typer.echo(scorecard.markdown(card))
    else:
        _show(out, pol)


def _act(ref: str, who: str | None, as_json: bool, verb: str, note: str = "") -> None:
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        drill = service.get_drill(session, ref, for_update=True)
        if verb == "start":
            service.start_drill(session, pol, drill, by=actor(who), now=now())
        else:
            service.end_drill(session, pol, drill, by=actor(who), now=now(), reason=verb, note=note)
        out = service.drill_out(drill)
    print_json(out) if as_json else _show(out, pol)


@group.command("start")
def start(ref: DrillRef, who: ActorOption = None, as_json: JsonFlag = False) -> None:
    """Start a scheduled drill now (its synthetic alerts go out on the worker's next pass)."""
    _act(ref, who, as_json, "start")


@group.command("end")
def end(ref: DrillRef, note: Note = "", who: ActorOption = None, as_json: JsonFlag = False) -> None:
    """End a drill normally (end_reason completed); a scheduled one is canceled."""
    _act(ref, who, as_json, "completed", note)


@group.command("kill")
def kill(
    ref: DrillRef, note: Note = "", who: ActorOption = None, as_json: JsonFlag = False
) -> None:
    """The kill switch: end the drill and everything it started, at once."""
    _act(ref, who, as_json, "kill_switch", note)


@group.command("score")
def score(
    ref: DrillRef,
    communication: Annotated[
        str | None, typer.Option("--communication", help="adequate or lacking")
    ] = None,
    runbook: Annotated[
        str | None, typer.Option("--runbook", help="accurate or partly_wrong")
    ] = None,
    participant: Annotated[
        list[str] | None, typer.Option("--participant", help="Repeat for each (replaces).")
    ] = None,
    assessment: Annotated[str | None, typer.Option("--assessment")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill in the scorecard's judged rows and print it (with the measured times)."""
    given: dict[str, Any] = {}
    for name, value in (
        ("communication", communication),
        ("runbook", runbook),
        ("participants", participant),
        ("assessment", assessment),
    ):
        if value is not None:
            given[name] = value
    body = build(ScorecardIn, **given)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=bool(given)) as session:
        drill = service.get_drill(session, ref, for_update=bool(given))
        if given:
            scorecard.update(session, drill, body, now=now())
        card = scorecard.build(session, pol, drill)
    print_json(card) if as_json else _card(card)


@items_group.command("add")
def item_add(
    ref: DrillRef,
    title: Annotated[str, typer.Argument()],
    owner: Annotated[str | None, typer.Option("--owner", help="A username.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="YYYY-MM-DD")] = None,
    priority: Annotated[str, typer.Option("--priority")] = "medium",
    description: Annotated[str, typer.Option("--description")] = "",
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an improvement item (TI-NNN) to the follow-up board; prints its code."""
    due_date = parse_date(due)
    body = build(
        DrillItemIn,
        title=title,
        owner=owner,
        due_date=due_date,
        priority=priority,
        description=description,
    )
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        drill = service.get_drill(session, ref)
        item = scorecard.add_item(session, pol, drill, body, by=actor(who), now=now())
        code = actions.code(item)
    print_json({"code": code, "drill": ref}) if as_json else say(code)
