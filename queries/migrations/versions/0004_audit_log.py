"""The responsibility log: a hash-chained, append-only audit_log.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column("actor_username", sa.String(96), nullable=False),
        sa.Column("actor_role", sa.String(24), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("object_type", sa.String(48), nullable=False),
        sa.Column("object_id", sa.String(128)),
        sa.Column("before_digest", sa.String(64)),
        sa.Column("after_digest", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_username", "audit_log", ["actor_username"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_object_type_object_id", "audit_log", ["object_type", "object_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
