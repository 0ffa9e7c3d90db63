"""Reading alerts: the one list and the one read behind the API, the CLI and the console."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae import keyset
from haetae.alerts.models import ALERT_STATUSES, Alert, Integration
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
    severity: str | None = None
    fingerprint: str | None = None  # the sender's dedup key (Alertmanager's fingerprint)
    since: datetime | None = None  # received at or after


def alert_slice(
    session: Session,
    where: AlertFilter,
    *,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    count_cap: int | None = keyset.COUNT_CAP,
) -> keyset.Slice[tuple[Alert, Integration]]:
    """A page of alerts newest first (received_at, id), each with its integration, read
    from the index that fits the filters, and the count of matches up to count_cap."""
    after = keyset.decode_cursor(cursor, int) if cursor else None
    lanes = _lanes(session, where)
    if not lanes:
        return keyset.Slice([], 0, False, None)
    found = keyset.page(
        session,
        lanes,
        sort_key=lambda a: (a.received_at, a.id),
        limit=limit,
        offset=offset,
        after=after,
        count_cap=count_cap,
        rows_of=lambda row: row[0],
    )
    ids = {alert.integration_id for alert in found.rows}
    names = {i.id: i for i in session.scalars(select(Integration).where(Integration.id.in_(ids)))}
    rows = [(alert, names[alert.integration_id]) for alert in found.rows]
    return keyset.Slice(rows, found.total, found.total_capped, found.next_cursor)


def list_alerts(
    session: Session, where: AlertFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Alert, Integration]], int]:
    """A page of alerts, newest first, each with its integration, and how many match."""
    found = alert_slice(session, where, limit=limit, offset=offset, count_cap=None)
    return found.rows, found.total


def _lanes(session: Session, where: AlertFilter) -> list[keyset.Lane]:
    """The filters as index-ordered queries; none when nothing can match. The most
    selective filter leads (an incident, a fingerprint, then open statuses, an integration,
    a severity, then other statuses); the others are checked on the rows read."""
    statuses = set(ALERT_STATUSES) if where.statuses is None else set(where.statuses)
    if where.open is not None:
        statuses &= set(OPEN_STATUSES) if where.open else set(ALERT_STATUSES) - set(OPEN_STATUSES)
    if not statuses:
        return []
    integration_id = where.integration_id
    if where.integration_name is not None:
        named = session.scalar(
            select(Integration.id).where(Integration.name == where.integration_name)
        )
        if named is None or (integration_id is not None and named != integration_id):
            return []
        integration_id = named
    filters: list[tuple[Any, Any]] = [
        (Alert.incident_id, where.incident_id),
        (Alert.dedup_key, where.fingerprint),
        (Alert.integration_id, integration_id),
        (Alert.severity, where.severity),
    ]
    given = [(column, value) for column, value in filters if value is not None]
    base = select(Alert)
    if where.since is not None:
        base = base.where(Alert.received_at >= where.since)
    by_status = statuses != set(ALERT_STATUSES)
    # Open alerts are few: their status lanes beat an integration's or a severity's index.
    status_leads = by_status and (
        not given or (statuses <= set(OPEN_STATUSES) and given[0][0] in _BROAD)
    )
    if status_leads:
        base = base.where(*(keyset.unindexed(column) == value for column, value in given))
        # One lane per status: an IN list would make the database sort every match.
        return [_lane(base.where(Alert.status == st)) for st in sorted(statuses)]
    if by_status:
        base = base.where(keyset.unindexed(Alert.status).in_(sorted(statuses)))
    if given:
        (lead, value), rest = given[0], given[1:]
        base = base.where(lead == value, *(keyset.unindexed(c) == v for c, v in rest))
    return [_lane(base)]


_BROAD = (Alert.integration_id, Alert.severity)


def _lane(query: Any) -> keyset.Lane:
    return keyset.Lane(query, Alert.received_at, Alert.id)


def alert_page(
    session: Session,
    where: AlertFilter,
    *,
    limit: int,
    offset: int,
    cursor: str | None = None,
) -> AlertPage:
    """The list as the API and the CLI show it."""
    found = alert_slice(session, where, limit=limit, offset=offset, cursor=cursor)
    items = [alert_out(alert, integration.name) for alert, integration in found.rows]
    return AlertPage(
        items=items,
        total=found.total,
        total_capped=found.total_capped,
        next_cursor=found.next_cursor,
        limit=limit,
        offset=offset,
    )


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
