"""The pool's schema in one place (SQLAlchemy Core). Alembic migrations must match it (tests check)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Times are epoch seconds (UTC) in BIGINT columns: identical on SQLite and PostgreSQL, cheap to bulk-load,
# and day buckets are computed in Asia/Shanghai (UTC+8, no DST) as (ts + 28800) // 86400.
# `day` columns hold that local day number, which polars reads directly as pl.Date.

# --- meta -----------------------------------------------------------------------------------------
pool_meta = Table(
    "pool_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- geography ------------------------------------------------------------------------------------
county = Table(
    "county",
    metadata,
    Column("code", Integer, primary_key=True),  # adcode, 532503
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
)

township = Table(
    "township",
    metadata,
    Column("code", Integer, primary_key=True),  # NBS 9-digit code, 532503001
    Column("county_code", Integer, ForeignKey("county.code"), nullable=False),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # subdistrict | town | township | ethnic_township
    Column("urban", Boolean, nullable=False),
    Column("population", Integer, nullable=False),  # synthetic, see generate/reference.py
    Column("internet_rate", Float, nullable=False),  # share of residents online (synthetic)
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
)

community = Table(
    "community",
    metadata,
    Column("code", BigInteger, primary_key=True),  # NBS 12-digit code
    Column("township_code", Integer, ForeignKey("township.code"), nullable=False, index=True),
    Column("name_zh", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # community (社区) | village (村委会)
    Column("population", Integer, nullable=False),
)

grid_cell = Table(
    "grid_cell",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_code", BigInteger, ForeignKey("community.code"), nullable=False, index=True),
    Column("name_zh", String(96), nullable=False),
    Column("households", Integer, nullable=False),
)

# --- organisation ---------------------------------------------------------------------------------
department = Table(
    "department",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
)

person = Table(
    "person",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name_zh", String(32), nullable=False),
    Column("department_id", SmallInteger, ForeignKey("department.id"), nullable=False, index=True),
    Column("township_code", Integer, ForeignKey("township.code")),
    Column("title_zh", String(64), nullable=False),
    Column("phone_masked", String(20), nullable=False),
)

# --- the 12 modules and their source systems ------------------------------------------------------
module = Table(
    "module",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_zh", String(32), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("family", String(16), nullable=False),  # government | livelihood | industry | spatial
    Column("qty_label_zh", String(32), nullable=False),
    Column("qty_label_en", String(48), nullable=False),
    Column("qty_unit", String(16), nullable=False),
    Column("amount_label_zh", String(32), nullable=False),
    Column("amount_label_en", String(48), nullable=False),
    Column("amount_unit", String(16), nullable=False),
)

source_system = Table(
    "source_system",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("module_id", SmallInteger, ForeignKey("module.id"), nullable=False),
    Column("department_id", SmallInteger, ForeignKey("department.id"), nullable=False),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
    Column("delivery", String(8), nullable=False),  # api | batch (nightly)
)

record_type = Table(
    "record_type",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("module_id", SmallInteger, ForeignKey("module.id"), nullable=False),
    Column("name_zh", String(32), nullable=False),
    Column("name_en", String(64), nullable=False),
)

# The fact table: millions of rows. Kept narrow; pages read the rollups, never scan this.
record = Table(
    "record",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("module_id", SmallInteger, nullable=False),
    Column("source_id", SmallInteger, nullable=False),
    Column("dept_id", SmallInteger, nullable=False),
    Column("type_id", SmallInteger, nullable=False),
    Column("township_code", Integer, nullable=False),  # normalised on load
    Column("community_code", BigInteger),  # NULL = missing field
    Column("grid_id", Integer),
    Column("occurred_at", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("classification", SmallInteger, nullable=False),  # 0 public, 1 sensitive, 2 core
    Column("qty", Float, nullable=False),
    Column("amount", Float),  # NULL = missing field
    Column(
        "record_key", BigInteger, nullable=False
    ),  # business key; the same key from two sources = duplicate
    Column("area_code_raw", String(32), nullable=False),  # the area code exactly as the source sent it
    Index("ix_record_occurred_at", "occurred_at"),
    Index("ix_record_received_at", "received_at"),
    # idempotent ingestion looks every incoming business key up per source (migration 0006)
    Index("ix_record_source_id_record_key", "source_id", "record_key"),
)

CLASSIFICATIONS = ("public", "sensitive", "core")

# Rollup maintained at load time: one row per source x township x local day x classification, so the
# viewer's classification ceiling filters every measure, not just the count.
rollup_daily = Table(
    "rollup_daily",
    metadata,
    Column("module_id", SmallInteger, nullable=False),
    Column("source_id", SmallInteger, nullable=False),
    Column("dept_id", SmallInteger, nullable=False),
    Column("township_code", Integer, nullable=False),
    Column("day", Integer, nullable=False),
    Column("classification", SmallInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("n_late", Integer, nullable=False),  # received more than 24 h after it occurred
    Column("n_missing", Integer, nullable=False),  # community or amount empty
    Column("n_dup", Integer, nullable=False),  # rows whose business key another row already carries
    Column("n_badcode", Integer, nullable=False),  # area code not in the canonical 9-digit form
    Column("sum_qty", Float, nullable=False),
    Column("sum_amount", Float, nullable=False),
    Column("max_received_at", BigInteger, nullable=False),
    Index("ix_rollup_daily_day", "day"),
    UniqueConstraint("source_id", "township_code", "day", "classification"),
)

# --- ground truth of the synthetic pool (what the generator injected), for quality checks --------
seed_defect = Table(
    "seed_defect",
    metadata,
    Column("record_id", BigInteger, nullable=False, index=True),
    Column("defect", String(16), nullable=False),  # duplicate | missing | late | badcode
)

# The same truth by the columns a scope filters on and the local day the record occurred: the pool
# page's "detected vs injected" reads this, not seed_defect joined to every record of the window (the
# join grew faster than the pool: 11.6x from 7M to 35M records).
seed_defect_daily = Table(
    "seed_defect_daily",
    metadata,
    Column("dept_id", SmallInteger, nullable=False),
    Column("township_code", Integer, nullable=False),
    Column("classification", SmallInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("defect", String(16), nullable=False),
    Column("n", Integer, nullable=False),
    Index("ix_seed_defect_daily_day", "day"),
)

seed_incident = Table(
    "seed_incident",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # outage | spike
    Column("module_id", SmallInteger, nullable=False),
    Column("township_code", Integer),
    Column("start_at", BigInteger, nullable=False),
    Column("end_at", BigInteger, nullable=False),
    Column("note_zh", Text, nullable=False),
    Column("note_en", Text, nullable=False),
)

# --- identity (migration 0002) --------------------------------------------------------------------
ROLES = ("operator", "leader", "department_head", "admin")

app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False),
    Column("role", String(24), nullable=False),
    Column("department_id", SmallInteger, ForeignKey("department.id")),
    Column("township_code", Integer, ForeignKey("township.code")),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger),
    # Stored in the session at login and checked on every request: bumping it ends every session
    # of the user (logout, password change, deactivation) without a server-side session store.
    Column("session_version", Integer, nullable=False, server_default="0"),
)

login_event = Table(
    "login_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("at", BigInteger, nullable=False, index=True),
    Column("ok", Boolean, nullable=False),
    Column("remote_addr", String(64), nullable=False),
    # the login throttle counts recent failures per address and per name before it hashes anything
    Index("ix_login_event_remote_addr_at", "remote_addr", "at"),
    Index("ix_login_event_username_at", "username", "at"),
)

# --- the responsibility log (migration 0004): a hash chain, appended only through queries/audit.py -----
audit_log = Table(
    "audit_log",
    metadata,
    # assigned by the appender as head + 1 under the log's lock, never by a sequence: a rolled-back
    # transaction must not leave a gap, so that a gap always means a removed entry
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False, index=True),
    Column("actor_id", Integer),  # NULL = the operator at the shell (actor_username "cli:<os user>")
    Column("actor_username", String(96), nullable=False, index=True),
    Column("actor_role", String(24), nullable=False),
    Column("action", String(48), nullable=False, index=True),  # user.create, export.csv, ingest.batch ...
    Column("object_type", String(48), nullable=False),
    Column("object_id", String(128)),
    Column("before_digest", String(64)),  # SHA-256 of the canonical JSON; never the values themselves
    Column("after_digest", String(64)),
    Column("detail", Text),  # short, non-sensitive canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_object_type_object_id", "object_type", "object_id"),
)

# --- API tokens of the sub-platforms' source systems (migration 0005) -------------------------------
# A token is 32 random bytes shown once at creation; only its SHA-256 is kept (it is not a password a
# person chose, so a fast hash is enough and lets every request look it up by an index). It writes only
# its own source system's records.
source_token = Table(
    "source_token",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", SmallInteger, ForeignKey("source_system.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),  # the first characters, to tell tokens apart in lists
    Column("label", String(96), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(96), nullable=False),
    Column("revoked_at", BigInteger),
    Column("revoked_by", String(96)),
)

# --- data in (migration 0006): batches from the sub-platforms, their quarantine, and the data owners ---
# One row per batch that reached the pool (API call, file import, quarantine release), written in the
# same transaction as its records, its quarantined rows and its responsibility-log entry.
ingest_batch = Table(
    "ingest_batch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", SmallInteger, ForeignKey("source_system.id"), nullable=False, index=True),
    Column("channel", String(8), nullable=False),  # api | file | release
    Column("actor", String(96), nullable=False),  # token:<prefix> | user name | cli:<os user>
    Column("received_at", BigInteger, nullable=False, index=True),
    Column("payload_digest", String(64), nullable=False),  # SHA-256 of the rows as sent: tells a replay
    Column("filename", String(255)),
    Column("n_rows", Integer, nullable=False),
    Column("n_accepted", Integer, nullable=False),
    Column("n_duplicate", Integer, nullable=False),
    Column("n_quarantined", Integer, nullable=False),
    Column("first_record_id", BigInteger),  # the accepted rows' ids are one contiguous range
    Column("last_record_id", BigInteger),
)

# A row the validation refused: kept as sent, with every reason, until an authorised user releases a
# corrected version (which is validated again, as a batch of channel "release") or discards it.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("batch_id", Integer, ForeignKey("ingest_batch.id"), nullable=False, index=True),
    Column("source_id", SmallInteger, ForeignKey("source_system.id"), nullable=False),
    Column("row_no", Integer, nullable=False),  # 0-based position in its batch
    Column("record_key", String(64)),  # as sent; NULL when the row had none
    Column("reasons", Text, nullable=False),  # JSON list of codes from queries/ingest/reasons.py
    Column("raw", Text, nullable=False),  # JSON object: the row exactly as sent
    Column("at", BigInteger, nullable=False),
    Column("status", String(12), nullable=False, server_default="held"),  # held | released | discarded
    Column("resolved_at", BigInteger),
    Column("resolved_by", String(96)),
    Column("resolved_batch_id", Integer, ForeignKey("ingest_batch.id")),
    Index("ix_quarantine_source_id_status", "source_id", "status"),
)

# The named data owner (chief data officer) of a source system or a department: the quality loop's
# name. History is kept: the current owner is the row with `ended_at` NULL.
data_owner = Table(
    "data_owner",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(12), nullable=False),  # source | department
    Column("scope_id", SmallInteger, nullable=False),  # source_system.id or department.id
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False),
    Column("appointed_at", BigInteger, nullable=False),
    Column("appointed_by", String(96), nullable=False),
    Column("ended_at", BigInteger),
    Index("ix_data_owner_scope_scope_id", "scope", "scope_id"),
)

# --- agricultural prices (issue 9, migration 0008) -------------------------------------------------
# Made by the generator part queries/generate/prices.py. Prices are stored normalised to yuan/kg next to
# the value and unit as reported; months are year * 12 + (month - 1), weeks (local day + 3) // 7.
price_product = Table(
    "price_product",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_zh", String(32), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column(
        "category", String(16), nullable=False
    ),  # vegetable | fruit | livestock | meat | grain | specialty
)

price_market = Table(
    "price_market",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
    Column("kind", String(16), nullable=False),  # wholesale | farmers | farm_gate
    Column("county_wide", Boolean, nullable=False),  # seen by every scope; else only its township's
    Column("township_code", Integer, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
)

price_coop = Table(
    "price_coop",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name_zh", String(96), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("township_code", Integer, nullable=False, index=True),
    Column("product_id", SmallInteger, nullable=False),
    Column("members", Integer, nullable=False),
)

# One row per product x market series, with its WFP qualification worked out at load time.
price_series = Table(
    "price_series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", SmallInteger, nullable=False),
    Column("market_id", SmallInteger, nullable=False),
    Column("months_present", Integer, nullable=False),
    Column("span_months", Integer, nullable=False),
    Column("last_month", Integer),
    Column("qualifies", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of [zh, en]: every ALPS rule the series fails
    Column("seed_expect", String(16)),  # generator truth: ok | short | sparse | stale
    UniqueConstraint("product_id", "market_id"),
)

price_obs = Table(
    "price_obs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("series_id", Integer, nullable=False),
    Column("coop_id", Integer),  # farm-gate reports come from a cooperative
    Column("day", Integer, nullable=False),  # local day observed
    Column("reported_day", Integer, nullable=False),
    Column("price_raw", Float, nullable=False),
    Column("unit_raw", String(16), nullable=False),  # yuan/kg | yuan/jin
    Column("price", Float, nullable=False),  # yuan/kg
    Column("volume_kg", Float),
    Column("outlier", Boolean, nullable=False),  # detected at load; kept, but out of the monthly mean
    Column("seed_flag", String(16)),  # generator truth: jin | late | outlier
    Index("ix_price_obs_series_id_day", "series_id", "day"),
)

# Monthly price and the indicators, computed at load (never per request).
price_month = Table(
    "price_month",
    metadata,
    Column("series_id", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("price", Float, nullable=False),  # mean of the month's observations (outliers left out)
    Column("n_obs", Integer, nullable=False),
    Column("n_outlier", Integer, nullable=False),
    Column("cqgr", Float),
    Column("cagr", Float),
    Column("ifpa", Float),
    Column("ifpa_band", String(16)),
    Column("trend", Float),  # ALPS seasonal trend
    Column("resid_sd", Float),
    Column("alps", Float),
    Column("alps_band", String(8)),
    Column("cost", Float),  # production cost, yuan/kg (farm-gate series)
    Column("below_cost", Float),  # share under cost; > 0 is the subsidy trigger
    Column("level", SmallInteger, nullable=False),  # 0 normal, 1 watch, 2 abnormal, 3 crisis
    Column("side", String(4)),  # high | low
    Column("agreed", Boolean, nullable=False),
    UniqueConstraint("series_id", "month"),
)

price_hog_week = Table(
    "price_hog_week",
    metadata,
    Column("week", Integer, primary_key=True, autoincrement=False),
    Column("hog", Float),
    Column("corn", Float),
    Column("pork", Float),
    Column("ratio", Float),
    Column("pork_yoy", Float),
    Column("fall_level", SmallInteger),
    Column("rise_level", SmallInteger),
)

price_cost = Table(
    "price_cost",
    metadata,
    Column("product_id", SmallInteger, nullable=False),
    Column("year", Integer, nullable=False),
    Column("cost", Float, nullable=False),  # yuan/kg
    UniqueConstraint("product_id", "year"),
)

price_coop_month = Table(
    "price_coop_month",
    metadata,
    Column("coop_id", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("produced_kg", Float, nullable=False),
    Column("sold_kg", Float, nullable=False),
    UniqueConstraint("coop_id", "month"),
)

# Generator truth: the shocks it injected, so tests check the warnings find them.
price_episode = Table(
    "price_episode",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, nullable=False),
    Column("first_month", Integer, nullable=False),
    Column("last_month", Integer, nullable=False),
    Column("side", String(4), nullable=False),  # high | low
    Column("factor", Float, nullable=False),
    Column("note_zh", Text, nullable=False),
    Column("note_en", Text, nullable=False),
)

# User data: a decision taken on a warning. Products and markets are named by code (they are rebuilt
# with every load; a decision outlives them).
price_decision = Table(
    "price_decision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_code", String(32), nullable=False),
    Column("market_code", String(32), nullable=False),
    Column("month", Integer, nullable=False),  # the warning's month
    Column("level", SmallInteger, nullable=False),
    Column(
        "kind", String(24), nullable=False
    ),  # subsidy | reserve_purchase | reserve_release | guidance | none
    Column("amount_yuan", Float),
    Column("note", Text, nullable=False),
    Column("decided_by", String(96), nullable=False),
    Column("decided_at", BigInteger, nullable=False),
    Index("ix_price_decision_product_code_market_code", "product_code", "market_code"),
)

# --- urban-rural digital divide (migration 0009) ----------------------------------------------------
# Indicators per township and quarter (generated; real figures replace them by import). Shares are 0-1.
divide_indicator = Table(
    "divide_indicator",
    metadata,
    Column("township_code", Integer, ForeignKey("township.code"), nullable=False),
    Column("period", String(8), nullable=False),  # "2026Q3"
    Column("first_day", Integer, nullable=False),  # local day numbers the quarter covers
    Column("last_day", Integer, nullable=False),
    Column("population", Integer, nullable=False),  # residents in the quarter
    Column("internet_rate", Float, nullable=False),  # residents online (CNNIC's penetration)
    Column("household_broadband", Float, nullable=False),  # households with a fixed-broadband line
    Column("broadband_coverage", Float, nullable=False),  # residents where fixed broadband is offered
    Column("mobile_coverage", Float, nullable=False),  # residents covered by 4G/5G
    Column("download_mbps", Float, nullable=False),  # median measured download speed
    Column("smartphone_rate", Float, nullable=False),  # residents aged 10+ owning a smartphone
    Column("aged65_share", Float, nullable=False),
    Column("minority_share", Float, nullable=False),  # ethnic-minority residents (Hani, Yi, Miao ...)
    Column("low_education_share", Float, nullable=False),  # adults with primary schooling or less
    Column("dibao_share", Float, nullable=False),  # residents on minimum living allowance (低保)
    Column("training_sessions", Integer, nullable=False),  # digital-literacy sessions held
    Column("training_attendees", Integer, nullable=False),
    UniqueConstraint("township_code", "period"),
)

# Offline service counters ("dual-track": online and offline) and their visits per quarter.
divide_counter = Table(
    "divide_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("township_code", Integer, ForeignKey("township.code"), nullable=False, index=True),
    Column("name_zh", String(96), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # hall (便民服务中心) | station (村/社区代办点)
)

divide_counter_visit = Table(
    "divide_counter_visit",
    metadata,
    Column("counter_id", Integer, ForeignKey("divide_counter.id"), nullable=False),
    Column("period", String(8), nullable=False),
    Column("visits", Integer, nullable=False),
    Column(
        "assisted_online", Integer, nullable=False
    ),  # visits where staff did an online service for the visitor
    UniqueConstraint("counter_id", "period"),
)

# Real township boundaries imported by a user (`command-center import boundaries`); while a township
# has none, the schematic zone shipped in queries/geodata/ stands in.
township_boundary = Table(
    "township_boundary",
    metadata,
    Column("township_code", Integer, ForeignKey("township.code"), primary_key=True),
    Column("geojson", Text, nullable=False),  # a Polygon or MultiPolygon, WGS-84
    Column("source", String(255), nullable=False),  # file name and what was done to it
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
)

# --- 3D community twin (migration 0010): the old-city communities' buildings, roads and facilities ---
# Coordinates are metres east (x) and north (y) of each community's south-west corner: the twin is drawn
# and routed in that plane. Footprints are JSON rings [[x, y], ...] in the same plane. Filled by the
# generator part queries/generate/twin.py (or a building import), so rebuilt on every load.
twin_building = Table(
    "twin_building",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("community_code", BigInteger, ForeignKey("community.code"), nullable=False, index=True),
    Column("township_code", Integer, nullable=False),  # the viewer's scope filters on it
    Column("block_id", Integer, nullable=False),
    Column("cx", Float, nullable=False),
    Column("cy", Float, nullable=False),
    Column("footprint", Text, nullable=False),
    Column("floors", SmallInteger, nullable=False),
    Column("height_m", Float, nullable=False),
    Column("year_built", SmallInteger, nullable=False),
    Column("structure", String(16), nullable=False),  # brick_wood | brick_concrete | frame | steel
    Column("condition", SmallInteger, nullable=False),  # 1 good, 2 fair, 3 poor, 4 dangerous
    Column("households", Integer, nullable=False),
    Column("residents", Integer, nullable=False),
    Column("residents_65", Integer, nullable=False),
    Column("node_id", Integer, nullable=False),  # the road node its entrance opens onto
    Column("access_m", Float, nullable=False),  # entrance to that node, metres
    # renovation need 0-100 and its four inputs (each 0-100), weights in queries/twin.py RENO_WEIGHTS
    Column("reno_score", Float, nullable=False),
    Column("reno_age", Float, nullable=False),
    Column("reno_condition", Float, nullable=False),
    Column("reno_structure", Float, nullable=False),
    Column("reno_elderly", Float, nullable=False),
)

twin_road_node = Table(
    "twin_road_node",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("community_code", BigInteger, ForeignKey("community.code"), nullable=False, index=True),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
)

twin_road_edge = Table(
    "twin_road_edge",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("community_code", BigInteger, ForeignKey("community.code"), nullable=False, index=True),
    Column("a", Integer, nullable=False),  # twin_road_node.id; walkable both ways
    Column("b", Integer, nullable=False),
    Column("length_m", Float, nullable=False),
    Column("name_zh", String(32), nullable=False),
    Column("name_en", String(48), nullable=False),
)

twin_facility = Table(
    "twin_facility",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("community_code", BigInteger, ForeignKey("community.code"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),  # queries/twin.py FACILITY_KINDS
    Column("name_zh", String(64), nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("node_id", Integer, nullable=False),
    Column("access_m", Float, nullable=False),
    Column("capacity", Integer, nullable=False),  # people (shelter, school, care beds ...) or places
)

# The pool's cases (digital community) and alarms (digital energy) that have a place, at their building.
twin_event = Table(
    "twin_event",
    metadata,
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("building_id", Integer, nullable=False, index=True),
    Column("community_code", BigInteger, nullable=False),
    Column("township_code", Integer, nullable=False),
    Column("dept_id", SmallInteger, nullable=False),
    Column("classification", SmallInteger, nullable=False),
    Column("kind", String(8), nullable=False),  # case | alarm
    Column("occurred_at", BigInteger, nullable=False),
)

# Saved before/after renovation scenarios (user data): written only through queries/audit.py's door.
twin_scenario = Table(
    "twin_scenario",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_code", BigInteger, nullable=False),
    Column("name", String(96), nullable=False),
    Column("spec", Text, nullable=False),  # JSON: renovate, demolish, add_storey (building ids), facilities
    Column("created_by", String(96), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("community_code", "name"),
)

# --- factors of governance performance (migration 0011, issue 12) ----------------------------------
# One row per township and calendar year (local), built by the generator part queries/generate/factors.py:
# the governance index (the dependent variable) with its three parts, and the regressors analogous to
# Table 1 of the second source paper. Definitions, units and sources: queries/factors.py VARIABLES.
factor_township_year = Table(
    "factor_township_year",
    metadata,
    Column("township_code", Integer, ForeignKey("township.code"), primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("gov_index", Float, nullable=False),  # points 0-100: mean of the three parts below
    Column("on_time_closure", Float, nullable=False),  # share of cases closed within their time limit
    Column("satisfaction", Float, nullable=False),  # share of residents satisfied in follow-up visits
    Column("data_index", Float, nullable=False),  # the overview's data-governance index, points 0-100
    Column("tertiary_share", Float, nullable=False),  # tertiary value added / GDP
    Column("platform_per_1k", Float, nullable=False),  # pool records per 1,000 residents per day
    Column("broadband", Float, nullable=False),  # % of households with broadband or 5G coverage
    Column("fiscal_ratio", Float, nullable=False),  # budget expenditure / GDP
    Column("rnd_ratio", Float, nullable=False),  # R&D expenditure / GDP
    Column("population", Integer, nullable=False),  # residents at year end
    Column("gdp_pc", Float, nullable=False),  # GDP per resident, yuan
    Column("records", Integer, nullable=False),  # pool records the data parts are computed from
    Column("days", SmallInteger, nullable=False),  # days of the year the pool covers
)

# Imported factor datasets (user data: written only through the door, carried across rebuilds): a table
# of the same shape as the township figures (the paper's provincial table, a real township yearbook),
# one row per observation, its numeric columns kept long so any set of variables fits.
factor_dataset = Table(
    "factor_dataset",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("filename", String(255)),
    Column("label_column", String(64)),
    Column("n_rows", Integer, nullable=False),
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
)

factor_value = Table(
    "factor_value",
    metadata,
    Column("dataset_id", Integer, ForeignKey("factor_dataset.id"), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("variable", String(64), primary_key=True),
    Column("value", Float),  # NULL = missing in the file (left out of an analysis, and named)
    Column("label", String(128)),  # the observation's name (the label column's text)
)

# --- digital divide, written by people (migration 0016): real indicator figures and counter edits ----
# Real figures imported with `command-center import divide FILE`: one value per township, year and
# indicator, standing in for the generated figure in every quarter of that year (queries.divide).
divide_indicator_import = Table(
    "divide_indicator_import",
    metadata,
    Column("id", Integer, primary_key=True),  # a replaced figure gets a new row
    Column("township_code", Integer, ForeignKey("township.code"), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("indicator", String(32), nullable=False),  # a column of divide_indicator
    Column("value", Float, nullable=False),
    Column("source", String(255), nullable=False),  # the file it came from
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
    UniqueConstraint("township_code", "year", "indicator"),
)

# The offline counters as the owning department keeps them: opening hours, closures, counters added.
# One row per counter that was ever edited, keyed "<township code>:<name_zh>" so an edit of a generated
# counter survives a rebuild that regenerates divide_counter (its ids may change, its names do not).
divide_counter_edit = Table(
    "divide_counter_edit",
    metadata,
    Column("id", Integer, primary_key=True),  # each edit writes the counter's row anew
    Column("counter_key", String(128), nullable=False, unique=True),
    Column("township_code", Integer, ForeignKey("township.code"), nullable=False),
    Column("name_zh", String(96), nullable=False),
    Column("name_en", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # hall | station
    Column("opens", String(5), nullable=False),  # "08:30", local time
    Column("closes", String(5), nullable=False),
    Column("days", SmallInteger, nullable=False),  # open Monday to Monday+days-1 (5, 6 or 7)
    Column("closed_at", BigInteger),  # closed for good (NULL = open)
    Column("added", Boolean, nullable=False),  # a counter people added, not a generated one
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(96), nullable=False),
)

# --- imported price observations (issue 9, migration 0015) -----------------------------------------
# User data: what `command-center import prices FILE` accepted, as sent (value and unit) and normalised
# (yuan/kg). Carried across every rebuild and laid over the rebuilt series again (queries.price_import
# .reapply), so the warnings keep seeing them. Products, markets and cooperatives are named by code /
# name, not id: the generated tables they point at are rebuilt.
price_import = Table(
    "price_import",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch", String(40), nullable=False),  # sha256 prefix of the file, for the log
    Column("row_no", Integer, nullable=False),
    Column("product_code", String(32), nullable=False),
    Column("market_code", String(32), nullable=False),
    Column("coop_name", String(96), nullable=False),  # "" when no cooperative reported it
    Column("day", Integer, nullable=False),  # local day observed
    Column("price_raw", Float, nullable=False),
    Column("unit_raw", String(16), nullable=False),
    Column("price", Float, nullable=False),  # yuan/kg
    Column("sold_kg", Float),
    Column("produced_kg", Float),
    Column("imported_by", String(96), nullable=False),
    Column("imported_at", BigInteger, nullable=False),
    UniqueConstraint("product_code", "market_code", "coop_name", "day"),
)

# --- lists people imported (migration 0014, issue 7) ------------------------------------------------
# Every applied import of the Three-Lists-in-One writes here, through the same door, the whole city's
# lists as they stood after it (JSON: sheet -> rows, every reference a code, as the export writes them).
# The lists tables themselves are rebuilt by the generator on every `seed`; the rebuild then lays the
# latest import back over them (queries/lists_io.reapply_latest), so what people edited survives.
lists_import = Table(
    "lists_import",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dept_code", String(48)),  # the department whose slice the file replaced; NULL = the city
    Column("rows", Text, nullable=False),
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
)

# Named nested-model sets (user data, migration 0018): which regressors enter which model, saved by a
# leader or analyst through the door and reloaded on the factor page. `dataset` is "township" or an
# imported dataset's id; `models` is JSON, a list of models, each a list of column names.
factor_model_set = Table(
    "factor_model_set",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(96), nullable=False, unique=True),
    Column("dataset", String(32), nullable=False),
    Column("y", String(64), nullable=False),
    Column("models", Text, nullable=False),
    Column("created_by", String(96), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# --- 3D twin, hand-drawn hazards and imported buildings (migration 0017, issue 11) ------------------------
# Where each twin community lies on the earth: its local origin (x = y = 0) in WGS-84 and the extent of its
# plane, so an imported footprint is matched to a community by its centroid. Made by the twin generator part.
twin_frame = Table(
    "twin_frame",
    metadata,
    Column("community_code", BigInteger, ForeignKey("community.code"), primary_key=True),
    Column("lon0", Float, nullable=False),
    Column("lat0", Float, nullable=False),
    Column("width_m", Float, nullable=False),
    Column("height_m", Float, nullable=False),
)

# Hazard areas drawn by hand on the twin page (user data, written only through queries/audit.py's door).
twin_hazard = Table(
    "twin_hazard",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_code", BigInteger, nullable=False, index=True),
    Column("name", String(96), nullable=False),
    Column("kind", String(16), nullable=False),  # flood | fire | landslide (queries/twin_hazards.py KINDS)
    Column("area", Text, nullable=False),  # JSON ring [[x, y], ...] in the community's metres, not closed
    Column("created_by", String(96), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("community_code", "name"),
)

# Real building footprints imported with `command-center import buildings` (user data: a rebuild keeps
# them). A community with imported buildings shows those instead of its generated ones (queries/twin.py).
twin_import_building = Table(
    "twin_import_building",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_code", BigInteger, nullable=False, index=True),
    Column("footprint", Text, nullable=False),  # JSON ring [[x, y], ...] in the community's metres
    Column("cx", Float, nullable=False),
    Column("cy", Float, nullable=False),
    Column("floors", SmallInteger, nullable=False),
    Column("height_m", Float, nullable=False),
    Column("year_built", SmallInteger, nullable=False),
    Column("structure", String(16), nullable=False),
    Column("condition", SmallInteger, nullable=False),
    Column("households", Integer, nullable=False),
    Column("residents", Integer, nullable=False),
    Column("residents_65", Integer, nullable=False),
    Column("source", String(255), nullable=False),  # file, layer, feature id, and what was assumed
    Column("imported_at", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
)

# --- closed-loop cases (migration 0012, issue 8): cases, their event logs and the loop's rollups ------
# Made by the generator part queries/generate/cases.py and changed afterwards only through the write door
# (queries/case_actions.py), which keeps case_rollup and case_rollup_dur exact with queries.loop.rollup_move.
# Times are epoch seconds; every due time is already counted in working time on the official calendar
# (queries/worktime.py), so "overdue" is a plain comparison with the clock.
case_item = Table(
    "case_item",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("channel", String(16), nullable=False),  # hotline | photo | grid | iot | pool_alert
    Column("problem_id", SmallInteger, ForeignKey("lists_problem.id"), nullable=False, index=True),
    Column("township_code", Integer, nullable=False),
    Column("community_code", BigInteger),
    Column("grid_id", Integer),
    Column("lon", Float),
    Column("lat", Float),
    Column("dept_id", SmallInteger, nullable=False, index=True),  # responsible department (lists)
    Column("person_id", Integer),  # accountable person (responsibility list)
    Column("case_class", String(12), nullable=False),  # enquiry | help | complaint | report | alarm
    Column("opened_at", BigInteger, nullable=False),
    Column("sign_due_at", BigInteger, nullable=False),
    Column("signed_at", BigInteger),
    Column("close_due_at", BigInteger, nullable=False),  # includes approved deferrals
    Column("closed_at", BigInteger),
    # when the case entered each later stage (NULL = never); the stage-duration figures read these
    Column("analysis_at", BigInteger),
    Column("response_at", BigInteger),
    Column("evaluation_at", BigInteger),
    Column("feedback_at", BigInteger),
    Column("optimization_at", BigInteger),
    Column(
        "stage", String(16), nullable=False
    ),  # monitoring | analysis | response | evaluation | feedback | optimization | closed
    Column("emergency", Boolean, nullable=False),
    Column("reopen_count", SmallInteger, nullable=False),
    Column("transfer_count", SmallInteger, nullable=False),
    Column("dept_count", SmallInteger, nullable=False),  # distinct departments the case has been with
    Column("has_lead", Boolean, nullable=False),  # a lead department was named for a multi-department case
    Column("deferred_s", Integer, nullable=False),  # approved deferral, working seconds
    Column("return_visit", Boolean, nullable=False),
    Column("satisfaction", String(12)),  # NULL | satisfied | basic | dissatisfied
    Column("priority", Float),
    Column("priority_model", String(32)),
    Column("row_version", Integer, nullable=False, server_default="1"),
    Index("ix_case_item_opened_at", "opened_at"),
    Index("ix_case_item_closed_at", "closed_at"),
)

case_event = Table(
    "case_event",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False, index=True),
    Column("at", BigInteger, nullable=False),
    Column(
        "kind", String(16), nullable=False
    ),  # open | sign | advance | transfer | defer_request | defer_decision | evaluate | feedback |
    # return_visit | reopen | escalate | emergency_skip | close
    Column("from_stage", String(16)),
    Column("to_stage", String(16)),
    Column("from_dept", SmallInteger),
    Column("to_dept", SmallInteger),
    Column("person_id", Integer),
    Column("user_id", Integer),  # NULL for generated events
    Column("note", Text),
    Column("detail", Text),  # JSON
)

# The loop view's counts: one row per township x department x problem type x open month (local, yyyymm)
# x case class x channel x stage x emergency, each measure a count of the cases in that cell. Maintained
# by queries.loop.rollup_move on every change, rebuilt from case_item by queries.loop.rebuild_rollup.
case_rollup = Table(
    "case_rollup",
    metadata,
    Column("township_code", Integer, nullable=False),
    Column("dept_id", SmallInteger, nullable=False),
    Column("problem_id", SmallInteger, nullable=False),
    Column("month", Integer, nullable=False),
    Column("case_class", String(12), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("emergency", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
    Column("n_signed", Integer, nullable=False),
    Column("n_signed_on_time", Integer, nullable=False),
    Column("n_responded", Integer, nullable=False),
    Column("n_evaluated", Integer, nullable=False),
    Column("n_fed_back", Integer, nullable=False),
    Column("n_optimized", Integer, nullable=False),
    Column("n_closed", Integer, nullable=False),
    Column("n_closed_on_time", Integer, nullable=False),
    Column("n_deferred", Integer, nullable=False),  # any approved deferral
    Column("n_deferred_open", Integer, nullable=False),  # approved deferral, not closed yet
    Column("n_return_visit", Integer, nullable=False),
    Column("n_satisfied", Integer, nullable=False),
    Column("n_basic", Integer, nullable=False),
    Column("n_dissatisfied", Integer, nullable=False),
    Column("n_reopened", Integer, nullable=False),
    Column("n_transferred", Integer, nullable=False),
    Column("n_escalate", Integer, nullable=False),
    Index("ix_case_rollup_month", "month"),
    UniqueConstraint(
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

# Stage durations in working hours, bucketed (queries.loop.DURATION_EDGES), for the distributions.
case_rollup_dur = Table(
    "case_rollup_dur",
    metadata,
    Column("township_code", Integer, nullable=False),
    Column("dept_id", SmallInteger, nullable=False),
    Column("month", Integer, nullable=False),
    Column("stage", String(16), nullable=False),  # the stage the time was spent in
    Column("bucket", SmallInteger, nullable=False),
    Column("n", Integer, nullable=False),
    UniqueConstraint("township_code", "dept_id", "month", "stage", "bucket", name="uq_case_rollup_dur_key"),
)

# Ground truth: the failures the generator injected, so tests check the loop view finds them exactly.
seed_case_defect = Table(
    "seed_case_defect",
    metadata,
    Column("case_id", BigInteger, nullable=False, index=True),
    Column(
        "defect", String(16), nullable=False
    ),  # never_evaluated | never_fed_back | stuck | ping_pong | hotspot | overdue_sign | overdue_close
)

CASE_TABLES = (case_item, case_event, case_rollup, case_rollup_dur, seed_case_defect)

# --- case actions, appeals and optimization (migration 0013, issue 8): user data --------------------
# Appeals against a case's priority score or routing, due in 7 working days (queries/appeals.py), and
# optimization actions opened against recurring hotspots (queries/optimization.py). Written only through
# the write door. No foreign key to case_item: cases are generated and rebuilt with the same ids by a
# seed, while these rows are carried across rebuilds.
case_appeal = Table(
    "case_appeal",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", BigInteger, nullable=False, index=True),
    Column("decision_type", String(12), nullable=False),  # priority | routing
    Column("filed_at", BigInteger, nullable=False),
    Column("filed_by", String(96), nullable=False),
    Column("reason", Text, nullable=False),
    Column("due_on", Date, nullable=False),  # 7 working days after the local filing day
    Column("decision", Text),  # JSON: the decision appealed (score, model version, department) as it stood
    Column("status", String(12), nullable=False),  # open | upheld | corrected
    Column("decided_at", BigInteger),
    Column("decided_by", String(96)),
    Column("outcome_note", Text),
    Column("correction", Text),  # JSON: what a correction changed
)

optimization_action = Table(
    "optimization_action",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("problem_id", SmallInteger, nullable=False),
    Column("community_code", BigInteger, nullable=False),
    Column("township_code", Integer, nullable=False),
    Column("title", String(128), nullable=False),
    Column("note", Text),
    Column("window_days", SmallInteger, nullable=False),  # before/after window for the effect
    Column("opened_at", BigInteger, nullable=False),
    Column("opened_by", String(96), nullable=False),
    Column("status", String(8), nullable=False),  # open | done
    Column("closed_at", BigInteger),
    Column("closed_by", String(96)),
    Column("close_note", Text),
    Index("ix_optimization_action_hotspot", "problem_id", "community_code"),
)

# --- what each table is to a rebuild (`seed`); a test holds every table to exactly one of these -----
# Reference data: replaced in place by primary key, so rows that user data points at stay put.
REFERENCE_TABLES = (
    pool_meta,
    county,
    township,
    community,
    grid_cell,
    department,
    person,
    module,
    source_system,
    record_type,
)
# Made by the generator (or an importer): emptied and rebuilt by every load. Generator parts declare
# their own tables in queries/generate/parts.py.
GENERATED_TABLES = (record, rollup_daily, seed_defect, seed_defect_daily, seed_incident)
# Written by people: never rebuilt, carried across every rebuild on SQLite and PostgreSQL alike, and
# written only through queries.engine.write(). In dependency order (a table after those it points at).
# Later capabilities add theirs here: the responsibility log, quarantine, tokens, lists, cases, ...
USER_DATA_TABLES = (
    app_user,
    login_event,
    audit_log,
    source_token,
    ingest_batch,
    quarantine,
    data_owner,
    price_decision,
    township_boundary,
    twin_scenario,
    twin_hazard,
    twin_import_building,
    factor_dataset,
    factor_value,
    divide_indicator_import,
    divide_counter_edit,
    price_import,
    lists_import,
    factor_model_set,
    case_appeal,
    optimization_action,
)

# --- Three-Lists-in-One (migration 0007): problem, process, data and responsibility lists -----------
# Made by the generator part queries/generate/lists.py (rebuilt by every load, like the records) and
# replaced through the write door by a department's list import. Time limits are working hours
# (one working day = 8 h), so a step's and its problem type's limits compare directly.
lists_problem = Table(
    "lists_problem",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(48), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
    Column(
        "channel", String(16), nullable=False
    ),  # hotline | photo | grid | iot | petition | border | quality
    Column("severity", SmallInteger, nullable=False),  # 1 low, 2 medium, 3 high
    Column("yearly_volume", Integer, nullable=False),  # expected cases a year
    Column("limit_hours", Integer, nullable=False),  # the whole loop's time limit, working hours
    Column(
        "owner_dept_id", SmallInteger, ForeignKey("department.id"), nullable=False
    ),  # answers for the type
    Column("module_id", SmallInteger, ForeignKey("module.id")),  # the sub-platform it mostly concerns
)

lists_step = Table(
    "lists_step",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("problem_id", SmallInteger, ForeignKey("lists_problem.id"), nullable=False, index=True),
    Column("seq", SmallInteger, nullable=False),  # order within the problem type's process
    Column("code", String(64), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
    Column(
        "stage", String(16), nullable=False
    ),  # monitoring | analysis | response | evaluation | feedback | optimization
    Column("decision", Boolean, nullable=False),  # a decision point (branching) rather than a plain step
    Column("limit_hours", Integer, nullable=False),  # working hours
    UniqueConstraint("problem_id", "seq"),
)

lists_data_item = Table(
    "lists_data_item",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(96), nullable=False),
    Column("kind", String(12), nullable=False),  # item | indicator
    Column("module_id", SmallInteger, ForeignKey("module.id"), nullable=False),
    Column("source_id", SmallInteger, ForeignKey("source_system.id"), nullable=False),
    Column("owner_dept_id", SmallInteger, ForeignKey("department.id")),  # NULL = nobody owns it (a gap)
    Column("classification", SmallInteger, nullable=False),  # 0 public, 1 sensitive, 2 core
    Column("refresh", String(12), nullable=False),  # realtime | hourly | daily | weekly | monthly
)

lists_step_data = Table(
    "lists_step_data",
    metadata,
    Column("step_id", Integer, ForeignKey("lists_step.id"), primary_key=True),
    Column("item_id", SmallInteger, ForeignKey("lists_data_item.id"), primary_key=True, index=True),
)

lists_duty = Table(
    "lists_duty",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("dept_id", SmallInteger, ForeignKey("department.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False),  # the accountable person
    Column("name_zh", String(96), nullable=False),
    Column("name_en", String(128), nullable=False),
)

lists_step_duty = Table(
    "lists_step_duty",
    metadata,
    Column("step_id", Integer, ForeignKey("lists_step.id"), primary_key=True),
    Column("duty_id", Integer, ForeignKey("lists_duty.id"), primary_key=True, index=True),
    Column("role", String(8), nullable=False),  # lead | support
)

# The data-permission list: a sensitive or core item may be used by its owner and the departments
# granted it here; a public item by anyone.
lists_data_grant = Table(
    "lists_data_grant",
    metadata,
    Column("item_id", SmallInteger, ForeignKey("lists_data_item.id"), primary_key=True),
    Column("dept_id", SmallInteger, ForeignKey("department.id"), primary_key=True),
)

# Ground truth of the synthetic lists: every gap the generator injected, so tests check the finder.
lists_seed_gap = Table(
    "lists_seed_gap",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("problem_id", SmallInteger),
    Column("step_id", Integer),
    Column("item_id", SmallInteger),
    Column("dept_id", SmallInteger),  # the department that needs the item (permission gaps)
)

LISTS_TABLES = (
    lists_problem,
    lists_step,
    lists_data_item,
    lists_step_data,
    lists_duty,
    lists_step_duty,
    lists_data_grant,
    lists_seed_gap,
)
