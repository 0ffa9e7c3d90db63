"""post-mortems, their reviews, action items, and an incident's recurrence_of

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from haetae.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.String(32),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("clock_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("key_events", sa.JSON(), nullable=False),
        sa.Column("whys", sa.JSON(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("contributing_factors", sa.JSON(), nullable=False),
        sa.Column("went_well", sa.JSON(), nullable=False),
        sa.Column("went_wrong", sa.JSON(), nullable=False),
        sa.Column("lucky", sa.JSON(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("meeting_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("meeting_held_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("deadlines", sa.JSON(), nullable=False),
        sa.Column("reminded", sa.JSON(), nullable=False),
        sa.UniqueConstraint("incident_id", name="uq_postmortems_incident"),
    )
    op.create_index("ix_postmortems_status", "postmortems", ["status", "updated_at"])
    op.create_table(
        "postmortem_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "postmortem_id",
            sa.Integer(),
            sa.ForeignKey("postmortems.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(24), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("postmortem_id", "reviewer", name="uq_postmortem_reviewer"),
    )
    op.create_index("ix_postmortem_reviews_postmortem_id", "postmortem_reviews", ["postmortem_id"])
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.Integer(), nullable=False, unique=True),
        sa.Column(
            "incident_id",
            sa.String(32),
            sa.ForeignKey("incidents.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "postmortem_id",
            sa.Integer(),
            sa.ForeignKey("postmortems.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("class_of_service", sa.String(16), nullable=False),
        sa.Column("term", sa.String(8), nullable=True),
        sa.Column("column", sa.String(16), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("tracker_url", sa.String(2000), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_before", sa.Date(), nullable=True),
        sa.Column("reminded_overdue", sa.Date(), nullable=True),
    )
    op.create_index("ix_action_items_board", "action_items", ["column", "position"])
    op.create_index("ix_action_items_incident", "action_items", ["incident_id"])
    op.create_index("ix_action_items_owner_due", "action_items", ["owner", "due_date"])
    op.create_index("ix_action_items_postmortem_id", "action_items", ["postmortem_id"])
    op.create_table(
        "action_item_counter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurrence_of", sa.String(32), nullable=True))
        batch_op.create_index("ix_incidents_recurrence_of", ["recurrence_of"])
        batch_op.create_foreign_key(
            "fk_incidents_recurrence_of",
            "incidents",
            ["recurrence_of"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint("fk_incidents_recurrence_of", type_="foreignkey")
        batch_op.drop_index("ix_incidents_recurrence_of")
        batch_op.drop_column("recurrence_of")
    op.drop_table("action_item_counter")
    op.drop_table("action_items")
    op.drop_table("postmortem_reviews")
    op.drop_table("postmortems")
