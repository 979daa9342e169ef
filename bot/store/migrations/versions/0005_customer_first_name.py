"""customers.first_name: the first word of the name, for personal replies

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 23:40:00
"""

import re
from typing import Optional

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# A frozen copy of bot.text.names.first_name_of as of this revision (migrations never change).
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"}


def _first_name(name: Optional[str]) -> Optional[str]:
    """First word of a full name, titles skipped; None if it has no usable word."""
    words = [w for w in re.split(r"\s+", (name or "").strip()) if w]
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    if not words or words[0].lower().rstrip(".") in _TITLES:
        return None
    if not any(c.isalpha() for c in words[0]):
        return None
    first = words[0].strip(",;")
    if first.isupper() or first.islower():
        first = first.capitalize()
    return first[:60]


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name", sa.String(length=60), nullable=True))
    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("first_name", sa.String),
    )
    bind = op.get_bind()
    named = bind.execute(
        sa.select(customers.c.id, customers.c.name).where(customers.c.name.isnot(None))
    ).all()
    updates = [
        {"row_id": row.id, "first": _first_name(row.name)} for row in named if _first_name(row.name)
    ]
    if updates:
        bind.execute(
            customers.update()
            .where(customers.c.id == sa.bindparam("row_id"))
            .values(first_name=sa.bindparam("first")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("first_name")
