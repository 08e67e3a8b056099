"""The stage-duration rollup without the problem type, which no reader uses: a quarter of the rows, and
the closed loop's duration chart reads a year of the county in a quarter of the time (issue 13).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

KEYS = "township_code, dept_id, month, stage, bucket"


def _reshape(with_problem: bool) -> None:
    """Keep the sums in a side table, empty the rollup, change its shape, put the sums back (a unique
    constraint over fewer columns could not be made while the finer rows were still in)."""
    op.execute(
        f"CREATE TABLE case_rollup_dur_sums AS SELECT {KEYS}, SUM(n) AS n FROM case_rollup_dur GROUP BY {KEYS}"
    )
    op.execute("DELETE FROM case_rollup_dur")
    with op.batch_alter_table("case_rollup_dur", recreate="always") as batch:
        batch.drop_constraint("uq_case_rollup_dur_key", type_="unique")
        if with_problem:
            batch.add_column(sa.Column("problem_id", sa.SmallInteger, nullable=False, server_default="0"))
            batch.create_unique_constraint(
                "uq_case_rollup_dur_key",
                ["township_code", "dept_id", "problem_id", "month", "stage", "bucket"],
            )
        else:
            batch.drop_column("problem_id")
            batch.create_unique_constraint(
                "uq_case_rollup_dur_key", ["township_code", "dept_id", "month", "stage", "bucket"]
            )
    op.execute(f"INSERT INTO case_rollup_dur ({KEYS}, n) SELECT {KEYS}, n FROM case_rollup_dur_sums")
    op.execute("DROP TABLE case_rollup_dur_sums")


def upgrade() -> None:
    _reshape(with_problem=False)


def downgrade() -> None:
    # the per-problem split is gone: every row comes back under problem 0 (its sums kept)
    _reshape(with_problem=True)
