"""3D twin: where each community lies (frames), hand-drawn hazard areas, imported building footprints.

Revision ID: 0017
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twin_frame",
        sa.Column("community_code", sa.BigInteger, sa.ForeignKey("community.code"), primary_key=True),
        sa.Column("lon0", sa.Float, nullable=False),
        sa.Column("lat0", sa.Float, nullable=False),
        sa.Column("width_m", sa.Float, nullable=False),
        sa.Column("height_m", sa.Float, nullable=False),
    )
    op.create_table(
        "twin_hazard",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_code", sa.BigInteger, nullable=False, index=True),
        sa.Column("name", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("area", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("community_code", "name", name="uq_twin_hazard_community_code_name"),
    )
    op.create_table(
        "twin_import_building",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_code", sa.BigInteger, nullable=False, index=True),
        sa.Column("footprint", sa.Text, nullable=False),
        sa.Column("cx", sa.Float, nullable=False),
        sa.Column("cy", sa.Float, nullable=False),
        sa.Column("floors", sa.SmallInteger, nullable=False),
        sa.Column("height_m", sa.Float, nullable=False),
        sa.Column("year_built", sa.SmallInteger, nullable=False),
        sa.Column("structure", sa.String(16), nullable=False),
        sa.Column("condition", sa.SmallInteger, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("residents_65", sa.Integer, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.String(96), nullable=False),
    )


def downgrade() -> None:
    for name in ("twin_import_building", "twin_hazard", "twin_frame"):
        op.drop_table(name)
