"""Closed-loop cases: cases, their event logs, the loop view's rollups and the injected failures (issue 8).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_COUNTS = (
    "n",
    "n_signed",
    "n_signed_on_time",
    "n_responded",
    "n_evaluated",
    "n_fed_back",
    "n_optimized",
    "n_closed",
    "n_closed_on_time",
    "n_deferred",
    "n_deferred_open",
    "n_return_visit",
    "n_satisfied",
    "n_basic",
    "n_dissatisfied",
    "n_reopened",
    "n_transferred",
    "n_escalate",
)


def upgrade() -> None:
    op.create_table(
        "case_item",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column(
            "problem_id",
            sa.SmallInteger,
            sa.ForeignKey("lists_problem.id", name="fk_case_item_problem_id_lists_problem"),
            nullable=False,
        ),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("community_code", sa.BigInteger),
        sa.Column("grid_id", sa.Integer),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("dept_id", sa.SmallInteger, nullable=False),
        sa.Column("person_id", sa.Integer),
        sa.Column("case_class", sa.String(12), nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Column("sign_due_at", sa.BigInteger, nullable=False),
        sa.Column("signed_at", sa.BigInteger),
        sa.Column("close_due_at", sa.BigInteger, nullable=False),
        sa.Column("closed_at", sa.BigInteger),
        sa.Column("analysis_at", sa.BigInteger),
        sa.Column("response_at", sa.BigInteger),
        sa.Column("evaluation_at", sa.BigInteger),
        sa.Column("feedback_at", sa.BigInteger),
        sa.Column("optimization_at", sa.BigInteger),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        sa.Column("reopen_count", sa.SmallInteger, nullable=False),
        sa.Column("transfer_count", sa.SmallInteger, nullable=False),
        sa.Column("dept_count", sa.SmallInteger, nullable=False),
        sa.Column("has_lead", sa.Boolean, nullable=False),
        sa.Column("deferred_s", sa.Integer, nullable=False),
        sa.Column("return_visit", sa.Boolean, nullable=False),
        sa.Column("satisfaction", sa.String(12)),
        sa.Column("priority", sa.Float),
        sa.Column("priority_model", sa.String(32)),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_case_item_problem_id", "case_item", ["problem_id"])
    op.create_index("ix_case_item_dept_id", "case_item", ["dept_id"])
    op.create_index("ix_case_item_opened_at", "case_item", ["opened_at"])
    op.create_index("ix_case_item_closed_at", "case_item", ["closed_at"])
    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.BigInteger, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_stage", sa.String(16)),
        sa.Column("to_stage", sa.String(16)),
        sa.Column("from_dept", sa.SmallInteger),
        sa.Column("to_dept", sa.SmallInteger),
        sa.Column("person_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_case_event_case_id", "case_event", ["case_id"])
    op.create_table(
        "case_rollup",
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("dept_id", sa.SmallInteger, nullable=False),
        sa.Column("problem_id", sa.SmallInteger, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("case_class", sa.String(12), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False) for c in _COUNTS],
        sa.UniqueConstraint(
            "township_code",
            "dept_id",
            "problem_id",
            "month",
            "case_class",
            "channel",
            "stage",
            "emergency",
            name="uq_case_rollup_key",
        ),
    )
    op.create_index("ix_case_rollup_month", "case_rollup", ["month"])
    op.create_table(
        "case_rollup_dur",
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("dept_id", sa.SmallInteger, nullable=False),
        sa.Column("problem_id", sa.SmallInteger, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("bucket", sa.SmallInteger, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "township_code",
            "dept_id",
            "problem_id",
            "month",
            "stage",
            "bucket",
            name="uq_case_rollup_dur_key",
        ),
    )
    op.create_table(
        "seed_case_defect",
        sa.Column("case_id", sa.BigInteger, nullable=False),
        sa.Column("defect", sa.String(16), nullable=False),
    )
    op.create_index("ix_seed_case_defect_case_id", "seed_case_defect", ["case_id"])


def downgrade() -> None:
    op.drop_table("seed_case_defect")
    op.drop_table("case_rollup_dur")
    op.drop_table("case_rollup")
    op.drop_table("case_event")
    op.drop_table("case_item")
