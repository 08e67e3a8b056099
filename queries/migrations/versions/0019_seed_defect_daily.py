"""The generator's defect truth rolled up by scope columns and day (issue 13: the pool page's truth join
grew faster than the pool).

Revision ID: 0019
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seed_defect_daily",
        sa.Column("dept_id", sa.SmallInteger, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("classification", sa.SmallInteger, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("defect", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_index("ix_seed_defect_daily_day", "seed_defect_daily", ["day"])
    # a pool built before this revision: its truth, rolled up once from what it holds
    op.execute(
        "INSERT INTO seed_defect_daily (dept_id, township_code, classification, day, defect, n) "
        "SELECT r.dept_id, r.township_code, r.classification, (r.occurred_at + 28800) / 86400, d.defect, "
        "COUNT(*) FROM seed_defect d JOIN record r ON r.id = d.record_id "
        "GROUP BY r.dept_id, r.township_code, r.classification, (r.occurred_at + 28800) / 86400, d.defect"
    )


def downgrade() -> None:
    op.drop_index("ix_seed_defect_daily_day", table_name="seed_defect_daily")
    op.drop_table("seed_defect_daily")
