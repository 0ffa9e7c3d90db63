"""the incident and alert lists' filter indexes (issue 11's speed part)

Each list filter gets an index led by the filtered column and ordered by the list's sort
key, and incidents' services and tags get side tables (filled here from the JSON lists),
so a page is read from an index instead of sorting or scanning the table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 5_000
_INCIDENT_INDEXES = {
    "ix_incidents_declared": ["declared_at", "id"],
    "ix_incidents_status_declared": ["status", "declared_at", "id"],
    "ix_incidents_severity_declared": ["severity", "declared_at", "id"],
    "ix_incidents_status_severity_declared": ["status", "severity", "declared_at", "id"],
}
_ALERT_INDEXES = {
    "ix_alerts_received": ["received_at", "id"],
    "ix_alerts_status_received": ["status", "received_at", "id"],
    "ix_alerts_severity_received": ["severity", "received_at", "id"],
    "ix_alerts_dedup_received": ["dedup_key", "received_at", "id"],
    "ix_alerts_incident_received": ["incident_id", "received_at", "id"],
}


def _side_table(name: str, column: str) -> None:
    op.create_table(
        name,
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column(column, sa.String(length=200), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f(f"fk_{name}_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", column, name=op.f(f"pk_{name}")),
    )
    op.create_index(
        f"ix_{name}_{column}_declared", name, [column, "declared_at", "incident_id"], unique=False
    )


def _backfill() -> None:
    """Every incident's services and tags into the side tables, lowercased in Python as the
    write paths do (SQL's lower() differs between the databases outside ASCII)."""
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.String),
        sa.column("services", sa.JSON),
        sa.column("tags", sa.JSON),
        sa.column("declared_at", sa.DateTime(timezone=True)),
    )
    services = sa.table(
        "incident_services",
        sa.column("incident_id", sa.String),
        sa.column("service", sa.String),
        sa.column("declared_at", sa.DateTime(timezone=True)),
    )
    tags = sa.table(
        "incident_tags",
        sa.column("incident_id", sa.String),
        sa.column("tag", sa.String),
        sa.column("declared_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(incidents).where(incidents.c.id > last).order_by(incidents.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        found: dict[str, list[dict[str, Any]]] = {"service": [], "tag": []}
        for row in rows:
            for column, values in (("service", row.services), ("tag", row.tags)):
                for value in _keys(values):
                    found[column].append(
                        {"incident_id": row.id, column: value, "declared_at": row.declared_at}
                    )
        if found["service"]:
            bind.execute(services.insert(), found["service"])
        if found["tag"]:
            bind.execute(tags.insert(), found["tag"])
        last = rows[-1].id


def _keys(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    keys = (str(v).strip().lower() for v in values if isinstance(v, str))
    return [k[:200] for k in dict.fromkeys(k for k in keys if k)]


def upgrade() -> None:
    op.drop_index("ix_incidents_status_severity", table_name="incidents")
    op.drop_index("ix_incidents_declared_at", table_name="incidents")
    for name, columns in _INCIDENT_INDEXES.items():
        op.create_index(name, "incidents", columns, unique=False)
    op.drop_index("ix_alerts_integration_received", table_name="alerts")
    op.drop_index("ix_alerts_incident_id", table_name="alerts")
    op.create_index(
        "ix_alerts_integration_received",
        "alerts",
        ["integration_id", "received_at", "id"],
        unique=False,
    )
    for name, columns in _ALERT_INDEXES.items():
        op.create_index(name, "alerts", columns, unique=False)
    _side_table("incident_services", "service")
    _side_table("incident_tags", "tag")
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL's planner chooses among the new indexes by statistics: fresh ones now,
        # not at autovacuum's next pass. (SQLite keeps none unless asked, and stale ones
        # taken here would mislead it later.)
        op.execute("ANALYZE incidents, alerts, incident_services, incident_tags")


def downgrade() -> None:
    for name in ("incident_tags", "incident_services"):
        op.drop_table(name)
    for name in _ALERT_INDEXES:
        op.drop_index(name, table_name="alerts")
    op.drop_index("ix_alerts_integration_received", table_name="alerts")
    op.create_index(
        "ix_alerts_integration_received", "alerts", ["integration_id", "received_at"], unique=False
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"], unique=False)
    for name in _INCIDENT_INDEXES:
        op.drop_index(name, table_name="incidents")
    op.create_index("ix_incidents_declared_at", "incidents", ["declared_at"], unique=False)
    op.create_index(
        "ix_incidents_status_severity", "incidents", ["status", "severity"], unique=False
    )
