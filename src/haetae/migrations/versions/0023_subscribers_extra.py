"""placeholder for later changes of issue 14's subscribers part (kept empty if none)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
