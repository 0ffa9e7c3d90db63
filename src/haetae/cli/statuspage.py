"""`haetae status-page ...`: components, public incidents and updates, maintenance."""

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
    parse_time,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.statuspage import components as component_service
from haetae.statuspage import queries, service
from haetae.statuspage.models import COMPONENT_STATES, IMPACTS, MAINTENANCE_STATES

status_page_group = typer.Typer(
    help="The public status page: components, public incidents and updates, maintenance.",
    no_args_is_help=True,
)
maintenance_group = typer.Typer(help="Scheduled maintenance windows.", no_args_is_help=True)
status_page_group.add_typer(maintenance_group, name="maintenance")


def register(app: typer.Typer) -> None:
    app.add_typer(status_page_group, name="status-page")


def _both(en: str | None, ko: str | None) -> dict[str, str]:
    return {k: v for k, v in (("en", en), ("ko", ko)) if v}


@status_page_group.command("components")
def list_components(as_json: JsonFlag = False) -> None:
    """Every component with its group, linked services and current state."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        listed = queries.components_out(session)
    if as_json:
        print_json(listed)
        return
    if not listed:
        say("No components (add them with `status_page:` in haetae apply, or the API).")
    for c in listed:
        hidden = "" if c.visible else " [hidden]"
        services = ", ".join(c.services) or "-"
        say(f"{c.slug:<20} {c.status:<22} {c.name.get('en', '')}  ({services}){hidden}")


@status_page_group.command("component-status")
def component_status(
    slug: Annotated[str, typer.Argument(metavar="SLUG")],
    state: Annotated[str, typer.Argument(metavar="STATE", help=", ".join(COMPONENT_STATES))],
    who: ActorOption = None,
) -> None:
    """Set a component's state by hand."""
    if state not in COMPONENT_STATES:
        fail(f"STATE is one of: {', '.join(COMPONENT_STATES)}", EXIT_INVALID)
    config = config_or_exit()
    with transaction(config) as session:
        component = component_service.get_component(session, slug)
        service.set_component_status(session, component, state, by=actor(who), now=now())
    say(f"{slug}: {state}")


