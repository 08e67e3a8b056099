"""Digital divide, written by people: imported indicator figures and the counters' edits (issue 10).

Revision ID: 0016
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "divide_indicator_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.String(96), nullable=False),
        sa.UniqueConstraint(
            "township_code",
            "year",
            "indicator",
            name="uq_divide_indicator_import_township_code_year_indicator",
        ),
    )
    op.create_table(
        "divide_counter_edit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("counter_key", sa.String(128), nullable=False),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), nullable=False),
        sa.Column("name_zh", sa.String(96), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
        sa.Column("days", sa.SmallInteger, nullable=False),
        sa.Column("closed_at", sa.BigInteger),
        sa.Column("added", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(96), nullable=False),
        sa.UniqueConstraint("counter_key", name="uq_divide_counter_edit_counter_key"),
    )


def downgrade() -> None:
    op.drop_table("divide_counter_edit")
    op.drop_table("divide_indicator_import")
