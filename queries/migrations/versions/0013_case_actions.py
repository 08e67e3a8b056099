"""Case actions: appeals against priority and routing decisions, optimization actions on hotspots (issue 8).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_appeal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("decision_type", sa.String(12), nullable=False),
        sa.Column("filed_at", sa.BigInteger, nullable=False),
        sa.Column("filed_by", sa.String(96), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decided_at", sa.BigInteger),
        sa.Column("decided_by", sa.String(96)),
        sa.Column("outcome_note", sa.Text),
        sa.Column("correction", sa.Text),
    )
    op.create_table(
        "optimization_action",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("problem_id", sa.SmallInteger, nullable=False),
        sa.Column("community_code", sa.BigInteger, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("window_days", sa.SmallInteger, nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Column("opened_by", sa.String(96), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("closed_at", sa.BigInteger),
        sa.Column("closed_by", sa.String(96)),
        sa.Column("close_note", sa.Text),
    )
    op.create_index("ix_optimization_action_hotspot", "optimization_action", ["problem_id", "community_code"])


def downgrade() -> None:
    op.drop_index("ix_optimization_action_hotspot", table_name="optimization_action")
    op.drop_table("optimization_action")
    op.drop_table("case_appeal")
