"""notification_requests (the API's idempotency record per token) and the order an
outbound text is about (outbound_texts.order_number, the context of replies)

Revision ID: 0014_notify_api_requests
Revises: 0011_csat_surveys
Create Date: 2026-12-03 13:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_notify_api_requests"
down_revision = "0011_csat_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "token_fingerprint", "idempotency_key", name="uq_notification_requests_token_key"
        ),
    )
    with op.batch_alter_table("outbound_texts") as batch:
        batch.add_column(sa.Column("order_number", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_texts") as batch:
        batch.drop_column("order_number")
    op.drop_table("notification_requests")
