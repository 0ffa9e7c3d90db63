"""drill improvement items on the board: action items get a series (AI, TI) numbered on its
own, and the drill a TI item came from

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite rebuilds the table to change its unique constraint.
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("series", sa.String(4), server_default="AI", nullable=False))
        batch.add_column(
            sa.Column(
                "drill_id",
                sa.Integer(),
                sa.ForeignKey(
                    "drills.id", name="fk_action_items_drill_id_drills", ondelete="SET NULL"
                ),
                nullable=True,
            )
        )
        batch.drop_constraint("uq_action_items_number", type_="unique")
        batch.create_unique_constraint("uq_action_items_series", ["series", "number"])
        batch.create_index("ix_action_items_drill_id", ["drill_id"])


def downgrade() -> None:
    op.execute("DELETE FROM action_items WHERE series <> 'AI'")
    with op.batch_alter_table("action_items") as batch:
        batch.drop_index("ix_action_items_drill_id")
        batch.drop_constraint("uq_action_items_series", type_="unique")
        batch.create_unique_constraint("uq_action_items_number", ["number"])
        batch.drop_constraint("fk_action_items_drill_id_drills", type_="foreignkey")
        batch.drop_column("drill_id")
        batch.drop_column("series")
