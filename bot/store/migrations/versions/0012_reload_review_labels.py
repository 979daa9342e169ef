"""review_labels: supervisors' labels for texts the bot failed (the console's Review page)

Revision ID: 0009_reload_review_labels
Revises: 0008
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_reload_review_labels"
down_revision = "0009_requests_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text_key", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["agents.id"], name="fk_review_labels_decided_by_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_labels"),
        sa.UniqueConstraint("text_key", name="uq_review_labels_text_key"),
    )
    op.create_index("ix_review_labels_decided_by", "review_labels", ["decided_by"])


def downgrade() -> None:
    op.drop_index("ix_review_labels_decided_by", table_name="review_labels")
    op.drop_table("review_labels")
