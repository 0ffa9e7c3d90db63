"""How the CLI shows incidents: the API's shapes for --json, Rich tables for people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from haetae.cli.common import local_time, locale
from haetae.incidents import activity
from haetae.incidents.models import Incident
from haetae.incidents.schemas import (
    DecisionOut,
    IncidentDetail,
    IncidentOut,
    NoteOut,
    StatusUpdateOut,
    TimelineEventOut,
)
from haetae.incidents.views import present_detail
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline

_STATUS_STYLE = {
    "triage": "bold red",
    "investigating": "red",
    "identified": "yellow",
    "monitoring": "cyan",
    "resolved": "green",
    "closed": "dim",
    "canceled": "dim",
}


def detail(session: Session, pol: Policy, incident: Incident, now: datetime) -> IncidentDetail:
    """The API's IncidentDetail (as GET /api/v1/incidents/{id} returns it)."""
    return present_detail(session, pol, incident, now, locale=locale())


def full_record(session: Session, pol: Policy, incident: Incident, now: datetime) -> dict[str, Any]:
    """IncidentDetail plus the lists the API serves under the incident's sub-resources."""
    data = detail(session, pol, incident, now).model_dump(mode="json")
    data["updates"] = [
        StatusUpdateOut.model_validate(u).model_dump(mode="json")
        for u in activity.list_updates(session, incident.id)
    ]
    data["notes"] = [
        NoteOut.model_validate(n).model_dump(mode="json")
        for n in activity.list_notes(session, incident.id)
    ]
    data["decisions"] = [
        DecisionOut.model_validate(d).model_dump(mode="json")
        for d in activity.list_decisions(session, incident.id)
    ]
    data["timeline"] = [
        TimelineEventOut.model_validate(e).model_dump(mode="json")
        for e in timeline.events(session, incident.id)
    ]
    return data


def status_text(status: str) -> Text:
    return Text(status, style=_STATUS_STYLE.get(status, ""))


def severity_label(pol: Policy, severity: str) -> str:
    sev = pol.severity(severity)
    return f"{severity} {localized(sev.name, locale())}" if sev else severity


