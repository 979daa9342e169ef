"""canned_replies editable by supervisors: who changed them and when, soft delete, and the
{first_name} placeholder (was {customer})

Revision ID: 0009_tools_canned_replies
Revises: 0008
Create Date: 2026-12-03 12:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_tools_canned_replies"
down_revision = "0008"
branch_labels = None
depends_on = None


def _rename_placeholder(old: str, new: str) -> None:
    canned = sa.table("canned_replies", sa.column("text", sa.Text))
    op.execute(
        canned.update()
        .where(canned.c.text.contains(old, autoescape=True))
        .values(text=sa.func.replace(canned.c.text, old, new))
    )


def upgrade() -> None:
    with op.batch_alter_table("canned_replies") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("updated_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
    _rename_placeholder("{customer}", "{first_name}")


def downgrade() -> None:
    _rename_placeholder("{first_name}", "{customer}")
    with op.batch_alter_table("canned_replies") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("updated_by")
        batch.drop_column("updated_at")
        batch.drop_column("created_at")
