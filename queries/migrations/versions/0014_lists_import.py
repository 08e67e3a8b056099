"""Three lists in one: the imports people made, so a rebuild lays them back over the generated lists
(issue 7).

Revision ID: 0014
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lists_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dept_code", sa.String(48)),
        sa.Column("rows", sa.Text, nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.Column("imported_by", sa.String(96), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lists_import")
