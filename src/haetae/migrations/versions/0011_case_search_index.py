"""the case library's full-text search index

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haetae.cases import index

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(40), nullable=False),
        sa.Column(
            "incident_id",
            sa.String(32),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("kind", "source_id", name="uq_search_documents_source"),
    )
    op.create_index("ix_search_documents_incident", "search_documents", ["incident_id"])
    # Triggers keep it current from here on; existing rows are indexed now.
    index.install(op.get_bind())


def downgrade() -> None:
    index.uninstall(op.get_bind())
    op.drop_index("ix_search_documents_incident", table_name="search_documents")
    op.drop_table("search_documents")
