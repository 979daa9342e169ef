"""booking_request_history: every change of a room request (who, statuses, note, fields)

Revision ID: 0009_requests_history
Revises: 0009_transfer_event_people
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_requests_history"
down_revision = "0009_transfer_event_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_request_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=10), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed", sa.Text(), nullable=True),
        sa.Column("outbound_text_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["booking_requests.id"],
            name="fk_booking_request_history_request_id_booking_requests",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_booking_request_history_agent_id_agents"
        ),
        sa.ForeignKeyConstraint(
            ["outbound_text_id"],
            ["outbound_texts.id"],
            name="fk_booking_request_history_outbound_text_id_outbound_texts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_booking_request_history"),
    )
    op.create_index(
        "ix_booking_request_history_request_id", "booking_request_history", ["request_id"]
    )


def downgrade() -> None:
    op.drop_table("booking_request_history")
