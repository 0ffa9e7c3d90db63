"""Integration and alert commands: who may send alerts, and what they sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich import box
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haetae.alerts import integrations as service
from haetae.alerts import queries
from haetae.alerts.models import ALERT_STATUSES, INTEGRATION_TYPES, Integration
from haetae.alerts.queries import AlertFilter
from haetae.alerts.schemas import (
    ALERTS_MAX_PAGE,
    AlertDetail,
    AlertOut,
    IntegrationIn,
    IntegrationOut,
)
from haetae.cli.common import (
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    console,
    fail,
    local_time,
    now,
    policy,
    print_json,
    say,
    transaction,
    zone_name,
)
from haetae.config import DEFAULT_BASE_URL, Settings
from haetae.errors import HaetaeError
from haetae.policy.schema import Policy

integrations_app = typer.Typer(
    help="Integrations: the senders of alerts, each with its own token.", no_args_is_help=True
)
alerts_app = typer.Typer(help="Alerts received from integrations.", no_args_is_help=True)

MAX_ROW_ID = 2**31 - 1

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The integration's name.")]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help=f"Haetae's address for senders (default: $PUBLIC_URL, else {DEFAULT_BASE_URL}).",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(integrations_app, name="integrations")
    app.add_typer(alerts_app, name="alerts")


class TokenIssued(BaseModel):
    """A new token (shown once) and where to send alerts with it."""

    token: str
    url: str


def _base_url(config: Settings, explicit: str | None) -> str:
    return explicit or config.base_url


def _row_id(text: str) -> int | None:
    """A row id typed on the command line; ids are 32-bit `integer` columns on PostgreSQL."""
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ROW_ID:
        return int(text)
    return None


def _integration(session: Session, name: str) -> Integration:
    """By name; a name made of digits that no integration has is read as an id."""
    found = session.scalars(select(Integration).where(Integration.name == name)).first()
    row_id = _row_id(name)
    if found is None and row_id is not None:
        found = session.get(Integration, row_id)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No integration {name}.")
    return found


@contextmanager
def _writing(config: Settings) -> Iterator[Session]:
    """A write transaction; a name taken by a concurrent command is a conflict (exit 5)."""
    try:
        with transaction(config) as session:
            yield session
    except IntegrityError:
        fail("CONFLICT: an integration with that name or token already exists", EXIT_CONFLICT)


def _print_token(integration: IntegrationOut, issued: TokenIssued, json_: bool) -> None:
    if json_:
        print_json(issued)
        return
    say(f"integration {integration.name} ({integration.type})")
    say(f"token: {issued.token}")
    say(f"url:   {issued.url}")
    how = (
        "use it as the event's routing_key"
        if integration.type == "pagerduty"
        else "send it as `Authorization: Bearer <token>`, or as ?token=<token>"
    )
    say(f"The token is shown once: Haetae keeps only its hash. Store it now, and {how}.")


@integrations_app.command("create")
def create(
    type_: Annotated[
        str,
        typer.Option("--type", help=f"One of {', '.join(INTEGRATION_TYPES)}.", show_default=False),
    ],
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. prod-am.")],
    base_url: BaseUrlOption = None,
    as_: ActorOption = None,
    json_: JsonFlag = False,
) -> None:
    """Create an integration and print its token (once) and its webhook URL."""
    data = build(IntegrationIn, name=name, type=type_)  # what the API accepts, exit 3 if not
    config = config_or_exit()
    base = _base_url(config, base_url)
    with _writing(config) as session:
        integration, token = service.create_integration(
            session, name=data.name, type=data.type, actor=actor(as_), now=now()
        )
        view = service.integration_view(integration, base)
    _print_token(view, TokenIssued(token=token, url=view.url), json_)


@integrations_app.command("list")
def list_(base_url: BaseUrlOption = None, json_: JsonFlag = False) -> None:
    """Every integration, by name: type, token prefix, dates, enabled, webhook URL."""
    config = config_or_exit()
    base = _base_url(config, base_url)
    with transaction(config, write=False) as session:
        views = [service.integration_view(i, base) for i in service.list_integrations(session)]
    if json_:
        print_json(views)
        return
    if not views:
        say("no integrations yet; `haetae integrations create --type ... --name ...`", style="dim")
        return
    pol = policy(config)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("NAME", "TYPE", "TOKEN", "CREATED", "ROTATED", "ENABLED", "WEBHOOK URL"):
        table.add_column(column, no_wrap=column != "NAME")
    for view in views:
        table.add_row(
            Text(view.name),
            view.type,
            Text(view.token_prefix + "…"),
            local_time(view.created_at, pol, short=True),
            local_time(view.rotated_at, pol, short=True),
            "yes" if view.enabled else Text("no", style="red"),
            Text(view.url),
        )
    console.print(table)
    say(f"times in {zone_name(pol, now())}", style="dim")


@integrations_app.command("rotate")
def rotate(name: NameArgument, base_url: BaseUrlOption = None, json_: JsonFlag = False) -> None:
    """Give an integration a new token; the old one stops working."""
    config = config_or_exit()
    base = _base_url(config, base_url)
    with _writing(config) as session:
        integration = _integration(session, name)
        token = service.rotate_token(session, integration, now=now())
        session.flush()
        view = service.integration_view(integration, base)
    _print_token(view, TokenIssued(token=token, url=view.url), json_)
    if not json_:
        say("The old token is refused now (by running servers within 5 seconds).")


def _set_enabled(name: str, enabled: bool, base_url: str | None, json_: bool) -> None:
    config = config_or_exit()
    base = _base_url(config, base_url)
    with _writing(config) as session:
        integration = _integration(session, name)
        service.set_enabled(integration, enabled, now=now())
        session.flush()
        view = service.integration_view(integration, base)
    if json_:
        print_json(view)
    elif enabled:
        say(f"enabled {view.name}: its token is accepted again")
    else:
        say(f"disabled {view.name}: its alerts are refused (by running servers within 5 seconds)")


@integrations_app.command("disable")
def disable(name: NameArgument, base_url: BaseUrlOption = None, json_: JsonFlag = False) -> None:
    """Refuse an integration's alerts (its token stays; `enable` undoes this)."""
    _set_enabled(name, False, base_url, json_)


