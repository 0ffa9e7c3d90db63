"""placeholder for later changes of issue 13's contacts_changes part (kept empty if none)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
