"""Agricultural prices: products, markets, cooperatives, observations, monthly indicators, the hog-grain
week, production costs, injected episodes (generator truth), and decisions taken on warnings (user data).

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_product",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(32), nullable=False),
        sa.Column("name_en", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
    )
    op.create_table(
        "price_market",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("county_wide", sa.Boolean, nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
    )
    op.create_table(
        "price_coop",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_zh", sa.String(96), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("township_code", sa.Integer, nullable=False),
        sa.Column("product_id", sa.SmallInteger, nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
    )
    op.create_table(
        "price_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.SmallInteger, nullable=False),
        sa.Column("market_id", sa.SmallInteger, nullable=False),
        sa.Column("months_present", sa.Integer, nullable=False),
        sa.Column("span_months", sa.Integer, nullable=False),
        sa.Column("last_month", sa.Integer),
        sa.Column("qualifies", sa.Boolean, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("seed_expect", sa.String(16)),
        sa.UniqueConstraint("product_id", "market_id", name="uq_price_series_product_id_market_id"),
    )
    op.create_table(
        "price_obs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("coop_id", sa.Integer),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("reported_day", sa.Integer, nullable=False),
        sa.Column("price_raw", sa.Float, nullable=False),
        sa.Column("unit_raw", sa.String(16), nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("volume_kg", sa.Float),
        sa.Column("outlier", sa.Boolean, nullable=False),
        sa.Column("seed_flag", sa.String(16)),
    )
    op.create_table(
        "price_month",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("n_obs", sa.Integer, nullable=False),
        sa.Column("n_outlier", sa.Integer, nullable=False),
        sa.Column("cqgr", sa.Float),
        sa.Column("cagr", sa.Float),
        sa.Column("ifpa", sa.Float),
        sa.Column("ifpa_band", sa.String(16)),
        sa.Column("trend", sa.Float),
        sa.Column("resid_sd", sa.Float),
        sa.Column("alps", sa.Float),
        sa.Column("alps_band", sa.String(8)),
        sa.Column("cost", sa.Float),
        sa.Column("below_cost", sa.Float),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("side", sa.String(4)),
        sa.Column("agreed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("series_id", "month", name="uq_price_month_series_id_month"),
    )
    op.create_table(
        "price_hog_week",
        sa.Column("week", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hog", sa.Float),
        sa.Column("corn", sa.Float),
        sa.Column("pork", sa.Float),
        sa.Column("ratio", sa.Float),
        sa.Column("pork_yoy", sa.Float),
        sa.Column("fall_level", sa.SmallInteger),
        sa.Column("rise_level", sa.SmallInteger),
    )
    op.create_table(
        "price_cost",
        sa.Column("product_id", sa.SmallInteger, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.UniqueConstraint("product_id", "year", name="uq_price_cost_product_id_year"),
    )
    op.create_table(
        "price_coop_month",
        sa.Column("coop_id", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("produced_kg", sa.Float, nullable=False),
        sa.Column("sold_kg", sa.Float, nullable=False),
        sa.UniqueConstraint("coop_id", "month", name="uq_price_coop_month_coop_id_month"),
    )
    op.create_table(
        "price_episode",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("first_month", sa.Integer, nullable=False),
        sa.Column("last_month", sa.Integer, nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("factor", sa.Float, nullable=False),
        sa.Column("note_zh", sa.Text, nullable=False),
        sa.Column("note_en", sa.Text, nullable=False),
    )
    op.create_table(
        "price_decision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_code", sa.String(32), nullable=False),
        sa.Column("market_code", sa.String(32), nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("amount_yuan", sa.Float),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(96), nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_price_coop_township_code", "price_coop", ["township_code"])
    op.create_index("ix_price_obs_series_id_day", "price_obs", ["series_id", "day"])
    op.create_index(
        "ix_price_decision_product_code_market_code", "price_decision", ["product_code", "market_code"]
    )


def downgrade() -> None:
    op.drop_table("price_decision")
    op.drop_table("price_episode")
    op.drop_table("price_coop_month")
    op.drop_table("price_cost")
    op.drop_table("price_hog_week")
    op.drop_table("price_month")
    op.drop_table("price_obs")
    op.drop_table("price_series")
    op.drop_table("price_coop")
    op.drop_table("price_market")
    op.drop_table("price_product")
