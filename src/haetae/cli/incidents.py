"""Incident commands: declare, list and show, post updates, move the status, record work."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_USAGE,
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
    zone_name,
)
from haetae.cli.incident_views import (
    detail,
    full_record,
    incident_table,
    incident_view,
    severity_label,
)
from haetae.incidents import activity, export, resolution, roles, service, transitions
from haetae.incidents.schemas import (
    ConditionCheckIn,
    DecisionIn,
    DecisionOut,
    IncidentDeclare,
    IncidentPage,
    NoteIn,
    NoteOut,
    RoleOut,
    StatusUpdateIn,
    StatusUpdateOut,
    TransitionIn,
)
from haetae.incidents.views import present
from haetae.timeline import service as timeline

incidents_app = typer.Typer(help="List and show incidents.", no_args_is_help=True)
IncidentId = Annotated[str, typer.Argument(metavar="ID", help="e.g. INC-20261121-001")]


def register(app: typer.Typer) -> None:
    for command in (declare, update, transition, note, ack, role, decide, condition):
        app.command(command.__name__)(command)
    app.add_typer(incidents_app, name="incidents")


def declare(
    title: Annotated[str, typer.Option("--title", help="What is wrong, in one line.")],
    summary: Annotated[str, typer.Option("--summary")] = "",
    services: Annotated[
        list[str] | None, typer.Option("--service", help="Affected service (repeat).")
    ] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeat).")] = None,
    environment: Annotated[str | None, typer.Option("--env", help="e.g. production")] = None,
    business_impact: Annotated[
        str | None, typer.Option("--business-impact", help="Matrix row, e.g. revenue.")
    ] = None,
    user_impact: Annotated[
        str | None, typer.Option("--user-impact", help="Matrix column, e.g. all.")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="Explicit severity; needs --reason.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the explicit severity.")
    ] = None,
    complexity: Annotated[
        int | None, typer.Option("--complexity", help="Technical complexity 1-5.")
    ] = None,
    users: Annotated[int | None, typer.Option("--users", help="Users affected.")] = None,
    regions: Annotated[list[str] | None, typer.Option("--region", help="Repeat.")] = None,
    features: Annotated[list[str] | None, typer.Option("--feature", help="Repeat.")] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Declare an incident; the severity comes from the impact matrix or --severity."""
    data = build(
        IncidentDeclare,
        title=title,
        summary=summary,
        services=services or [],
        category=category,
        tags=tags or [],
        environment=environment,
        impact={"users": users, "regions": regions or [], "features": features or []},
        business_impact=business_impact,
        user_impact=user_impact,
        severity=severity,
        severity_reason=reason,
        complexity=complexity,
    )
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        at = now()
        incident = service.declare_incident(session, pol, data, actor=actor(as_), now=at)
        result = detail(session, pol, incident, at)
    if json_:
        print_json(result)
        return
    # The ID alone on stdout, so `ID=$(haetae declare ...)` works; the rest is for people.
    print(result.id)
    say(
        f"declared {severity_label(pol, result.severity)} ({result.severity_source}); "
        f"respond by {local_time(result.response_due_at, pol)}",
        err=True,
    )


