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
    twin_scenario,
)
