"""outbound texts (the outbound service's record), customers.timezone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_table(
        "outbound_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("suppress_reason", sa.String(length=40), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_outbound_texts_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_outbound_texts_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_texts"),
        sa.UniqueConstraint("kind", "idempotency_key", name="uq_outbound_texts_kind_key"),
    )
    # The release loop's scan: scheduled texts by due time.
    op.create_index("ix_outbound_texts_due", "outbound_texts", ["status", "not_before"])
    op.create_index("ix_outbound_texts_phone", "outbound_texts", ["phone"])
    op.create_index("ix_outbound_texts_customer_id", "outbound_texts", ["customer_id"])
    op.create_index("ix_outbound_texts_batch", "outbound_texts", ["batch"])
    op.create_index("ix_outbound_texts_outbox_id", "outbound_texts", ["outbox_id"])


def downgrade() -> None:
    op.drop_table("outbound_texts")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("timezone")
