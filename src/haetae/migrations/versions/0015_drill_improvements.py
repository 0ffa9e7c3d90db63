"""drill improvement items on the board (filled by the drills work)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
