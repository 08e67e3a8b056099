"""Urban-rural digital divide: indicators per township and quarter, offline counters and their visits,
imported township boundaries.

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    floats = [
        "internet_rate",
        "household_broadband",
        "broadband_coverage",
        "mobile_coverage",
        "download_mbps",
        "smartphone_rate",
        "aged65_share",
        "minority_share",
        "low_education_share",
        "dibao_share",
    ]
    op.create_table(
        "divide_indicator",
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("first_day", sa.Integer, nullable=False),
        sa.Column("last_day", sa.Integer, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Float, nullable=False) for c in floats],
        sa.Column("training_sessions", sa.Integer, nullable=False),
        sa.Column("training_attendees", sa.Integer, nullable=False),
        sa.UniqueConstraint("township_code", "period", name="uq_divide_indicator_township_code_period"),
    )
    op.create_table(
        "divide_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), nullable=False, index=True),
        sa.Column("name_zh", sa.String(96), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "divide_counter_visit",
        sa.Column("counter_id", sa.Integer, sa.ForeignKey("divide_counter.id"), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("assisted_online", sa.Integer, nullable=False),
        sa.UniqueConstraint("counter_id", "period", name="uq_divide_counter_visit_counter_id_period"),
    )
    op.create_table(
        "township_boundary",
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), primary_key=True),
        sa.Column("geojson", sa.Text, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.String(96), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("township_boundary")
    op.drop_table("divide_counter_visit")
    op.drop_table("divide_counter")
    op.drop_table("divide_indicator")
