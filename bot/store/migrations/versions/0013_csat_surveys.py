"""surveys (CSAT after a resolved chat, NPS campaigns) and nps_campaigns

Revision ID: 0011_csat_surveys
Revises: 0009_transfer_event_people
Create Date: 2026-12-03 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_csat_surveys"
down_revision = "0009_reload_review_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nps_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column(
            "created_by",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_nps_campaigns_created_by_agents"),
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(40)),
        sa.Column("csat_min", sa.Integer()),
        sa.Column("csat_max", sa.Integer()),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nps_campaigns"),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Integer()),
        sa.Column("conversation_id", sa.Integer()),
        sa.Column("handoff_id", sa.Integer()),
        sa.Column("agent_id", sa.Integer()),
        sa.Column("team", sa.String(40)),
        sa.Column("campaign_id", sa.Integer()),
        sa.Column("outbound_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime()),
        sa.Column("score", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("answer_message_id", sa.Integer()),
        sa.Column("why_asked_at", sa.DateTime()),
        sa.Column("reopened", sa.Boolean(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_surveys_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_surveys_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoff_requests.id"], name="fk_surveys_handoff_id_handoff_requests"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_surveys_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["nps_campaigns.id"], name="fk_surveys_campaign_id_nps_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["outbound_id"], ["outbound_texts.id"], name="fk_surveys_outbound_id_outbound_texts"
        ),
        sa.UniqueConstraint("outbound_id", name="uq_surveys_outbound_id"),
    )
    for column in ("customer_id", "conversation_id", "handoff_id", "agent_id", "campaign_id"):
        op.create_index(f"ix_surveys_{column}", "surveys", [column])
    op.create_index("ix_surveys_phone_open", "surveys", ["phone", "answered_at"])
    op.create_index("ix_surveys_answered", "surveys", ["kind", "answered_at"])


def downgrade() -> None:
    op.drop_table("surveys")
    op.drop_table("nps_campaigns")
