"""every incident that exists before the runbook intake counts as taken in

The intake job attaches matched runbooks to each incident without an incident_intake row; on
an upgrade that would be every incident of the years before. Each existing incident gets its
row (done_at: its declaration), so only incidents declared from now on are taken in.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.String),
        sa.column("declared_at", sa.DateTime(timezone=True)),
    )
    intake = sa.table(
        "incident_intake",
        sa.column("incident_id", sa.String),
        sa.column("done_at", sa.DateTime(timezone=True)),
    )
    # One statement on both databases; NOT EXISTS keeps a second upgrade (after a downgrade,
    # which leaves the rows) from inserting twice.
    missing = sa.select(incidents.c.id, incidents.c.declared_at).where(
        ~sa.exists().where(intake.c.incident_id == incidents.c.id)
    )
    op.execute(intake.insert().from_select(["incident_id", "done_at"], missing))


def downgrade() -> None:
    # The rows are kept: telling the backfilled ones from the intake's own is not possible,
    # and an incident taken in stays taken in.
    pass
