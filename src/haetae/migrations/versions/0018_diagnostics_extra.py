"""an index on the first analyses' status, which the worker reads every second

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_analyses_status", "incident_analyses", ["status"])


def downgrade() -> None:
    op.drop_index("ix_incident_analyses_status", table_name="incident_analyses")
