"""indexes for the diagnostics' jobs: the first analyses' status (read every second) and the
runs by reason and finish (the certificate watch reads its last day's runs)

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
    op.create_index(
        "ix_diagnostic_runs_reason_finished", "diagnostic_runs", ["reason", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_diagnostic_runs_reason_finished", table_name="diagnostic_runs")
    op.drop_index("ix_incident_analyses_status", table_name="incident_analyses")
