"""Session revocation and the login throttle: a per-user session version, login_event indexes.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_login_event_remote_addr_at", "login_event", ["remote_addr", "at"])
    op.create_index("ix_login_event_username_at", "login_event", ["username", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_event_username_at", "login_event")
    op.drop_index("ix_login_event_remote_addr_at", "login_event")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_version")
