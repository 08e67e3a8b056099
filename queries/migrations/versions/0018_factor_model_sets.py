"""Factor analysis: named nested-model sets saved by users (issue 12).

Revision ID: 0018
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "factor_model_set",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(96), nullable=False, unique=True),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("y", sa.String(64), nullable=False),
        sa.Column("models", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("factor_model_set")
