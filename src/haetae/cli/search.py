"""`haetae search`: the case library from the command line: search, similar, recurrence."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.table import Table

from haetae.cases import index, queries, service
from haetae.cases.schemas import Fix
from haetae.cli.common import (
    EXIT_USAGE,
    ActorOption,
    JsonFlag,
    actor,
    config_or_exit,
    console,
    fail,
    local_time,
    now,
    parse_time,
    policy,
    print_json,
    say,
    transaction,
)

_INCIDENT_ID = re.compile(r"INC-\d{8}-\d+", re.IGNORECASE)
Split = Annotated[list[str] | None, typer.Option(help="Repeat or comma-separate.")]


def register(app: typer.Typer) -> None:
    app.command(
        "search",
        help=(
            "Search past incidents, post-mortems, notes and decisions: "
            '`haetae search "디스크 풀"`. '
            "`haetae search similar INC-...` lists similar earlier incidents; "
            "`haetae search recurrence INC-... --of INC-...` (or --clear) marks a recurrence."
        ),
    )(search)


def search(
    words: Annotated[
        list[str] | None, typer.Argument(metavar="[WORDS]...", help="Words that must all occur.")
    ] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    severity: Split = None,
    status: Split = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help=f"Where the words occur: {', '.join(index.KINDS)} (repeat)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Declared at or after: ISO 8601, or a duration ago (30d)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Declared at or before: ISO 8601 or ago.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=queries.MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a page")] = None,
    of: Annotated[str | None, typer.Option("--of", help="recurrence: the earlier incident")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="recurrence: unmark")] = False,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    given = list(words or [])
    if (
        len(given) == 2
        and given[0] in ("similar", "recurrence")
        and _INCIDENT_ID.fullmatch(given[1])
    ):
        if given[0] == "similar":
            _similar(given[1].upper(), limit=min(limit, 20), json_=json_)
        else:
            _recurrence(given[1].upper(), of=of, clear=clear, as_=as_, json_=json_)
        return
    if of or clear:
        fail("--of and --clear go with `haetae search recurrence INC-...`", EXIT_USAGE)
    config = config_or_exit()
    pol = policy(config)
    at = now()

    def split(values: list[str] | None) -> list[str]:
        return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]

    with transaction(config, write=False) as session:
        query = queries.SearchQuery(
            q=" ".join(given),
            category=category,
            service=service_name,
            tag=tag,
            severity=split(severity),
            status=split(status),
            kinds=split(kind),
            since=parse_time(since, pol, at=at, ago=True) if since else None,
            until=parse_time(until, pol, at=at, ago=True) if until else None,
            limit=limit,
            cursor=cursor,
        )
        page = queries.search(session, query)
    if json_:
        print_json(page)
        return
    if not page.items:
        say("nothing matches", style="dim")
        return
    for hit in page.items:
        head = (
            f"[bold]{hit.id}[/bold] {hit.severity} {hit.status}  {local_time(hit.declared_at, pol)}"
        )
        console.print(head, highlight=False)
        console.print(f"  {hit.title}", highlight=False, markup=False)
        console.print(f"  \\[{hit.kind}] {_marked(hit.snippet, hit.highlights)}", highlight=False)
        _outcome(hit.root_cause, hit.fix)
    if page.next_cursor:
        say(f"more: --cursor {page.next_cursor}", style="dim")


def _marked(snippet: str, spans: list[tuple[int, int]]) -> str:
    """The snippet as Rich markup with the matches in bold; the text itself escaped."""
    from rich.markup import escape

    out, at = [], 0
    for start, end in spans:
        out += [escape(snippet[at:start]), f"[bold yellow]{escape(snippet[start:end])}[/]"]
        at = end
    out.append(escape(snippet[at:]))
    return "".join(out)


def _outcome(root_cause: str | None, fix: Fix | None) -> None:
    if root_cause:
        console.print(f"  root cause: {root_cause}", highlight=False, markup=False)
    if fix and (fix.summary or fix.measures):
        measures = f" (measures: {'; '.join(fix.measures)})" if fix.measures else ""
        console.print(f"  fixed by: {fix.summary or '-'}{measures}", highlight=False, markup=False)


def _similar(incident_id: str, *, limit: int, json_: bool) -> None:
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        found = service.similar(session, incident_id, limit=limit)
    if json_:
        print_json(found)
        return
    if not found:
        say("no similar earlier incidents", style="dim")
        return
    table = Table("ID", "Sev", "Status", "Declared", "Title", "Why", "Root cause / fix")
    for item in found:
        why = ", ".join(f"{r.kind}: {r.value}" for r in item.reasons)
        fixed = item.fix.summary if item.fix else None
        table.add_row(
            item.id + (" *" if item.is_marked else ""),
            item.severity,
            item.status,
            local_time(item.declared_at, pol, short=True),
            item.title,
            why,
            " / ".join(x for x in (item.root_cause, fixed) if x) or "-",
        )
    console.print(table)


def _recurrence(
    incident_id: str, *, of: str | None, clear: bool, as_: str | None, json_: bool
) -> None:
    if clear == bool(of):
        fail("give --of INC-... to mark, or --clear to unmark", EXIT_USAGE)
    config = config_or_exit()
    with transaction(config) as session:
        if clear:
            result = service.unmark_recurrence(session, incident_id, actor=actor(as_), now=now())
        else:
            assert of is not None
            result = service.mark_recurrence(
                session, incident_id, of=of.upper(), actor=actor(as_), now=now()
            )
    if json_:
        print_json(result)
    elif result.recurrence_of:
        say(f"{incident_id} is a recurrence of {result.recurrence_of}")
    else:
        say(f"{incident_id} is not marked as a recurrence")
