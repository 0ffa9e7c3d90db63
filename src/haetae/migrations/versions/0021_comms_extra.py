"""placeholder for later changes of issue 14's comms part (kept empty if none)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
