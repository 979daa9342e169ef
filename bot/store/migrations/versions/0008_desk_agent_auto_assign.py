"""agents.auto_assign: whether the desk hands this person waiting chats (supervisors opt in)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("auto_assign", sa.Boolean(), nullable=False, server_default="1"))
    agents = sa.table("agents", sa.column("role", sa.String), sa.column("auto_assign", sa.Boolean))
    op.execute(agents.update().where(agents.c.role == "supervisor").values(auto_assign=False))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("auto_assign")
