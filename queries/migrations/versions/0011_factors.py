"""Factors of governance performance: township figures per year, imported datasets (issue 12).

Revision ID: 0011
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
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
    op.create_table(
        "factor_dataset",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("label_column", sa.String(64)),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.String(96), nullable=False),
    )
    op.create_table(
        "factor_value",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("factor_dataset.id"), primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("variable", sa.String(64), primary_key=True),
        sa.Column("value", sa.Float),
        sa.Column("label", sa.String(128)),
    )


def downgrade() -> None:
    op.drop_table("factor_value")
    op.drop_table("factor_dataset")
    op.drop_table("factor_township_year")
