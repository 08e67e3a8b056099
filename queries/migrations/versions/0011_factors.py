"""Factors of governance performance: township figures per year (issue 12).

Revision ID: 0011
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "factor_township_year",
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), primary_key=True),
        sa.Column("year", sa.SmallInteger, primary_key=True),
        sa.Column("gov_index", sa.Float, nullable=False),
        sa.Column("on_time_closure", sa.Float, nullable=False),
        sa.Column("satisfaction", sa.Float, nullable=False),
        sa.Column("data_index", sa.Float, nullable=False),
        sa.Column("tertiary_share", sa.Float, nullable=False),
        sa.Column("platform_per_1k", sa.Float, nullable=False),
        sa.Column("broadband", sa.Float, nullable=False),
        sa.Column("fiscal_ratio", sa.Float, nullable=False),
        sa.Column("rnd_ratio", sa.Float, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("gdp_pc", sa.Float, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("days", sa.SmallInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("factor_township_year")