@incidents_app.command("list")
def list_incidents(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Repeat or comma-separate.")
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", help="Repeat or comma-separate.")
    ] = None,
    service_name: Annotated[str | None, typer.Option("--service")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Declared at or after: ISO 8601, or a duration ago (24h)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=service.MAX_PAGE)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    json_: JsonFlag = False,
) -> None:
    """List incidents, newest first."""
    config = config_or_exit()
    pol = policy(config)
    at = now()
    with transaction(config, write=False) as session:
        items, total = service.list_incidents(
            session,
            status=_split(status),
            severity=_split(severity),
            service=service_name,
            since=parse_time(since, pol, at=at, ago=True) if since else None,
            limit=limit,
            offset=offset,
        )
        page = IncidentPage(
            items=[present(pol, i, at) for i in items], total=total, limit=limit, offset=offset
        )
    if json_:
        print_json(page)
        return
    if not page.items:
        say("no incidents match", style="dim")
        return
    console.print(incident_table(pol, page.items))
    overdue = "; ! update overdue" if any(i.update_overdue for i in page.items) else ""
    shown = f"{offset + 1}-{offset + len(page.items)}"
    say(f"{shown} of {total}; times in {zone_name(pol, at)}{overdue}", style="dim")


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@incidents_app.command("show")
def show(incident_id: IncidentId, json_: JsonFlag = False) -> None:
    """One incident: header, roles, conditions, updates and the timeline."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        incident = service.get_incident(session, incident_id)
        record = full_record(session, pol, incident, now())
    if json_:
        print_json(record)
    else:
        console.print(incident_view(pol, record))


@incidents_app.command("timeline")
def export_timeline(
    incident_id: IncidentId,
    fmt: Annotated[
        str, typer.Option("--format", help="markdown (seed 000's scribe table) or csv")
    ] = "markdown",
) -> None:
    """Print the timeline as Markdown or CSV, labels in HAETAE_LOCALE (en or ko)."""
    if fmt not in ("markdown", "csv"):
        fail("--format must be markdown or csv", EXIT_USAGE)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        incident = service.get_incident(session, incident_id)
        text = export.export(
            incident,
            timeline.events(session, incident_id),
            pol,
            fmt="csv" if fmt == "csv" else "markdown",
            locale=locale(),
            now=now(),
        )
    sys.stdout.write(text)


def update(
    incident_id: IncidentId,
    situation: Annotated[str, typer.Option("--situation", help="What is happening now.")],
    impact: Annotated[str, typer.Option("--impact", help="Who and what is affected.")] = "",
    progress: Annotated[str, typer.Option("--progress", help="What is being done.")] = "",
    eta: Annotated[str | None, typer.Option("--eta", help="Expected recovery, free text.")] = None,
    next_update: Annotated[
        str | None,
        typer.Option(
            "--next-update",
            metavar="ISO|15m",
            help="When the next update is promised; the policy's cadence caps it.",
        ),
    ] = None,
    next_steps: Annotated[
        str, typer.Option("--next-steps", help="What happens next (seed 002's Next Steps).")
    ] = "",
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="NAME=VALUE",
            help="A report field the severity may require (customer_impact, workaround, "
            "mitigation_eta, final_eta, permanent_fix); repeatable.",
        ),
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Post a status update (situation, impact, progress, ETA, next steps, next update)."""
    config = config_or_exit()
    pol = policy(config)
    at = now()
    data = build(
        StatusUpdateIn,
        situation=situation,
        impact=impact,
        progress=progress,
        eta=eta,
        next_update_at=parse_time(next_update, pol, at=at) if next_update else None,
        next_steps=next_steps,
        fields=_pairs(field or []),
    )
    with transaction(config) as session:
        posted = StatusUpdateOut.model_validate(
            activity.post_update(session, pol, incident_id, data, author=actor(as_), now=at)
        )
    if json_:
        print_json(posted)
        return
    due = local_time(posted.next_update_at, pol) if posted.next_update_at else "not required"
    say(f"posted update {posted.id} to {incident_id}; next update {due}")


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            fail(f"--field {value!r}: give NAME=VALUE", EXIT_USAGE)
        pairs[name.strip()] = text
    return pairs


