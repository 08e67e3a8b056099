"""The pool: geography, organisation, the 12 modules, records, rollups, seed truth.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG = sa.BigInteger
SMALL = sa.SmallInteger


def upgrade() -> None:
    op.create_table(
        "pool_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "county",
        sa.Column("code", sa.Integer, primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
    )
    op.create_table(
        "township",
        sa.Column("code", sa.Integer, primary_key=True),
        sa.Column("county_code", sa.Integer, sa.ForeignKey("county.code"), nullable=False),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("urban", sa.Boolean, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("internet_rate", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
    )
    op.create_table(
        "community",
        sa.Column("code", BIG, primary_key=True),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code"), nullable=False, index=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
    )
    op.create_table(
        "grid_cell",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_code", BIG, sa.ForeignKey("community.code"), nullable=False, index=True),
        sa.Column("name_zh", sa.String(96), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
    )
    op.create_table(
        "department",
        sa.Column("id", SMALL, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_zh", sa.String(32), nullable=False),
        sa.Column("department_id", SMALL, sa.ForeignKey("department.id"), nullable=False, index=True),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code")),
        sa.Column("title_zh", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
    )
    op.create_table(
        "module",
        sa.Column("id", SMALL, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(32), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("qty_label_zh", sa.String(32), nullable=False),
        sa.Column("qty_label_en", sa.String(48), nullable=False),
        sa.Column("qty_unit", sa.String(16), nullable=False),
        sa.Column("amount_label_zh", sa.String(32), nullable=False),
        sa.Column("amount_label_en", sa.String(48), nullable=False),
        sa.Column("amount_unit", sa.String(16), nullable=False),
    )
    op.create_table(
        "source_system",
        sa.Column("id", SMALL, primary_key=True),
        sa.Column("module_id", SMALL, sa.ForeignKey("module.id"), nullable=False),
        sa.Column("department_id", SMALL, sa.ForeignKey("department.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
    )
    op.create_table(
        "record_type",
        sa.Column("id", SMALL, primary_key=True),
        sa.Column("module_id", SMALL, sa.ForeignKey("module.id"), nullable=False),
        sa.Column("name_zh", sa.String(32), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
    )
    op.create_table(
        "record",
        sa.Column("id", BIG, primary_key=True, autoincrement=False),
        sa.Column("module_id", SMALL, nullable=False),
        sa.Column("source_id", SMALL, nullable=False),
        sa.Column("dept_id", SMALL, nullable=False),
        sa.Column("type_id", SMALL, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("community_code", BIG),
        sa.Column("grid_id", sa.Integer),
        sa.Column("occurred_at", BIG, nullable=False),
        sa.Column("received_at", BIG, nullable=False),
        sa.Column("classification", SMALL, nullable=False),
        sa.Column("qty", sa.Float, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("record_key", BIG, nullable=False),
        sa.Column("area_code_raw", sa.String(32), nullable=False),
    )
    op.create_index("ix_record_occurred_at", "record", ["occurred_at"])
    op.create_index("ix_record_received_at", "record", ["received_at"])
    op.create_table(
        "rollup_daily",
        sa.Column("module_id", SMALL, nullable=False),
        sa.Column("source_id", SMALL, nullable=False),
        sa.Column("dept_id", SMALL, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("classification", SMALL, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False) for c in ("n_late", "n_missing", "n_dup", "n_badcode")],
        sa.Column("sum_qty", sa.Float, nullable=False),
        sa.Column("sum_amount", sa.Float, nullable=False),
        sa.Column("max_received_at", BIG, nullable=False),
        sa.UniqueConstraint(
            "source_id",
            "township_code",
            "day",
            "classification",
            name="uq_rollup_daily_source_id_township_code_day_classification",
        ),
    )
    op.create_index("ix_rollup_daily_day", "rollup_daily", ["day"])
    op.create_table(
        "seed_defect",
        sa.Column("record_id", BIG, nullable=False, index=True),
        sa.Column("defect", sa.String(16), nullable=False),
    )
    op.create_table(
        "seed_incident",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("module_id", SMALL, nullable=False),
        sa.Column("township_code", sa.Integer),
        sa.Column("start_at", BIG, nullable=False),
        sa.Column("end_at", BIG, nullable=False),
        sa.Column("note_zh", sa.Text, nullable=False),
        sa.Column("note_en", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "seed_incident",
        "seed_defect",
        "rollup_daily",
        "record",
        "record_type",
        "source_system",
        "module",
        "person",
        "department",
        "grid_cell",
        "community",
        "township",
        "county",
        "pool_meta",
    ):
        op.drop_table(name)
