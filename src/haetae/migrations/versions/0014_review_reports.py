"""the kept review reports (seed 000's weekly and monthly reviews)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haetae.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("built_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("built_by", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "period_start", name="uq_review_reports_period"),
    )
    op.create_index("ix_review_reports_built", "review_reports", ["built_at"])


def downgrade() -> None:
    op.drop_index("ix_review_reports_built", table_name="review_reports")
    op.drop_table("review_reports")
