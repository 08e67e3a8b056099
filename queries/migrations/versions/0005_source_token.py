"""API tokens of the source systems: stored as SHA-256, scoped to one source, revocable.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_id", sa.SmallInteger, sa.ForeignKey("source_system.id"), nullable=False, index=True
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("label", sa.String(96), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
        sa.Column("revoked_by", sa.String(96)),
    )


def downgrade() -> None:
    op.drop_table("source_token")
