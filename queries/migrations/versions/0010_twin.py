"""3D community twin: buildings, road network, public facilities, events at buildings, saved scenarios.

Revision ID: 0010
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _community() -> sa.Column:
    return sa.Column(
        "community_code", sa.BigInteger, sa.ForeignKey("community.code"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "twin_building",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        _community(),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("block_id", sa.Integer, nullable=False),
        sa.Column("cx", sa.Float, nullable=False),
        sa.Column("cy", sa.Float, nullable=False),
        sa.Column("footprint", sa.Text, nullable=False),
        sa.Column("floors", sa.SmallInteger, nullable=False),
        sa.Column("height_m", sa.Float, nullable=False),
        sa.Column("year_built", sa.SmallInteger, nullable=False),
        sa.Column("structure", sa.String(16), nullable=False),
        sa.Column("condition", sa.SmallInteger, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("residents_65", sa.Integer, nullable=False),
        sa.Column("node_id", sa.Integer, nullable=False),
        sa.Column("access_m", sa.Float, nullable=False),
        sa.Column("reno_score", sa.Float, nullable=False),
        sa.Column("reno_age", sa.Float, nullable=False),
        sa.Column("reno_condition", sa.Float, nullable=False),
        sa.Column("reno_structure", sa.Float, nullable=False),
        sa.Column("reno_elderly", sa.Float, nullable=False),
    )
    op.create_table(
        "twin_road_node",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        _community(),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
    )
    op.create_table(
        "twin_road_edge",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        _community(),
        sa.Column("a", sa.Integer, nullable=False),
        sa.Column("b", sa.Integer, nullable=False),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("name_zh", sa.String(32), nullable=False),
        sa.Column("name_en", sa.String(48), nullable=False),
    )
    op.create_table(
        "twin_facility",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        _community(),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("node_id", sa.Integer, nullable=False),
        sa.Column("access_m", sa.Float, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
    )
    op.create_table(
        "twin_event",
        sa.Column("record_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("building_id", sa.Integer, nullable=False, index=True),
        sa.Column("community_code", sa.BigInteger, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("dept_id", sa.SmallInteger, nullable=False),
        sa.Column("classification", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "twin_scenario",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_code", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(96), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("community_code", "name", name="uq_twin_scenario_community_code_name"),
    )


def downgrade() -> None:
    op.drop_table("twin_scenario")
    for name in ("twin_event", "twin_facility", "twin_road_edge", "twin_road_node", "twin_building"):
        op.drop_table(name)
