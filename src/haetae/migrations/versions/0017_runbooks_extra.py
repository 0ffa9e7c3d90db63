"""placeholder for later changes of issue 13's runbooks part (kept empty if none)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
