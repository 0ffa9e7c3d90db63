"""status page subscribers: the fan-outs to do (one row per published update or maintenance
notice, expanded into outbox rows in bundles)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haetae.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statuspage_fanouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("public_update_id", sa.Integer(), nullable=True),
        sa.Column("maintenance_id", sa.Integer(), nullable=True),
        sa.Column("component_ids", sa.JSON(), nullable=False),
        sa.Column("after_id", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("next_mail_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_webhook_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", haetae.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["public_update_id"],
            ["statuspage_updates.id"],
            name=op.f("fk_statuspage_fanouts_public_update_id_statuspage_updates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["maintenance_id"],
            ["statuspage_maintenances.id"],
            name=op.f("fk_statuspage_fanouts_maintenance_id_statuspage_maintenances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statuspage_fanouts")),
    )
    with op.batch_alter_table("statuspage_fanouts", schema=None) as batch_op:
        batch_op.create_index("ix_statuspage_fanouts_open", ["finished_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("statuspage_fanouts", schema=None) as batch_op:
        batch_op.drop_index("ix_statuspage_fanouts_open")
    op.drop_table("statuspage_fanouts")