@integrations_app.command("enable")
def enable(name: NameArgument, base_url: BaseUrlOption = None, json_: JsonFlag = False) -> None:
    """Accept a disabled integration's alerts again."""
    _set_enabled(name, True, base_url, json_)


# Alerts


_STATUS_STYLE = {"firing": "red", "acknowledged": "yellow", "resolved": "green"}


@alerts_app.command("list")
def list_alerts(
    integration: Annotated[
        str | None, typer.Option("--integration", metavar="NAME", help="Only this integration's.")
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", metavar="ID", help="Only this incident's.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help=" | ".join(ALERT_STATUSES))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=ALERTS_MAX_PAGE)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    json_: JsonFlag = False,
) -> None:
    """Alerts, newest first."""
    if status is not None and status not in ALERT_STATUSES:
        fail(f"VALIDATION_ERROR: status must be one of {', '.join(ALERT_STATUSES)}", EXIT_INVALID)
    config = config_or_exit()
    with transaction(config, write=False) as session:
        where = AlertFilter(
            incident_id=incident,
            integration_id=None if integration is None else _integration(session, integration).id,
            statuses=None if status is None else [status],
        )
        page = queries.alert_page(session, where, limit=limit, offset=offset)
    if json_:
        print_json(page)
        return
    if not page.items:
        say("no alerts match", style="dim")
        return
    pol = policy(config)
    table = Table(box=None, pad_edge=False, header_style="bold underline")
    for column in ("ID", "STATUS", "INTEGRATION", "SEVERITY", "SUMMARY", "INCIDENT", "RECEIVED"):
        table.add_column(column, no_wrap=column != "SUMMARY")
    for view in page.items:
        table.add_row(
            str(view.id),
            Text(view.status, style=_STATUS_STYLE.get(view.status, "")),
            Text(view.integration),
            Text(view.severity or view.sender_severity or "-"),
            Text(view.summary),
            view.incident_id or "-",
            local_time(view.received_at, pol, short=True),
        )
    console.print(table)
    shown = f"{offset + 1}-{offset + len(page.items)}"
    say(f"{shown} of {page.total}, newest first; times in {zone_name(pol, now())}", style="dim")


def _show_mapping(title: str, values: dict[str, Any]) -> None:
    say(f"{title}:", style="bold")
    if not values:
        say("  -", style="dim")
        return
    for key, value in sorted(values.items()):
        say(f"  {key}: {value}")


@alerts_app.command("show")
def show_alert(
    alert_id: Annotated[str, typer.Argument(metavar="ID", help="The alert's number.")],
    json_: JsonFlag = False,
) -> None:
    """One alert: its fields, labels, annotations and the payload as it was received."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        row_id = _row_id(alert_id)
        if row_id is None:
            fail(f"NOT_FOUND: No alert {alert_id}.", EXIT_NOT_FOUND)
        try:
            view = queries.alert_detail(session, row_id)
        except HaetaeError:
            fail(f"NOT_FOUND: No alert {alert_id}.", EXIT_NOT_FOUND)
        assert isinstance(view, AlertDetail)
    if json_:
        print_json(view)
        return
    pol = policy(config)
    _show_header(view, pol)
    _show_mapping("labels", view.labels)
    _show_mapping("annotations", view.annotations)
    say("raw payload:", style="bold")
    say(json.dumps(view.raw, ensure_ascii=False, indent=2, default=str))


def _receipts(view: AlertOut) -> str:
    return "1 receipt" if view.receipts == 1 else f"{view.receipts} receipts"


def _show_header(view: AlertOut, pol: Policy) -> None:
    say(f"alert {view.id}: {view.summary}", style="bold")
    fields: list[tuple[str, str | None]] = [
        ("status", view.status),
        ("integration", view.integration),
        ("dedup key", view.dedup_key),
        ("severity", view.severity),
        ("sender severity", view.sender_severity),
        ("service", view.service),
        ("source", view.source),
        ("incident", view.incident_id),
        ("rule", view.rule),
        ("url", view.generator_url),
        ("starts", local_time(view.starts_at, pol)),
        ("ends", local_time(view.ends_at, pol) if view.ends_at else None),
        ("received", local_time(view.received_at, pol)),
        ("last received", f"{local_time(view.last_received_at, pol)} ({_receipts(view)})"),
        ("acknowledged", local_time(view.acknowledged_at, pol) if view.acknowledged_at else None),
        ("resolved", local_time(view.resolved_at, pol) if view.resolved_at else None),
    ]
    for label, value in fields:
        if value:
            say(f"  {label + ':':<16} {value}")
    if view.details:
        say("details:", style="bold")
        say(view.details)
