"""alerts, integrations, alert groups and routing rules

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:08:19.445522
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haetae.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_integrations_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_integrations_token_hash")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_routing_rules_name")),
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("on_resolve", sa.String(length=16), nullable=False),
        sa.Column("flap_window_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_alert_groups_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_alert_groups_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("group_key", name=op.f("uq_alert_groups_group_key")),
    )
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_groups_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("open_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("sender_severity", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=32), nullable=True),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.String(length=2048), nullable=True),
        sa.Column("starts_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("receipts", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["alert_groups.id"], name=op.f("fk_alerts_group_id_alert_groups")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_alerts_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_alerts_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("integration_id", "open_key", name=op.f("uq_alerts_integration_id")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            "ix_alerts_integration_received", ["integration_id", "received_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_integration_received")
        batch_op.drop_index(batch_op.f("ix_alerts_incident_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_groups_incident_id"))

    op.drop_table("alert_groups")
    op.drop_table("routing_rules")
    op.drop_table("integrations")
