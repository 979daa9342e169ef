"""desk_events.actor_id and from_agent_id: who moved a chat, and from whom (activity lines)

Revision ID: 0009_transfer_event_people
Revises: 0008
Create Date: 2026-12-03 12:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_transfer_event_people"
down_revision = "0009_tools_canned_replies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_events") as batch:
        batch.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("from_agent_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_events") as batch:
        batch.drop_column("from_agent_id")
        batch.drop_column("actor_id")
