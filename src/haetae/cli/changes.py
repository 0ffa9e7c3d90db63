"""`haetae changes ...`: post, list and link changes from the change feed, and an incident's
affected version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import httpx
import typer

from haetae.changes import queries, service
from haetae.changes.schemas import ChangeIn, ChangeOut, LinkIn
from haetae.cli.common import (
    EXIT_AUTH,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    fail,
    local_time,
    now,
    parse_time,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.inputs import INT32_MAX

changes_group = typer.Typer(
    help="The change feed: deploys, configuration and infrastructure changes.",
    no_args_is_help=True,
)
IncidentId = Annotated[str, typer.Argument(metavar="INCIDENT", help="e.g. INC-20261121-001")]
ChangeId = Annotated[
    int, typer.Argument(metavar="CHANGE", help="the change's number", min=1, max=INT32_MAX)
]
_EXIT_FOR_HTTP = {401: EXIT_AUTH, 403: EXIT_AUTH, 404: EXIT_NOT_FOUND, 413: EXIT_INVALID}


def register(app: typer.Typer) -> None:
    app.add_typer(changes_group, name="changes")


def _over_http(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/changes as a CI job does, for runners without the database."""
    try:
        answer = httpx.post(
            url.rstrip("/") + "/api/v1/changes",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        fail(f"could not reach {url}: {exc}", EXIT_ERROR)
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            message = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code}"
        fallback = EXIT_INVALID if answer.status_code < 500 else EXIT_ERROR
        code = _EXIT_FOR_HTTP.get(answer.status_code, fallback)
        fail(message, code)
    result: dict[str, Any] = answer.json()
    return result


@changes_group.command("post")
def post(
    service_: Annotated[str, typer.Option("--service", help="The service changed.")],
    kind: Annotated[str, typer.Option("--kind", help="deploy, config or infrastructure.")] = (
        "deploy"
    ),
    version: Annotated[str, typer.Option("--version", help="The version deployed.")] = "",
    summary: Annotated[str, typer.Option("--summary")] = "",
    author: Annotated[str, typer.Option("--author", help="Default: the actor.")] = "",
    link: Annotated[str, typer.Option("--link", help="http(s) URL of the pipeline or diff.")] = "",
    rollback: Annotated[str, typer.Option("--rollback", help="Shown to copy, never run.")] = "",
    environment: Annotated[str, typer.Option("--environment")] = "",
    at: Annotated[str | None, typer.Option("--at", metavar="ISO", help="Default: now.")] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="Your id for it: posting it again records once.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", envvar="HAETAE_URL", help="Post to this Haetae over HTTP."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="HAETAE_CHANGES_TOKEN",
            help="A changes integration's token (with --url).",
            show_default=False,
        ),
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Record a change: over HTTP with --url and --token (a CI job), else in the database."""
    config = None if url else config_or_exit()
    pol = policy(config) if config else None
    when = None
    if at:
        when = parse_time(at, pol, at=now()) if pol else _iso(at)
    data = build(
        ChangeIn,
        service=service_,
        kind=kind,
        version=version,
        summary=summary,
        author=author,
        link=link,
        rollback=rollback,
        environment=environment,
        at=when,
        id=id_,
    )
    if url:
        if not token:
            fail("--url needs --token (or HAETAE_CHANGES_TOKEN)", EXIT_AUTH)
        result = _over_http(url, token, data.model_dump(mode="json", exclude_none=True))
    else:
        assert config is not None
        with transaction(config) as session:
            change, new = service.record_change(
                session, data, integration_id=None, author=actor(as_), now=now()
            )
            result = {
                **ChangeOut.model_validate(change).model_dump(mode="json"),
                "service_known": service.is_known_service(session, change.service),
                "duplicate": not new,
            }
    if json_:
        print_json(result)
        return
    head = f"change {result['id']}: {result['kind']} {result['service']} {result['version']}"
    say(head.rstrip() + (" (already recorded)" if result["duplicate"] else ""))
    if not result["service_known"]:
        say(f"note: no registered service has the slug {result['service']}", err=True)


def _iso(value: str) -> datetime:
    """Without the policy (over HTTP), a time without a zone is UTC, as the API reads it."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"'{value}' is not an ISO 8601 time", EXIT_INVALID)


@changes_group.command("list")
def list_changes(
    service_: Annotated[str | None, typer.Option("--service")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="ISO|6h", help="e.g. 6h for the last 6 hours.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    json_: JsonFlag = False,
) -> None:
    """Recent changes, newest first."""
    config = config_or_exit()
    pol = policy(config)
    start = parse_time(since, pol, at=now(), ago=True) if since else None
    with transaction(config, write=False) as session:
        rows, total = queries.list_changes(
            session, service=service_, kind=kind, since=start, limit=limit
        )
        out = [ChangeOut.model_validate(c) for c in rows]
    if json_:
        print_json({"changes": [c.model_dump(mode="json") for c in out], "total": total})
        return
    if not out:
        say("no changes")
        return
    for c in out:
        say(
            f"{c.id:>5}  {local_time(c.happened_at, pol)}  {c.kind:<14} {c.service}  "
            f"{c.version}  {c.author}  {c.summary}".rstrip()
        )


@changes_group.command("link")
def link(
    incident_id: IncidentId,
    change_id: ChangeId,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="A confirmed cause (default: suspected).")
    ] = False,
    note: Annotated[str, typer.Option("--note")] = "",
    as_: ActorOption = None,
) -> None:
    """Link a change to an incident as a suspected (or confirmed) cause."""
    data = build(
        LinkIn, change_id=change_id, verdict="confirmed" if confirmed else "suspected", note=note
    )
    config = config_or_exit()
    with transaction(config) as session:
        service.link(
            session,
            incident_id,
            data.change_id,
            verdict=data.verdict,
            note=data.note,
            by=actor(as_),
            now=now(),
        )
    say(f"{incident_id}: change {change_id} linked as {data.verdict}")


@changes_group.command("unlink")
def unlink(incident_id: IncidentId, change_id: ChangeId, as_: ActorOption = None) -> None:
    """Take a change off an incident's suspected causes."""
    config = config_or_exit()
    with transaction(config) as session:
        service.unlink(session, incident_id, change_id, by=actor(as_), now=now())
    say(f"{incident_id}: change {change_id} unlinked")


@changes_group.command("affected-version")
def affected_version(
    incident_id: IncidentId,
    version: Annotated[str, typer.Argument(metavar="VERSION", help='"" clears it.')],
    as_: ActorOption = None,
) -> None:
    """Set the version of the affected service that was running (seed 004)."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        incident = service.set_affected_version(
            session, pol, incident_id, version, actor=actor(as_), now=now()
        )
        shown = incident.affected_version or "unknown"
    say(f"{incident_id}: affected version {shown}")
