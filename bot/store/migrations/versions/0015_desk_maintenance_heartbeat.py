"""desk_maintenance: the desk maintenance loop's heartbeat (when it last finished a round,
on which host and process), so the bot promises an assignment only while a loop runs

Revision ID: 0015_desk_maintenance_heartbeat
Revises: 0014_notify_api_requests
Create Date: 2026-12-03 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_desk_maintenance_heartbeat"
down_revision = "0014_notify_api_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_maintenance",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_maintenance")),
    )


def downgrade() -> None:
    op.drop_table("desk_maintenance")
