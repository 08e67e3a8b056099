"""Data in: ingestion batches, the quarantine, data owners, and the per-source business-key index.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_record_source_id_record_key", "record", ["source_id", "record_key"])
    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_id", sa.SmallInteger, sa.ForeignKey("source_system.id"), nullable=False, index=True
        ),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("n_accepted", sa.Integer, nullable=False),
        sa.Column("n_duplicate", sa.Integer, nullable=False),
        sa.Column("n_quarantined", sa.Integer, nullable=False),
        sa.Column("first_record_id", sa.BigInteger),
        sa.Column("last_record_id", sa.BigInteger),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingest_batch.id"), nullable=False, index=True),
        sa.Column("source_id", sa.SmallInteger, sa.ForeignKey("source_system.id"), nullable=False),
        sa.Column("row_no", sa.Integer, nullable=False),
        sa.Column("record_key", sa.String(64)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="held"),
        sa.Column("resolved_at", sa.BigInteger),
        sa.Column("resolved_by", sa.String(96)),
        sa.Column("resolved_batch_id", sa.Integer, sa.ForeignKey("ingest_batch.id")),
    )
    op.create_index("ix_quarantine_source_id_status", "quarantine", ["source_id", "status"])
    op.create_table(
        "data_owner",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("scope_id", sa.SmallInteger, nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("appointed_at", sa.BigInteger, nullable=False),
        sa.Column("appointed_by", sa.String(96), nullable=False),
        sa.Column("ended_at", sa.BigInteger),
    )
    op.create_index("ix_data_owner_scope_scope_id", "data_owner", ["scope", "scope_id"])


def downgrade() -> None:
    op.drop_table("data_owner")
    op.drop_table("quarantine")
    op.drop_table("ingest_batch")
    op.drop_index("ix_record_source_id_record_key", table_name="record")
