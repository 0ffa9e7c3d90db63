"""placeholder for later changes of issue 14's statuspage part (kept empty if none)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
