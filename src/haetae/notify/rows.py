"""How an outbox row is written: its columns, and inserting rows whose key is new."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.notify.models import Notification


def insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping rows whose idempotency key exists: a replayed step pages nobody."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, Notification.__table__)
    statement = insert(table).on_conflict_do_nothing(index_elements=["idem_key"])
    return max(session.connection().execute(statement, rows).rowcount, 0)


def new_row(
    *,
    idem_key: str,
    kind: str,
    user_id: int | None,
    contact_method_id: int,
    due_at: datetime,
    now: datetime,
    incident_id: str | None = None,
    escalation_id: int | None = None,
    cancel_on: str = "never",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "idem_key": idem_key,
        "kind": kind,
        "incident_id": incident_id,
        "escalation_id": escalation_id,
        "user_id": user_id,
        "contact_method_id": contact_method_id,
        "cancel_on": cancel_on,
        "data": data or {},
        "subject": "",
        "body": "",
        "status": "pending",
        "attempts": 0,
        "unknown_retries": 0,
        "due_at": due_at,
        "created_at": now,
    }
