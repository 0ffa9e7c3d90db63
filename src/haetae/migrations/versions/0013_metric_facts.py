"""the metric facts: each incident's durations in seconds and group keys (metrics/facts.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haetae.metrics import facts

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_facts",
        sa.Column(
            "incident_id",
            sa.String(32),
            sa.ForeignKey(
                "incidents.id",
                ondelete="CASCADE",
                name="fk_metric_facts_incident_id_incidents",
            ),
        ),
        sa.Column("declared_s", sa.BigInteger(), nullable=False),
        sa.Column("detected_s", sa.BigInteger(), nullable=False),
        sa.Column("resolved_s", sa.BigInteger(), nullable=True),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("canceled", sa.Boolean(), nullable=False),
        sa.Column("mttd", sa.Integer(), nullable=True),
        sa.Column("mtta", sa.Integer(), nullable=True),
        sa.Column("mttm", sa.Integer(), nullable=True),
        sa.Column("mttr", sa.Integer(), nullable=True),
        sa.Column("mttr_from_detect", sa.Integer(), nullable=True),
        sa.Column("communicate", sa.Integer(), nullable=True),
        sa.Column("updates_n", sa.Integer(), nullable=False),
        sa.Column("updates_met", sa.Integer(), nullable=False),
        sa.Column("marked", sa.Boolean(), nullable=False),
        sa.Column("root_cause", sa.String(40), nullable=False),
        sa.Column("role_s", sa.BigInteger(), nullable=False),
        sa.Column("role_open_n", sa.Integer(), nullable=False),
        sa.Column("role_open_start_sum", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_metric_facts"),
    )
    op.create_index("ix_metric_facts_declared", "metric_facts", ["declared_s", "drill", "canceled"])
    op.create_index("ix_metric_facts_root_cause", "metric_facts", ["root_cause", "declared_s"])
    op.create_index("ix_metric_facts_revision", "metric_facts", ["revision"])
    # Backfill: the facts of the incidents already stored, computed by the same code that keeps
    # them current afterwards (it reads only columns that exist at this revision).
    facts.refresh_all(op.get_bind())


def downgrade() -> None:
    op.drop_table("metric_facts")
