"""`haetae postmortem`: start, show, write, review and publish an incident's post-mortem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import TypeAdapter
from rich import box
from rich.table import Table
from rich.text import Text

from haetae.actions.service import code
from haetae.cli.common import (
    EXIT_INVALID,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    console,
    fail,
    local_time,
    locale,
    now,
    parse_time,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.i18n import gettext_for
from haetae.policy.schema import Policy
from haetae.postmortems import queries, service
from haetae.postmortems.queries import PostmortemPage, PostmortemView
from haetae.postmortems.schemas import MeasureIn, MeetingIn, PostmortemEdit, ReviewIn
from haetae.postmortems.sections import BUILTIN_TITLES

postmortem_app = typer.Typer(
    help="Post-mortems: start, show, edit, measures, review, publish.", no_args_is_help=True
)

IncidentId = Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident's ID.")]
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang", metavar="en|ko", help="Language of the titles (default $HAETAE_LOCALE)."
    ),
]
_VIEW = TypeAdapter(PostmortemView)
_PAGE = TypeAdapter(PostmortemPage)


def register(app: typer.Typer) -> None:
    app.add_typer(postmortem_app, name="postmortem")


def _view_json(view: PostmortemView) -> Any:
    """The API's JSON shape exactly."""
    return _VIEW.dump_python(view, mode="json")


def _done(view: PostmortemView, json_: bool, message: str) -> None:
    if json_:
        print_json(_view_json(view))
    else:
        say(message, err=True)
        say(view.incident_id)


def _lang(value: str | None) -> str:
    chosen = value or locale()
    if chosen not in ("en", "ko"):
        fail("--lang must be en or ko", EXIT_INVALID)
    return chosen


@postmortem_app.command("start")
def start(incident_id: IncidentId, as_: ActorOption = None, json_: JsonFlag = False) -> None:
    """Start the incident's post-mortem, drafted from what Haetae knows."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    with transaction(config) as session:
        pm = service.start(session, pol, incident_id, by=actor(as_), now=moment)
        session.flush()
        view = queries.view(session, pol, pm.incident_id, now=moment, locale=locale())
    _done(view, json_, f"post-mortem of {view.incident_id} started (draft, author {view.author})")


@postmortem_app.command("show")
def show(incident_id: IncidentId, json_: JsonFlag = False, lang: LangOption = None) -> None:
    """The post-mortem: basic information, what people wrote, measures, reviews, deadlines."""
    config = config_or_exit()
    pol = policy(config)
    language = _lang(lang)
    with transaction(config, write=False) as session:
        view = queries.view(session, pol, incident_id, now=now(), locale=language)
    if json_:
        print_json(_view_json(view))
        return
    _print(view, pol, language)


def _print(view: PostmortemView, pol: Policy, language: str) -> None:
    b = view.basic
    titles = {s.id: s.title for s in view.sections}

    def heading(section: str) -> None:
        say("")
        builtin = BUILTIN_TITLES.get(section)
        fallback = gettext_for(language, builtin) if builtin else section
        say(titles.get(section) or fallback, style="bold")

    say(f"{b.incident_id} {view.title}", style="bold")
    say(f"{view.status} · {view.author}", style="dim")
    heading("basic")
    for label, value in (
        ("severity", f"{b.severity} {b.severity_name}"),
        ("occurred", local_time(b.occurred, pol)),
        ("detected", local_time(b.detected_at, pol)),
        ("recovered", local_time(b.recovered, pol)),
        ("outage", f"{b.total_outage_minutes} min" if b.total_outage_minutes is not None else "-"),
        ("IC", b.ic or "-"),
        ("date", b.date.isoformat()),
    ):
        say(f"  {label}: {value}")
    for section, text in (("summary", view.summary), ("impact", view.impact)):
        if text:
            heading(section)
            say(text)
    heading("timeline")
    for event in view.key_events:
        say(
            f"  {local_time(event.at, pol)}  {event.text}"
            + (f"  ({event.note})" if event.note else "")
        )
    d = view.durations
    heading("durations")
    for label, minutes in (
        ("detect", d.time_to_detect),
        ("acknowledge", d.time_to_acknowledge),
        ("mitigate", d.time_to_mitigate),
        ("resolve", d.time_to_resolve),
    ):
        say(f"  time to {label}: {'-' if minutes is None else f'{minutes} min'}")
    if d.minutes_past_target is not None:
        say(f"  minutes past the recovery target: {d.minutes_past_target}")
    if view.whys or view.root_cause:
        heading("five_whys")
        for n, why in enumerate(view.whys, 1):
            say(f"  {n}. {why}")
        if view.root_cause:
            say(f"  -> {view.root_cause}")
    for section, items in (
        ("contributing_factors", view.contributing_factors),
        ("went_well", view.went_well),
        ("went_wrong", view.went_wrong),
        ("lucky", view.lucky),
    ):
        if items:
            heading(section)
            for item in items:
                say(f"  - {item}")
    for section_id, text in view.custom.items():
        heading(section_id)
        say(text)
    if view.measures:
        heading("measures")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("ID", "TERM", "TITLE", "OWNER", "DUE", "PRIORITY", "COLUMN"):
            table.add_column(column)
        for m in view.measures:
            table.add_row(
                m.code,
                m.term or "-",
                Text(m.title),
                Text(m.owner or "-"),
                m.due_date.isoformat() if m.due_date else "-",
                m.priority,
                m.column,
            )
        console.print(table)
    if view.lessons:
        heading("lessons")
        say(view.lessons)
    say("")
    for review in view.reviews:
        say(f"  review: {review.reviewer} {review.verdict or 'pending'}", style="dim")
    for deadline in view.deadlines:
        say(f"  {deadline.name}: {local_time(deadline.due, pol)} ({deadline.state})", style="dim")


@postmortem_app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option("--status", help="draft, in_review, published")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=queries.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a page")] = None,
    json_: JsonFlag = False,
) -> None:
    """Post-mortems, the most recently changed first."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        page = queries.list_postmortems(session, status=status, limit=limit, cursor=cursor)
    if json_:
        print_json(_PAGE.dump_python(page, mode="json"))
        return
    if not page.items:
        say("no post-mortems", style="dim")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("INCIDENT", "SEV", "STATUS", "AUTHOR", "UPDATED", "TITLE"):
        table.add_column(column)
    for item in page.items:
        table.add_row(
            item.incident_id,
            item.severity,
            item.status,
            Text(item.author),
            local_time(item.updated_at, pol, short=True),
            Text(item.title),
        )
    console.print(table)
    if page.next_cursor:
        say(f"more: --cursor {page.next_cursor}", style="dim")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", EXIT_INVALID)
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        fail(
            f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}",
            EXIT_INVALID,
        )
    if data is None:
        return {}
    if not isinstance(data, dict):
        fail(f"{path} must hold a mapping of post-mortem fields", EXIT_INVALID)
    return data


