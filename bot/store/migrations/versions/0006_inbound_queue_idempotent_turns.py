"""inbound queue index, idempotent turns (booking source id, turn_writes), no inbox_progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

QUEUE_WHERE = sa.text("direction = 'in' AND status IN ('received', 'processing')")


def upgrade() -> None:
    # The claim (bot/sms/queue.py): a conversation's oldest unfinished text (by
    # conversation), and the oldest such texts overall (by id; without it PostgreSQL walks
    # the primary key through every finished text: 88 ms vs 0.1 ms at 190k finished).
    for name, columns in (
        ("ix_messages_inbound_queue", ["conversation_id", "id"]),
        ("ix_messages_inbound_waiting", ["id"]),
    ):
        op.create_index(
            name, "messages", columns, postgresql_where=QUEUE_WHERE, sqlite_where=QUEUE_WHERE
        )
    with op.batch_alter_table("booking_requests") as batch:
        batch.add_column(sa.Column("source_message_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            "uq_booking_requests_source_message_id", ["source_message_id"]
        )
    op.create_table(
        "turn_writes",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "action"),
    )
    op.drop_table("inbox_progress")


def downgrade() -> None:
    op.create_table(
        "inbox_progress",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.drop_table("turn_writes")
    with op.batch_alter_table("booking_requests") as batch:
        batch.drop_constraint("uq_booking_requests_source_message_id", type_="unique")
        batch.drop_column("source_message_id")
    op.drop_index("ix_messages_inbound_waiting", table_name="messages")
    op.drop_index("ix_messages_inbound_queue", table_name="messages")
