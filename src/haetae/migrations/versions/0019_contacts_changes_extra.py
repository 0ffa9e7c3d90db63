"""external contacts' language, and action links that answer for an external contact

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # contacts: the language a page to an external contact is written in (ko | en).
    with op.batch_alter_table("external_contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
    # contacts: an ack link sent to an external contact records its ack on the timeline
    # instead of acknowledging the incident.
    with op.batch_alter_table("action_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_action_links_external_contact_id_external_contacts"),
            "external_contacts",
            ["external_contact_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("action_links", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_action_links_external_contact_id_external_contacts"),
            type_="foreignkey",
        )
        batch_op.drop_column("external_contact_id")
    with op.batch_alter_table("external_contacts", schema=None) as batch_op:
        batch_op.drop_column("language")
