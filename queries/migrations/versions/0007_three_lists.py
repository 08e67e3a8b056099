"""Three-Lists-in-One: the problem, process, data and responsibility lists, the data-permission list, and
the generator's record of the gaps it injected.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lists_problem",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("code", sa.String(48), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("yearly_volume", sa.Integer, nullable=False),
        sa.Column("limit_hours", sa.Integer, nullable=False),
        sa.Column("owner_dept_id", sa.SmallInteger, sa.ForeignKey("department.id"), nullable=False),
        sa.Column("module_id", sa.SmallInteger, sa.ForeignKey("module.id")),
    )
    op.create_table(
        "lists_step",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "problem_id", sa.SmallInteger, sa.ForeignKey("lists_problem.id"), nullable=False, index=True
        ),
        sa.Column("seq", sa.SmallInteger, nullable=False),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("decision", sa.Boolean, nullable=False),
        sa.Column("limit_hours", sa.Integer, nullable=False),
        sa.UniqueConstraint("problem_id", "seq"),
    )
    op.create_table(
        "lists_data_item",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("module_id", sa.SmallInteger, sa.ForeignKey("module.id"), nullable=False),
        sa.Column("source_id", sa.SmallInteger, sa.ForeignKey("source_system.id"), nullable=False),
        sa.Column("owner_dept_id", sa.SmallInteger, sa.ForeignKey("department.id")),
        sa.Column("classification", sa.SmallInteger, nullable=False),
        sa.Column("refresh", sa.String(12), nullable=False),
    )
    op.create_table(
        "lists_step_data",
        sa.Column("step_id", sa.Integer, sa.ForeignKey("lists_step.id"), primary_key=True),
        sa.Column(
            "item_id", sa.SmallInteger, sa.ForeignKey("lists_data_item.id"), primary_key=True, index=True
        ),
    )
    op.create_table(
        "lists_duty",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("dept_id", sa.SmallInteger, sa.ForeignKey("department.id"), nullable=False, index=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("name_zh", sa.String(96), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
    )
    op.create_table(
        "lists_step_duty",
        sa.Column("step_id", sa.Integer, sa.ForeignKey("lists_step.id"), primary_key=True),
        sa.Column("duty_id", sa.Integer, sa.ForeignKey("lists_duty.id"), primary_key=True, index=True),
        sa.Column("role", sa.String(8), nullable=False),
    )
    op.create_table(
        "lists_data_grant",
        sa.Column("item_id", sa.SmallInteger, sa.ForeignKey("lists_data_item.id"), primary_key=True),
        sa.Column("dept_id", sa.SmallInteger, sa.ForeignKey("department.id"), primary_key=True),
    )
    op.create_table(
        "lists_seed_gap",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("problem_id", sa.SmallInteger),
        sa.Column("step_id", sa.Integer),
        sa.Column("item_id", sa.SmallInteger),
        sa.Column("dept_id", sa.SmallInteger),
    )


def downgrade() -> None:
    for name in (
        "lists_seed_gap",
        "lists_data_grant",
        "lists_step_duty",
        "lists_duty",
        "lists_step_data",
        "lists_data_item",
        "lists_step",
        "lists_problem",
    ):
        op.drop_table(name)