@postmortem_app.command("edit")
def edit(
    incident_id: IncidentId,
    file: Annotated[
        Path | None,
        typer.Option("--file", metavar="FILE", help="YAML or JSON with the API's field names."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    summary: Annotated[str | None, typer.Option("--summary")] = None,
    impact: Annotated[str | None, typer.Option("--impact")] = None,
    root_cause: Annotated[str | None, typer.Option("--root-cause")] = None,
    why: Annotated[
        list[str] | None, typer.Option("--why", help="Repeat in order; replaces the chain.")
    ] = None,
    factor: Annotated[
        list[str] | None, typer.Option("--factor", help="A contributing factor; repeatable.")
    ] = None,
    went_well: Annotated[list[str] | None, typer.Option("--went-well")] = None,
    went_wrong: Annotated[list[str] | None, typer.Option("--went-wrong")] = None,
    lucky: Annotated[list[str] | None, typer.Option("--lucky")] = None,
    lessons: Annotated[str | None, typer.Option("--lessons")] = None,
    author: Annotated[str | None, typer.Option("--author", metavar="USER")] = None,
    meeting_at: Annotated[
        str | None, typer.Option("--meeting-at", metavar="ISO", help="naive: the policy's zone")
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Write the post-mortem: flags, or --file (flags win over the file's fields). Repeatable
    flags replace the whole list."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    data: dict[str, Any] = _read_file(file) if file else {}
    for name, value in (
        ("title", title),
        ("summary", summary),
        ("impact", impact),
        ("root_cause", root_cause),
        ("whys", why),
        ("contributing_factors", factor),
        ("went_well", went_well),
        ("went_wrong", went_wrong),
        ("lucky", lucky),
        ("lessons", lessons),
        ("author", author),
        ("meeting_at", meeting_at),
    ):
        if value is not None:
            data[name] = value
    if isinstance(data.get("meeting_at"), str):
        data["meeting_at"] = parse_time(data["meeting_at"], pol, at=moment)
    if not data:
        fail("nothing to change: give flags or --file", EXIT_INVALID)
    changes = build(PostmortemEdit, **data)
    with transaction(config) as session:
        service.edit(session, pol, incident_id, changes, by=actor(as_), now=moment)
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    _done(view, json_, f"post-mortem of {incident_id} edited: {', '.join(sorted(data))}")


@postmortem_app.command("measure")
def measure(
    incident_id: IncidentId,
    title: Annotated[str, typer.Option("--title")],
    term: Annotated[
        str, typer.Option("--term", help="short (7 days), mid (30), long (90)")
    ] = "short",
    owner: Annotated[str | None, typer.Option("--owner", metavar="USER")] = None,
    due: Annotated[str | None, typer.Option("--due", metavar="YYYY-MM-DD")] = None,
    priority: Annotated[str, typer.Option("--priority", help="high, medium or low")] = "medium",
    description: Annotated[str, typer.Option("--description")] = "",
    class_of_service: Annotated[
        str | None, typer.Option("--class", help="expedite, fixed_date or standard")
    ] = None,
    tracker_url: Annotated[str | None, typer.Option("--tracker-url")] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Add a measure: it becomes an action item (AI-NNN) on the board."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    fields: dict[str, Any] = {
        "title": title,
        "term": term,
        "owner": owner,
        "due_date": due,
        "priority": priority,
        "description": description,
        "class_of_service": class_of_service,
        "tracker_url": tracker_url,
    }
    body = build(MeasureIn, **fields)
    with transaction(config) as session:
        item = service.add_measure(session, pol, incident_id, body, by=actor(as_), now=moment)
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    row = next(m for m in view.measures if m.code == code(item))
    if json_:
        print_json(TypeAdapter(queries.MeasureRow).dump_python(row, mode="json"))
        return
    say(f"{row.code} due {row.due_date} ({row.term}-term, {row.class_of_service})", err=True)
    say(row.code)


@postmortem_app.command("submit")
def submit(
    incident_id: IncidentId,
    reviewer: Annotated[
        list[str] | None, typer.Option("--reviewer", metavar="USER", help="repeatable")
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Submit the draft for review."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    with transaction(config) as session:
        service.submit(
            session, pol, incident_id, reviewers=list(reviewer or []), by=actor(as_), now=moment
        )
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    reviewers = ", ".join(r.reviewer for r in view.reviews) or "nobody yet"
    _done(view, json_, f"post-mortem of {incident_id} in review (reviewers: {reviewers})")


@postmortem_app.command("review")
def review(
    incident_id: IncidentId,
    approve: Annotated[bool, typer.Option("--approve")] = False,
    request_changes: Annotated[bool, typer.Option("--request-changes")] = False,
    comment: Annotated[str, typer.Option("--comment")] = "",
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Give your verdict as a listed reviewer (--as you)."""
    if approve == request_changes:
        fail("give exactly one of --approve or --request-changes", EXIT_INVALID)
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    body = build(ReviewIn, verdict="approved" if approve else "changes_requested", comment=comment)
    with transaction(config) as session:
        service.review(
            session,
            pol,
            incident_id,
            verdict=body.verdict,
            comment=body.comment,
            by=actor(as_),
            now=moment,
        )
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    _done(view, json_, f"post-mortem of {incident_id}: {body.verdict}; now {view.status}")


@postmortem_app.command("publish")
def publish(incident_id: IncidentId, as_: ActorOption = None, json_: JsonFlag = False) -> None:
    """Publish it (needs the policy's approvals)."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    with transaction(config) as session:
        service.publish(session, pol, incident_id, by=actor(as_), now=moment)
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    _done(view, json_, f"post-mortem of {incident_id} published")


@postmortem_app.command("meeting")
def meeting(
    incident_id: IncidentId,
    at: Annotated[
        str | None, typer.Option("--at", metavar="ISO", help="naive: the policy's zone")
    ] = None,
    held: Annotated[
        bool, typer.Option("--held", help="It took place (at --at, else now).")
    ] = False,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Schedule the post-mortem meeting, or record that it was held."""
    config = config_or_exit()
    pol = policy(config)
    moment = now()
    when = parse_time(at, pol, at=moment) if at else None
    body = build(MeetingIn, at=when, held=held)
    with transaction(config) as session:
        service.meeting(
            session, pol, incident_id, at=body.at, held=body.held, by=actor(as_), now=moment
        )
        session.flush()
        view = queries.view(session, pol, incident_id, now=moment, locale=locale())
    what = "held" if held else f"at {local_time(view.meeting_at, pol)}"
    _done(view, json_, f"post-mortem meeting of {incident_id} {what}")
