"""Imported price observations: user data laid over the generated series (issue 9).

Revision ID: 0015
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch", sa.String(40), nullable=False),
        sa.Column("row_no", sa.Integer, nullable=False),
        sa.Column("product_code", sa.String(32), nullable=False),
        sa.Column("market_code", sa.String(32), nullable=False),
        sa.Column("coop_name", sa.String(96), nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("price_raw", sa.Float, nullable=False),
        sa.Column("unit_raw", sa.String(16), nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("sold_kg", sa.Float),
        sa.Column("produced_kg", sa.Float),
        sa.Column("imported_by", sa.String(96), nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("product_code", "market_code", "coop_name", "day"),
    )


def downgrade() -> None:
    op.drop_table("price_import")
