"""Identity: users with argon2 password hashes and roles, and the login audit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("department_id", sa.SmallInteger, sa.ForeignKey("department.id")),
        sa.Column("township_code", sa.Integer, sa.ForeignKey("township.code")),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_login_at", sa.BigInteger),
    )
    op.create_table(
        "login_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False, index=True),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_event")
    op.drop_table("app_user")