def incident_table(pol: Policy, items: list[IncidentOut]) -> Table:
    """One line per incident; times are short (the caller names the zone) to fit 80 columns."""
    # No box: its separators would push the time columns past 80 columns.
    table = Table(box=None, pad_edge=False, header_style="bold underline")
    table.add_column("ID", no_wrap=True)
    table.add_column("SEV", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("TITLE", min_width=10)
    table.add_column("DECLARED", no_wrap=True)
    table.add_column("NEXT UPDATE", no_wrap=True)
    for item in items:
        title = Text(item.title)
        if item.services:
            title.append(f" [{', '.join(item.services)}]", style="dim")
        next_update = local_time(item.next_update_due, pol, short=True)
        table.add_row(
            item.id,
            item.severity,
            status_text(item.status),
            title,
            local_time(item.declared_at, pol, short=True),
            Text(f"{next_update} !", style="bold red") if item.update_overdue else next_update,
        )
    return table


def incident_view(pol: Policy, record: dict[str, Any]) -> RenderableType:
    """`haetae incidents show`: header, roles, conditions, updates and the timeline."""
    item = IncidentDetail.model_validate(record)
    parts: list[RenderableType] = [_header(pol, item)]
    if item.summary:
        parts += [Text(item.summary), Text("")]
    parts += [_roles(pol, item), _conditions(pol, item)]
    if record["updates"]:
        parts.append(_updates(pol, record["updates"]))
    parts.append(_timeline(pol, record["timeline"]))
    return Group(*parts)


def _header(pol: Policy, item: IncidentDetail) -> RenderableType:
    source: str = item.severity_source
    if source == "matrix":
        source = f"matrix: {item.business_impact} x {item.user_impact}"
    elif item.severity_reason:
        source = f"explicit: {item.severity_reason}"
    title = Text.assemble((item.id, "bold"), "  ", (item.title, "bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("severity", f"{severity_label(pol, item.severity)} ({source})"),
        ("status", status_text(item.status)),
        ("priority", f"{item.priority_score:g} (complexity {item.complexity})"),
        ("declared", f"{local_time(item.declared_at, pol)} by {item.declared_by}"),
        ("started", local_time(item.started_at, pol)),
        ("detected", local_time(item.detected_at, pol)),
    ]
    for label, text in (
        ("services", ", ".join(item.services)),
        ("category", item.category),
        ("environment", item.environment),
        ("tags", ", ".join(item.tags)),
        ("impact", _impact(item.impact)),
    ):
        if text:
            rows.append((label, text))
    for label, when in (
        ("acknowledged", item.acknowledged_at),
        ("mitigated", item.mitigated_at),
        ("resolved", item.resolved_at),
        ("closed", item.closed_at),
        ("canceled", item.canceled_at),
        ("response due", item.response_due_at),
        ("recovery due", item.recovery_due_at),
    ):
        if when:
            rows.append((label, local_time(when, pol)))
    if item.next_update_due:
        due = local_time(item.next_update_due, pol)
        rows.append(
            (
                "next update",
                Text(f"{due} (overdue)", style="bold red") if item.update_overdue else due,
            )
        )
    for label, value in rows:
        _row(grid, label, value)
    return Group(title, grid, Text(""))


def _impact(impact: dict[str, Any]) -> str:
    parts = []
    if impact.get("users") is not None:
        parts.append(f"{impact['users']} users")
    if impact.get("users_description"):
        parts.append(impact["users_description"])
    if impact.get("regions"):
        parts.append("regions: " + ", ".join(impact["regions"]))
    if impact.get("features"):
        parts.append("features: " + ", ".join(impact["features"]))
    return "; ".join(parts)


def _roles(pol: Policy, item: IncidentDetail) -> Table:
    sev = pol.severity(item.severity)
    required = set(sev.required_roles) if sev else set()
    table = Table(title="Roles", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("ROLE")
    table.add_column("ASSIGNEE")
    for role in pol.roles:
        holder = item.roles.get(role.id)
        name = localized(role.name, locale()) + (" *" if role.id in required else "")
        _row(
            table,
            name,
            holder
            or Text(
                "-" if role.id not in required else "unassigned",
                style="dim" if role.id not in required else "red",
            ),
        )
    return table


def _conditions(pol: Policy, item: IncidentDetail) -> RenderableType:
    if not item.resolution_conditions:
        return Text("Resolution conditions: none for this severity\n", style="dim")
    table = Table(
        title="Resolution conditions", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("", no_wrap=True)
    table.add_column("ID", no_wrap=True)
    table.add_column("CONDITION")
    table.add_column("CONFIRMED")
    for cond in item.resolution_conditions:
        mark = Text("✓", style="green") if cond.met else Text("✗", style="red")
        confirmed = (
            f"{cond.checked_by}, {local_time(cond.checked_at, pol)}" if cond.checked_by else ""
        )
        _row(table, mark, cond.id, cond.text, confirmed)
    return table


def _updates(pol: Policy, updates: list[dict[str, Any]]) -> Table:
    table = Table(title="Status updates", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("AT", no_wrap=True)
    table.add_column("BY")
    table.add_column("SITUATION / IMPACT / PROGRESS")
    table.add_column("ETA")
    table.add_column("NEXT", no_wrap=True)
    for raw in updates:
        update = StatusUpdateOut.model_validate(raw)
        body = "\n".join(
            f"{label}: {text}" if label else text
            for label, text in (
                ("", update.situation),
                ("impact", update.impact),
                ("progress", update.progress),
            )
            if text
        )
        _row(
            table,
            local_time(update.created_at, pol),
            update.author,
            body,
            update.eta or "",
            local_time(update.next_update_at, pol, short=True) if update.next_update_at else "",
        )
    return table


def _timeline(pol: Policy, events: list[dict[str, Any]]) -> Table:
    table = Table(title="Timeline", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("AT", no_wrap=True)
    table.add_column("WHO")
    table.add_column("WHAT", no_wrap=True)
    table.add_column("SUMMARY")
    for raw in events:
        event = TimelineEventOut.model_validate(raw)
        _row(table, local_time(event.at, pol), event.actor, event.kind, event.summary)
    return table


def _row(table: Table, *values: RenderableType | None) -> None:
    # Plain Text, because a title like "[db] failover" must not be read as Rich markup.
    table.add_row(*(Text(v) if isinstance(v, str) else v for v in values))