def transition(
    incident_id: IncidentId,
    status: Annotated[str, typer.Argument(metavar="STATUS", help="e.g. investigating, resolved")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    override: Annotated[
        bool,
        typer.Option("--override", help="IC only: resolve although conditions are unmet."),
    ] = False,
    summary: Annotated[
        str | None,
        typer.Option("--summary", help="How it was resolved (required to resolve)."),
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Move an incident to another status (the lifecycle and the policy's conditions apply)."""
    data = build(
        TransitionIn, to=status, reason=reason, override_conditions=override, summary=summary
    )
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        at = now()
        previous = service.get_incident(session, incident_id).status
        incident = transitions.transition(
            session,
            pol,
            incident_id,
            to=data.to,
            reason=data.reason,
            actor=actor(as_),
            now=at,
            override_conditions=data.override_conditions,
            summary=data.summary,
        )
        result = detail(session, pol, incident, at)
    if json_:
        print_json(result)
    else:
        say(f"{incident_id}: {previous} -> {result.status}")


def note(
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note.")] = "",
    url: Annotated[str | None, typer.Option("--url", help="A link (logs, graph, ticket).")] = None,
    evidence: Annotated[
        bool, typer.Option("--evidence", help="Record the link as evidence.")
    ] = False,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Add a note, or evidence with --url --evidence, to the timeline."""
    data = build(NoteIn, kind="evidence" if evidence else "note", body=text, url=url)
    config = config_or_exit()
    with transaction(config) as session:
        added = NoteOut.model_validate(
            activity.add_note(session, incident_id, data, author=actor(as_), now=now())
        )
    if json_:
        print_json(added)
    else:
        say(f"{added.kind} {added.id} added to {incident_id}")


def ack(incident_id: IncidentId, as_: ActorOption = None, json_: JsonFlag = False) -> None:
    """Acknowledge an incident (someone is on it)."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        at = now()
        incident = transitions.acknowledge(session, incident_id, by=actor(as_), now=at)
        result = detail(session, pol, incident, at)
    if json_:
        print_json(result)
    else:
        say(f"{incident_id} acknowledged at {local_time(result.acknowledged_at, pol)}")


def role(
    incident_id: IncidentId,
    role_id: Annotated[
        str,
        typer.Argument(
            metavar="ROLE", help="A policy role's id or name, e.g. ic or 'Incident Commander'."
        ),
    ],
    assignee: Annotated[str, typer.Argument(metavar="ASSIGNEE")],
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Assign a role, or hand it over from whoever holds it."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        assignment = RoleOut.model_validate(
            roles.assign_role(
                session,
                pol,
                incident_id,
                role=role_id,
                assignee=assignee,
                actor=actor(as_),
                now=now(),
            )
        )
    if json_:
        print_json(assignment)
    else:
        say(f"{incident_id}: {assignment.role} is {assignment.assignee}")


def decide(
    incident_id: IncidentId,
    kind: Annotated[str, typer.Option("--kind", help="technical or operational")],
    decision: Annotated[str, typer.Option("--decision", help="What was decided.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    alternatives: Annotated[
        list[str] | None, typer.Option("--alternative", help="An option not taken (repeat).")
    ] = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Record a decision with the alternatives considered and the reason."""
    data = build(
        DecisionIn, kind=kind, decision=decision, alternatives=alternatives or [], reason=reason
    )
    config = config_or_exit()
    with transaction(config) as session:
        recorded = DecisionOut.model_validate(
            activity.record_decision(session, incident_id, data, by=actor(as_), now=now())
        )
    if json_:
        print_json(recorded)
    else:
        say(f"decision {recorded.id} recorded on {incident_id}")


def condition(
    incident_id: IncidentId,
    condition_id: Annotated[str, typer.Argument(metavar="CONDITION_ID")],
    note_text: Annotated[str, typer.Option("--note", help="How it was confirmed.")] = "",
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Confirm one of the policy's manual resolution conditions."""
    data = build(ConditionCheckIn, note=note_text)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        resolution.check_condition(
            session, pol, incident_id, condition_id, by=actor(as_), note=data.note, now=now()
        )
        incident = service.get_incident(session, incident_id)
        state = resolution.conditions(session, pol, incident)
    if json_:
        print_json(state)
        return
    unmet = [c.id for c in state if not c.met]
    say(
        f"{incident_id}: {condition_id} confirmed; "
        + (f"still unmet: {', '.join(unmet)}" if unmet else "all resolution conditions met")
    )
