"""Reading alerts: the one list and the one read behind the API, the CLI and the console."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae.alerts.models import Alert, Integration
from haetae.alerts.schemas import AlertOut, AlertPage, alert_out
from haetae.errors import HaetaeError

# What the console's "open" filter means; the API's `open=true` asks the same through
# `open_key`, which is set exactly while an alert is in one of these.
OPEN_STATUSES = ("firing", "acknowledged")


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Every field left None matches all alerts."""

    incident_id: str | None = None
    integration_id: int | None = None
    integration_name: str | None = None
    statuses: Sequence[str] | None = None
    open: bool | None = None


def list_alerts(
    session: Session, where: AlertFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Alert, Integration]], int]:
    """A page of alerts, newest first, each with its integration, and how many match."""
    query = select(Alert, Integration).join(Integration, Integration.id == Alert.integration_id)
    if where.incident_id is not None:
        query = query.where(Alert.incident_id == where.incident_id)
    if where.integration_id is not None:
        query = query.where(Alert.integration_id == where.integration_id)
    if where.integration_name is not None:
        query = query.where(Integration.name == where.integration_name)
    if where.statuses is not None:
        query = query.where(Alert.status.in_(where.statuses))
    if where.open is not None:
        query = query.where(Alert.open_key.is_not(None) if where.open else Alert.open_key.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
    )
    return [(alert, integration) for alert, integration in rows], total


def alert_page(session: Session, where: AlertFilter, *, limit: int, offset: int) -> AlertPage:
    """The list as the API and the CLI show it."""
    rows, total = list_alerts(session, where, limit=limit, offset=offset)
    items = [alert_out(alert, integration.name) for alert, integration in rows]
    return AlertPage(items=items, total=total, limit=limit, offset=offset)


def get_alert(session: Session, alert_id: int) -> tuple[Alert, Integration]:
    row = session.execute(
        select(Alert, Integration)
        .join(Integration, Integration.id == Alert.integration_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        raise HaetaeError("NOT_FOUND", f"No alert {alert_id}.")
    return row[0], row[1]


def alert_detail(session: Session, alert_id: int) -> AlertOut:
    """One alert with its raw payload, as the API and the CLI show it."""
    alert, integration = get_alert(session, alert_id)
    return alert_out(alert, integration.name, detail=True)


def incident_alerts(session: Session, incident_id: str, *, limit: int) -> tuple[list[Alert], int]:
    """An incident's newest alerts and how many it has in all."""
    where = Alert.incident_id == incident_id
    total = session.scalar(select(func.count()).select_from(Alert).where(where)) or 0
    if not total:
        return [], 0
    alerts = session.scalars(
        select(Alert).where(where).order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit)
    )
    return list(alerts), total
