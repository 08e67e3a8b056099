"""The pool's schema in one place (SQLAlchemy Core). Alembic migrations must match it (tests check)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
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
GENERATED_TABLES = (record, rollup_daily, seed_defect, seed_incident)
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
    factor_dataset,
    factor_value,
)