@status_page_group.command("incidents")
def list_incidents(
    open_only: Annotated[bool, typer.Option("--open", help="Unresolved ones only.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Public incidents, open ones first, with their updates (drafts too)."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        listed = queries.public_incidents_out(session, open_only=open_only)
    if as_json:
        print_json(listed)
        return
    for p in listed:
        public = "published" if p.published_at else "not public yet"
        say(f"{p.code}  {p.status:<13} {p.impact:<8} {p.title.get('en', '')}  ({public})")
        for u in p.updates:
            when = local_time(u.published_at or u.created_at, pol)
            say(f"  #{u.id} {u.state:<9} {u.status:<13} {when}  {u.body.get('en', '')[:60]}")


@status_page_group.command("open")
def open_incident(
    incident_id: Annotated[str, typer.Argument(metavar="INC", help="e.g. INC-20260301-001")],
    impact: Annotated[
        str, typer.Option("--impact", help=f"{', '.join(IMPACTS)} (default: by severity)")
    ] = "",
    title_en: Annotated[str | None, typer.Option("--title-en")] = None,
    title_ko: Annotated[str | None, typer.Option("--title-ko")] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a public incident for an incident: its services' components, in the state its
    severity says. Not public until its first update is published."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        public = service.open_public_incident(
            session,
            pol,
            incident_id=incident_id,
            title=_both(title_en, title_ko),
            impact=impact,
            components={},
            by=actor(who),
            now=now(),
        )
        out = queries.public_incident_out(session, public.code)
    if as_json:
        print_json(out)
        return
    parts = ", ".join(f"{k} {v}" for k, v in out.components.items()) or "no components"
    say(f"{out.code}: opened for {incident_id} ({out.impact}; {parts}); not public yet")
    say(f"Draft its first update: haetae status-page update {out.code} --status investigating")


@status_page_group.command("update")
def draft(
    code: Annotated[str, typer.Argument(metavar="PUBLIC_ID")],
    status: Annotated[str, typer.Option("--status", help="investigating, identified, ...")],
    body_en: Annotated[str | None, typer.Option("--body-en")] = None,
    body_ko: Annotated[str | None, typer.Option("--body-ko")] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="A template kind (default: by the update)")
    ] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Draft a public update: the body given, or written from a template in both
    languages."""
    body = _both(body_en, body_ko) or None
    if body is not None and template:
        fail("give --body-en/--body-ko or --template, not both", EXIT_INVALID)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        public = queries.get_public_incident(session, code, for_update=True)
        update = service.draft_update(
            session,
            pol,
            public,
            status=status,
            body=body,
            template=template,
            by=actor(who),
            now=now(),
        )
        out = queries.update_out(update)
    if as_json:
        print_json(out)
        return
    say(f"Draft #{out.id} ({out.status}):")
    for lang in ("en", "ko"):
        say(f"[{lang}] {out.body.get(lang, '')}")
    say(f"Publish it: haetae status-page publish {out.id}")


@status_page_group.command("publish")
def publish(
    update_id: Annotated[int, typer.Argument(metavar="UPDATE_ID", min=1, max=2**31 - 1)],
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish a drafted update: the page shows it and subscribers are told."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config) as session:
        update = queries.get_update(session, update_id)
        service.publish_update(session, pol, update, by=actor(who), now=now())
        out = queries.update_out(update)
    if as_json:
        print_json(out)
        return
    say(f"#{out.id} published ({out.status})")


@maintenance_group.command("add")
def add_maintenance(
    title_en: Annotated[str, typer.Option("--title-en")],
    start: Annotated[str, typer.Option("--start", help="ISO 8601 (policy's zone) or 2h")],
    end: Annotated[str, typer.Option("--end", help="ISO 8601 (policy's zone) or 4h")],
    title_ko: Annotated[str | None, typer.Option("--title-ko")] = None,
    body_en: Annotated[str | None, typer.Option("--body-en")] = None,
    body_ko: Annotated[str | None, typer.Option("--body-ko")] = None,
    component: Annotated[
        list[str] | None, typer.Option("--component", help="A component's slug (repeat)")
    ] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Schedule a maintenance window; its components are under maintenance while it runs."""
    config = config_or_exit()
    pol = policy(config)
    at = now()
    with transaction(config) as session:
        row = service.schedule_maintenance(
            session,
            title=_both(title_en, title_ko),
            body=_both(body_en, body_ko),
            start=parse_time(start, pol, at=at),
            end=parse_time(end, pol, at=at),
            component_ids=component_service.component_ids(session, component or []),
            by=actor(who),
            now=at,
        )
        out = queries.maintenance_out(row, component_service.slugs_by_id(session))
    if as_json:
        print_json(out)
        return
    say(f"{out.code}: {local_time(out.start, pol)} - {local_time(out.end, pol)} scheduled")


@maintenance_group.command("list")
def list_maintenance(as_json: JsonFlag = False) -> None:
    """The windows, the next to start first."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        listed = queries.maintenances_out(session)
    if as_json:
        print_json(listed)
        return
    if not listed:
        say("No maintenance scheduled.")
    for m in listed:
        span = f"{local_time(m.start, pol)} - {local_time(m.end, pol)}"
        say(
            f"{m.code}  {m.status:<11} {span}  {m.title.get('en', '')}  ({', '.join(m.components)})"
        )


@maintenance_group.command("status")
def maintenance_status(
    code: Annotated[str, typer.Argument(metavar="CODE")],
    state: Annotated[str, typer.Argument(metavar="STATE", help=", ".join(MAINTENANCE_STATES))],
    who: ActorOption = None,
) -> None:
    """Move a window along by hand (the worker starts and completes it at its times)."""
    if state not in MAINTENANCE_STATES:
        fail(f"STATE is one of: {', '.join(MAINTENANCE_STATES)}", EXIT_INVALID)
    config = config_or_exit()
    with transaction(config) as session:
        row = queries.get_maintenance(session, code)
        service.set_maintenance_status(session, row, state, by=actor(who), now=now())
    say(f"{code}: {state}")
