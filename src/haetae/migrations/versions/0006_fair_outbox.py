"""fair outbox: a throttle row per contact method, and an index on what a message carries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import haetae.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_throttles",
        sa.Column("contact_method_id", sa.Integer(), nullable=False),
        sa.Column("next_at", haetae.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_methods.id"],
            name=op.f("fk_notification_throttles_contact_method_id_contact_methods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_method_id", name=op.f("pk_notification_throttles")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_bundle", ["bundle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_bundle")
    op.drop_table("notification_throttles")
