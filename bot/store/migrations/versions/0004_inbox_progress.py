"""inbox progress: how far the receiver's SQLite inbox file has been copied into messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_progress",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("inbox_progress")
