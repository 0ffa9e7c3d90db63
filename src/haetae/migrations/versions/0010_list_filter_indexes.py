"""the incident and alert lists' filter indexes (issue 11's speed part)

Revision ID: 0010
Revises: 009
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
