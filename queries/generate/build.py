"""Build a whole pool: reference data, records, injected defects and incidents, rollups, data version.

A pool is never half-written: SQLite is built into a temporary file and swapped in with one rename;
PostgreSQL is loaded inside one transaction. Accounts already in the pool are kept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, delete, insert, inspect, select, text
from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from queries import audit, lists_io, meta, owners, price_import, rollups, schema
from queries import calendar as cal
from queries.engine import SUPERSEDED_KEY, make_engine, sqlite_path
from queries.generate import parts
from queries.generate import reference as ref
from queries.generate.records import COLUMNS, build_geo, duplicate, synthesize
from queries.ingest.write import INGEST_ID_BASE
from queries.ingest.write import PG_LOCK_KEY as INGEST_LOCK_KEY
from queries.meta import DUE_KEY, PENDING
from queries.tables import (
    GENERATED_TABLES,
    USER_DATA_TABLES,
    app_user,
    community,
    county,
    department,
    grid_cell,
    module,
    person,
    pool_meta,
    record,
    record_type,
    seed_defect,
    seed_defect_daily,
    seed_incident,
    source_system,
    township,
)
from queries.timebase import DAY, TZ, local_day_of
from queries.users import create_user, user_exists

GENERATOR_VERSION = "1"


@dataclass(frozen=True)
class Scale:
    records: int  # original records before cross-department duplicates
    days: int


SCALES = {
    "test": Scale(60_000, 120),
    "demo": Scale(1_000_000, 400),
    "full": Scale(7_000_000, 730),
}
# A grown pool (`records` above the scale's) is generated and written in chunks of at most this many
# records, so the builder's memory stays that of one full pool however large the pool grows.
CHUNK_RECORDS = 7_000_000
RECORD_KEYS_PER_CHUNK = 10**10  # each chunk's business keys start this far past the previous chunk's
MAX_RECORDS = 10**8  # generated ids stay far below INGEST_ID_BASE (queries/ingest/write.py)


@dataclass
class BuildReport:
    url: str
    scale: str
    seed: int
    records: int = 0
    defects: dict[str, int] = field(default_factory=dict)
    incidents: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    as_of: int = 0
    calendar_gaps: list[int] = field(default_factory=list)
    demo_users: list[tuple[str, str, str]] = field(default_factory=list)
    kept_users: int = 0
    kept_records: int = 0  # ingested (API, import) records carried from the pool being replaced


class BuildError(RuntimeError):
    pass


# --- generation ----------------------------------------------------------------------------------


@dataclass
class Generated:
    cols: dict[str, np.ndarray]
    defects: dict[str, np.ndarray]
    incidents: list[dict[str, Any]]
    calendar_gaps: list[int]


def generate(
    scale: Scale,
    seed: int,
    end_ts: int,
    tick: Callable[[str], None] = lambda s: None,
    *,
    chunk: int = 0,
) -> Generated:
    """One pool's records (chunk 0), or one more chunk of a grown pool (`chunk` > 0): the same geography
    (drawn from `seed`, as reference_rows() draws it), its own random stream from there on, record keys
    of its own (RECORD_KEYS_PER_CHUNK apart), and only the outage applied (the spike is chunk 0's)."""
    rng = np.random.default_rng(seed)
    towns = ref.townships()
    vills = ref.villages()
    geo = build_geo(rng, towns, vills)
    if chunk:
        rng = np.random.default_rng([seed, chunk])
    end_day = local_day_of(end_ts)
    days = np.arange(end_day - scale.days + 1, end_day + 1, dtype=np.int64)
    kinds, gaps = cal.day_kinds(days)
    srcs = ref.sources()
    src_id = {s.code: sid for sid, _, s in srcs}
    src_dept = {sid: s.dept_id for sid, _, s in srcs}
    type_ids = _type_ids()
    parts = []
    key_base = 1_000_000_000 + chunk * RECORD_KEYS_PER_CHUNK
    for m in ref.MODULES:
        tick(f"{m.code}")
        n = round(scale.records * m.share)
        ids = [src_id[s.code] for s in m.sources]
        batch = synthesize(
            rng, m, n, geo, towns, ids, src_dept, type_ids[m.id], days, kinds, end_ts, key_base
        )
        key_base += n
        parts.append(batch)
        for mod_code, a, b, rate in ref.DUPLICATION:
            if mod_code == m.code:
                to = next(s for s in m.sources if s.code == b)
                parts.append(
                    duplicate(rng, batch, src_id[a], src_id[b], to.dept_id, to.classes, rate, end_ts)
                )
    cols = {c: np.concatenate([p.cols[c] for p in parts]) for c in COLUMNS}
    dup = np.concatenate([np.full(len(p.cols["module_id"]), p.is_duplicate) for p in parts])
    defects = {d: np.concatenate([p.defects[d] for p in parts]) for d in ("missing", "badcode", "late")}
    defects["duplicate"] = dup
    cols, defects, incidents = _incidents(
        rng, cols, defects, geo, end_ts, src_id, type_ids, key_base, spike=chunk == 0
    )
    order = np.argsort(cols["received_at"], kind="stable")  # ids follow arrival order, as in a real pool
    cols = {k: v[order] for k, v in cols.items()}
    defects = {k: v[order] for k, v in defects.items()}
    return Generated(cols, defects, incidents, gaps)


def _type_ids() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    tid = 0
    for m in ref.MODULES:
        out[m.id] = []
        for _ in m.types:
            tid += 1
            out[m.id].append(tid)
    return out


def _incidents(
    rng: np.random.Generator,
    cols: dict[str, np.ndarray],
    defects: dict[str, np.ndarray],
    geo: Any,
    end_ts: int,
    src_id: dict[str, int],
    type_ids: dict[int, list[int]],
    key_base: int,
    *,
    spike: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[dict[str, Any]]]:
    """Two things an operator must see: a module that stopped delivering, and a local spike (`spike`
    False: the outage only, for a grown pool's later chunks: one spike per pool)."""
    mods = ref.module_by_code()
    incidents: list[dict[str, Any]] = []
    # 1. Logistics platform outage: nothing received for the last 9 hours.
    outage_from = end_ts - 9 * 3600
    logistics = mods["logistics"].id
    keep = ~((cols["module_id"] == logistics) & (cols["received_at"] > outage_from))
    cols = {k: v[keep] for k, v in cols.items()}
    defects = {k: v[keep] for k, v in defects.items()}
    incidents.append(
        dict(
            kind="outage",
            module_id=logistics,
            township_code=None,
            start_at=outage_from,
            end_at=end_ts,
            note_zh="县乡村物流平台接口中断, 9 小时无数据",
            note_en="Logistics platform API down: no data for 9 hours",
        )
    )
    if not spike:
        return cols, defects, incidents
    # 2. A burst of hotline requests in Caoba (a water-supply failure), the last 6 hours.
    comm = mods["community"]
    caoba = 532503102
    recent = (
        (cols["module_id"] == comm.id)
        & (cols["township_code"] == caoba)
        & (cols["occurred_at"] > end_ts - 28 * DAY)
    )
    n = max(40, int(5 * recent.sum() / 28))
    start = end_ts - 6 * 3600
    occurred = rng.integers(start, end_ts - 600, n)
    t_idx = int(np.where(geo.township_codes == caoba)[0][0])
    comms = np.where(geo.comm_township_idx == t_idx)[0]
    ci = rng.choice(comms, n)
    extra = {
        "module_id": np.full(n, comm.id, dtype=np.int64),
        "source_id": np.full(n, src_id["community_governance"], dtype=np.int64),
        "dept_id": np.full(n, 2, dtype=np.int64),
        "type_id": np.full(n, type_ids[comm.id][2], dtype=np.int64),  # 热线诉求
        "township_code": np.full(n, caoba, dtype=np.int64),
        "community_code": geo.comm_codes[ci].astype(float),
        "grid_id": (geo.grid_start[ci] + (rng.random(n) * geo.grid_count[ci]).astype(np.int64)).astype(float),
        "occurred_at": occurred.astype(np.int64),
        "received_at": (occurred + rng.integers(30, 600, n)).astype(np.int64),
        "classification": np.ones(n, dtype=np.int64),
        "qty": np.ones(n),
        "amount": np.round(rng.lognormal(3.0, 0.5, n), 2),
        "record_key": key_base + np.arange(n, dtype=np.int64),
        "area_code_raw": np.full(n, str(caoba), dtype=object),
    }
    cols = {k: np.concatenate([v, extra[k]]) for k, v in cols.items()}
    defects = {k: np.concatenate([v, np.zeros(n, bool)]) for k, v in defects.items()}
    incidents.append(
        dict(
            kind="spike",
            module_id=comm.id,
            township_code=caoba,
            start_at=start,
            end_at=end_ts,
            note_zh=f"草坝镇停水, 热线诉求激增 {n} 件",
            note_en=f"Water-supply failure in Caoba: {n} extra hotline requests",
        )
    )
    return cols, defects, incidents


# --- reference rows ------------------------------------------------------------------------------


def reference_rows(seed: int) -> dict[Any, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed + 1)
    towns = ref.townships()
    vills = ref.villages()
    geo = build_geo(np.random.default_rng(seed), towns, vills)  # same draws as generate(): same populations
    rows: dict[Any, list[dict[str, Any]]] = {}
    rows[county] = [dict(code=ref.COUNTY[0], name_zh=ref.COUNTY[1], name_en=ref.COUNTY[2])]
    rows[township] = [
        dict(
            code=t.code,
            county_code=ref.COUNTY[0],
            name_zh=t.name_zh,
            name_en=t.name_en,
            kind=t.kind,
            urban=t.urban,
            population=t.population,
            internet_rate=t.internet_rate,
            lat=t.lat,
            lon=t.lon,
        )
        for t in towns
    ]
    rows[community] = [
        dict(
            code=v.code,
            township_code=v.township_code,
            name_zh=v.name_zh,
            kind=v.kind,
            population=int(geo.comm_pop[i]),
        )
        for i, v in enumerate(vills)
    ]
    grids = []
    for i, v in enumerate(vills):
        for g in range(int(geo.grid_count[i])):
            grids.append(
                dict(
                    id=int(geo.grid_start[i]) + g,
                    community_code=v.code,
                    name_zh=f"{v.name_zh}第{g + 1}网格",
                    households=int(rng.integers(80, 400)),
                )
            )
    rows[grid_cell] = grids
    rows[department] = [dict(id=d[0], code=d[1], name_zh=d[2], name_en=d[3]) for d in ref.DEPARTMENTS]
    people = []
    pid = 0
    for d in ref.DEPARTMENTS:
        for title in ("局长", "分管副局长", "数据专员"):
            pid += 1
            people.append(
                dict(
                    id=pid,
                    name_zh=_name(rng),
                    department_id=d[0],
                    township_code=None,
                    title_zh=title,
                    phone_masked=f"1{rng.integers(30, 99)}****{rng.integers(1000, 9999)}",
                )
            )
    for t in towns:
        for title in ("党(工)委书记", "网格长"):
            pid += 1
            people.append(
                dict(
                    id=pid,
                    name_zh=_name(rng),
                    department_id=14,
                    township_code=t.code,
                    title_zh=title,
                    phone_masked=f"1{rng.integers(30, 99)}****{rng.integers(1000, 9999)}",
                )
            )
    rows[person] = people
    rows[module] = [
        dict(
            id=m.id,
            code=m.code,
            name_zh=m.name_zh,
            name_en=m.name_en,
            family=m.family,
            qty_label_zh=m.qty[0],
            qty_label_en=m.qty[1],
            qty_unit=m.qty[2],
            amount_label_zh=m.amount[0],
            amount_label_en=m.amount[1],
            amount_unit=m.amount[2],
        )
        for m in ref.MODULES
    ]
    rows[source_system] = [
        dict(
            id=sid,
            module_id=m.id,
            department_id=s.dept_id,
            code=s.code,
            name_zh=s.name_zh,
            name_en=s.name_en,
            delivery=s.delivery,
        )
        for sid, m, s in ref.sources()
    ]
    types = []
    tid = 0
    for m in ref.MODULES:
        for zh, en, _ in m.types:
            tid += 1
            types.append(dict(id=tid, module_id=m.id, name_zh=zh, name_en=en))
    rows[record_type] = types
    return rows


def _name(rng: np.random.Generator) -> str:
    s = ref.SURNAMES[int(rng.integers(len(ref.SURNAMES)))]
    g = "".join(ref.GIVEN[int(rng.integers(len(ref.GIVEN)))] for _ in range(int(rng.integers(1, 3))))
    return s + g


# --- writing -------------------------------------------------------------------------------------

CHUNK = 250_000


def records_frame(cols: dict[str, np.ndarray], first_id: int = 1) -> pl.DataFrame:
    """Generated records as one frame, ids first_id.. in arrival order; NaN becomes NULL."""
    n = len(cols["module_id"])
    data: dict[str, Any] = {"id": np.arange(first_id, first_id + n, dtype=np.int64)}
    for c in COLUMNS:
        v = cols[c]
        data[c] = pl.Series(c, v, nan_to_null=True) if v.dtype.kind == "f" else v
    frame = pl.DataFrame(data)
    return frame.with_columns(
        pl.col("community_code").cast(pl.Int64),
        pl.col("grid_id").cast(pl.Int64),
        pl.col("area_code_raw").cast(pl.String),
    )


def _write_records(conn: Connection, frame: pl.DataFrame, bar: tqdm) -> None:
    n = frame.height
    names = ["id", *COLUMNS]
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        copy_sql = f"COPY record ({', '.join(names)}) FROM STDIN (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for lo in range(0, n, CHUNK):
                hi = min(n, lo + CHUNK)
                buf = io.BytesIO()
                frame.slice(lo, hi - lo).write_csv(buf, include_header=False)
                copy.write(buf.getvalue())
                bar.update(hi - lo)
        return
    sql = f"INSERT INTO record ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cur = raw.cursor()  # type: ignore[union-attr]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        cur.executemany(sql, frame.slice(lo, hi - lo).iter_rows())
        bar.update(hi - lo)


TRUTH_KEYS = ["dept_id", "township_code", "classification", "day", "defect"]


def defects_daily(gen: Generated, frame: pl.DataFrame) -> pl.DataFrame:
    """The chunk's injected defects counted by TRUTH_KEYS (seed_defect_daily); `frame` holds the chunk's
    records in generated order (their first len(mask) rows)."""
    base = frame.head(len(next(iter(gen.defects.values())))) if gen.defects else frame.head(0)
    keys = base.select(
        "dept_id",
        "township_code",
        "classification",
        ((pl.col("occurred_at") + TZ) // DAY).cast(pl.Int64).alias("day"),
    )
    parts = [
        keys.filter(pl.Series(mask)).with_columns(pl.lit(name).alias("defect"))
        for name, mask in gen.defects.items()
    ]
    if not parts:
        return pl.DataFrame(
            schema={k: pl.Int64 for k in TRUTH_KEYS[:-1]} | {"defect": pl.String, "n": pl.Int64}
        )
    return _sum_truth(pl.concat(parts).with_columns(pl.lit(1, pl.Int64).alias("n")))


def _sum_truth(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by(TRUTH_KEYS).agg(pl.col("n").sum()).sort(TRUTH_KEYS)


def _write_defects(conn: Connection, gen: Generated, first_id: int = 1) -> dict[str, int]:
    counts = {}
    for name, mask in gen.defects.items():
        ids = (np.nonzero(mask)[0] + first_id).tolist()
        counts[name] = len(ids)
        for lo in range(0, len(ids), CHUNK):
            conn.execute(
                insert(seed_defect), [{"record_id": i, "defect": name} for i in ids[lo : lo + CHUNK]]
            )
    return counts


def _replace_reference(conn: Connection, rows: dict[Any, list[dict[str, Any]]]) -> None:
    """Upsert by primary key, so rows that accounts point at (departments, townships) stay in place."""
    for table, items in rows.items():
        pk = next(iter(table.primary_key.columns))
        existing = {r[0] for r in conn.execute(select(pk))}
        new = [r for r in items if r[pk.name] not in existing]
        old = [r for r in items if r[pk.name] in existing]
        if new:
            conn.execute(insert(table), new)
        for r in old:
            conn.execute(table.update().where(pk == r[pk.name]).values(**r))


def _meta(conn: Connection, values: dict[str, str]) -> None:
    # an ingest's pending version is older than the rebuild, which counts its records already
    gone = [*values, *PENDING.values(), DUE_KEY]
    conn.execute(delete(pool_meta).where(pool_meta.c.key.in_(gone)))
    conn.execute(insert(pool_meta), [{"key": k, "value": v} for k, v in values.items()])


def _demo_users(conn: Connection) -> list[tuple[str, str, str]]:
    """The demo accounts, logged on the responsibility chain of the file being built. On SQLite this runs
    after the old file's user data (the chain included) was copied in, so the entries extend that chain."""
    dept_ids = {d[1]: d[0] for d in ref.DEPARTMENTS}
    tx = audit.joined(conn, audit.Actor.cli())
    made = []
    for username, display, role, dept, town, password in ref.DEMO_USERS:
        if not user_exists(conn, username):
            create_user(
                tx,
                username=username,
                password=password,
                role=role,
                display_name=display,
                department_id=dept_ids.get(dept or ""),
                township_code=town,
            )
        made.append((username, password, role))
    return made


def _old_user_tables(conn: Connection) -> dict[str, list[str]]:
    """Columns of each user-data table the attached old pool has (an older pool may lack some)."""
    names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM old.sqlite_master WHERE type='table'")}
    out = {}
    for table in USER_DATA_TABLES:
        if table.name in names:
            cols = {r[1] for r in conn.exec_driver_sql(f"PRAGMA old.table_info({table.name})")}
            out[table.name] = [c.name for c in table.columns if c.name in cols]
    return out


def _ingested(conn: Connection, schema: pl.Schema, *, after: int = 0) -> pl.DataFrame:
    """Records that arrived by the API or an import (ids from INGEST_ID_BASE up): user data inside a
    generated table, carried across every rebuild. On PostgreSQL the ingest lock is taken first, so no
    batch lands between this read and the delete of the generated rows (writers wait for the build)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INGEST_LOCK_KEY})
    q = select(record).where(record.c.id >= max(INGEST_ID_BASE, after + 1)).order_by(record.c.id)
    result = conn.execute(q)
    frame = pl.DataFrame(result.all(), schema=list(result.keys()), orient="row", infer_schema_length=None)
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame.select(schema.names()).cast(dict(schema))  # type: ignore[arg-type]


def _max(frame: pl.DataFrame, column: str) -> int:
    return int(frame.select(pl.col(column).max().fill_null(0)).item())


def _ingested_from_file(old: Path, schema: pl.Schema) -> pl.DataFrame:
    """The ingested records of the SQLite pool being replaced (none when there is no such file)."""
    if not old.exists():
        return pl.DataFrame(schema=schema)
    engine = make_engine(f"sqlite:///{old}")
    try:
        with engine.connect() as conn:
            return _ingested(conn, schema)
    except OperationalError:  # an older pool without the record table: nothing was ingested there
        return pl.DataFrame(schema=schema)
    finally:
        engine.dispose()


def _reapply_lists(conn: Connection) -> None:
    """The lists people imported, back over the generated ones (queries/lists_io.reapply_latest)."""
    try:
        lists_io.reapply_latest(audit.joined(conn, audit.Actor.cli()))
    except lists_io.ReapplyError as exc:
        raise BuildError(str(exc)) from exc


def _swap_in_user_data(
    conn: Connection, old: Path, demo_users: bool, carried_to: int = 0
) -> tuple[int, list[tuple[str, str, str]]]:
    """Copy every user-data table from the pool file being replaced into the new one, as the last step.

    It holds the old file's write lock from the copy until the old file is marked superseded, so a
    write that landed before is copied and a write that waited for the lock is refused by
    engine.write() (it sees the mark) instead of vanishing with the old file. Returns (accounts carried,
    demo accounts).
    """
    carried = 0
    attached = old.exists()
    if attached:
        conn.exec_driver_sql("ATTACH DATABASE ? AS old", (str(old),))
        conn.commit()
    try:
        # IMMEDIATE takes the write lock of every attached database at once: from here on nobody
        # else writes the old pool, and what we copy is its final state.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        old_cols = _old_user_tables(conn) if attached else {}
        for table in reversed(USER_DATA_TABLES):
            conn.execute(delete(table))
        for table in USER_DATA_TABLES:
            cols = old_cols.get(table.name)
            if not cols:
                continue
            col_sql = ", ".join(cols)
            result = conn.exec_driver_sql(
                f"INSERT INTO main.{table.name} ({col_sql}) SELECT {col_sql} FROM old.{table.name}"
            )
            if table is app_user:
                carried = int(result.rowcount or 0)
        if attached:
            # records ingested into the old pool while this one was being built: in, and their days recounted
            names = ", ".join(c.name for c in record.columns)
            moved = conn.exec_driver_sql(
                f"INSERT INTO main.record ({names}) SELECT {names} FROM old.record WHERE id >= ?",
                (max(INGEST_ID_BASE, carried_to + 1),),
            )
            if moved.rowcount:
                first = conn.exec_driver_sql(
                    "SELECT MIN(occurred_at) FROM main.record WHERE id >= ?",
                    (max(INGEST_ID_BASE, carried_to + 1),),
                ).scalar()
                rollups.refresh_daily(conn, since_day=local_day_of(int(first or 0)))
        made = _demo_users(conn) if demo_users else []
        owners.appoint_defaults(audit.joined(conn, audit.Actor.cli()))
        price_import.reapply(conn)  # the imported prices, now carried, over the rebuilt series
        # the lists people imported win over the generator's (the import is user data, now in)
        _reapply_lists(conn)
        if attached and "pool_meta" in {
            r[0] for r in conn.exec_driver_sql("SELECT name FROM old.sqlite_master WHERE type='table'")
        }:
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO old.pool_meta (key, value) VALUES (?, ?)",
                (SUPERSEDED_KEY, str(int(time.time()))),
            )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        if attached:
            conn.exec_driver_sql("DETACH DATABASE old")
            conn.commit()
    return carried, made


def chunk_sizes(total: int, chunk_records: int = CHUNK_RECORDS) -> list[int]:
    """`total` records split into equal chunks of at most `chunk_records` (one chunk up to that)."""
    k = max(1, -(-total // max(1, chunk_records)))
    return [total // k + (1 if i < total % k else 0) for i in range(k)]


def _combine_daily(dailies: list[pl.DataFrame]) -> pl.DataFrame:
    """One rollup from the rollups of chunks (their record keys are disjoint, so duplicates stay inside
    a chunk): counts and sums add, the newest arrival is the largest."""
    if len(dailies) == 1:
        return dailies[0]
    c = pl.col
    return (
        pl.concat(dailies)
        .group_by(rollups.DAILY_KEYS)
        .agg(*(c(n).sum() for n in rollups.DAILY_COLUMNS[6:-1]), c("max_received_at").max())
        .select(rollups.DAILY_COLUMNS)
        .sort("source_id", "township_code", "day", "classification")
    )


def build_pool(
    url: str,
    *,
    scale: str = "demo",
    seed: int = 20261122,
    end: dt.datetime | None = None,
    progress: bool = True,
    demo_users: bool = False,
    records: int | None = None,
    chunk_records: int = CHUNK_RECORDS,
) -> BuildReport:
    """Build the pool at `url`. `records` (default: the scale's) grows or shrinks the pool over the same
    time window; above `chunk_records` the records are generated and written chunk by chunk."""
    if scale not in SCALES:
        raise BuildError(f"unknown scale {scale!r}; scales: {', '.join(SCALES)}")
    sc = SCALES[scale]
    if records is not None:
        if not 1_000 <= records <= MAX_RECORDS:
            raise BuildError(f"records must be between 1,000 and {MAX_RECORDS:,}; got {records:,}")
        sc = Scale(records, sc.days)
    sizes = chunk_sizes(sc.records, chunk_records) if records is not None else [sc.records]
    end_ts = int((end or dt.datetime.now(dt.UTC)).timestamp()) // 60 * 60
    report = BuildReport(url=url, scale=scale, seed=seed)
    t0 = time.perf_counter()
    bar = tqdm(
        total=sc.records,
        unit="rec",
        unit_scale=True,
        disable=not progress,
        file=sys.stderr,
        desc="generate",
        dynamic_ncols=True,
    )

    def tick_of(size: int) -> Callable[[str], None]:
        def tick(label: str) -> None:
            bar.set_postfix_str(label)
            bar.update(int(size * ref.module_by_code()[label].share))

        return tick

    # chunk 0 (the whole pool, unless it grows past one chunk) before the load transaction opens
    first = generate(Scale(sizes[0], sc.days), seed, end_ts, tick_of(sizes[0]))
    schema_ = records_frame({c: first.cols[c][:0] for c in COLUMNS}).schema
    gen0: Generated | None = first
    del first
    report.seconds["generate"] = time.perf_counter() - t0
    path = sqlite_path(url)
    target = path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path = path.with_name(f".{path.name}.building-{os.getpid()}")
        path.unlink(missing_ok=True)
        # created empty (a valid SQLite file) with owner-only access before anything sensitive is in it
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        url = f"sqlite:///{path}"
    # SQLite: the old file's ingested records now; any that land during the build are added at the swap
    carried = _ingested_from_file(target, schema_) if target is not None else pl.DataFrame(schema=schema_)
    engine = make_engine(url, timeout_ms=3_600_000, create=True)
    try:
        schema.upgrade(engine)
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA journal_mode=OFF")  # a temp file: the final rename is the commit
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-1000000")
                conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
                conn.commit()
            with conn.begin():
                _replace_reference(conn, reference_rows(seed))
            with conn.begin():
                if target is None:  # PostgreSQL: the pool itself, in this transaction
                    carried = _ingested(conn, schema_)
                for table in reversed((*GENERATED_TABLES, *parts.tables())):  # parts may point at records
                    conn.execute(delete(table))
                for ix in record.indexes:
                    conn.execute(text(f"DROP INDEX IF EXISTS {ix.name}"))
                report.kept_records = carried.height
                report.seconds.update(write=0.0, rollups=0.0)
                dailies: list[pl.DataFrame] = []
                truths: list[pl.DataFrame] = []  # seed_defect_daily, per chunk
                first_day = local_day_of(end_ts)
                generated = pl.DataFrame(schema=schema_)
                for i, size in enumerate(sizes):
                    # the chunks are written one after the other: memory holds chunk 0 (the parts
                    # build on it) and the chunk being written, however many chunks there are
                    if gen0 is not None:
                        gen, gen0 = gen0, None
                    else:
                        tg = time.perf_counter()
                        bar.reset(total=size)
                        bar.set_description(f"generate {i + 1}/{len(sizes)}")
                        gen = generate(Scale(size, sc.days), seed, end_ts, tick_of(size), chunk=i)
                        report.seconds["generate"] += time.perf_counter() - tg
                    tw = time.perf_counter()
                    first_id = report.records + 1
                    n = len(gen.cols["module_id"])
                    report.records += n
                    report.as_of = max(report.as_of, int(gen.cols["received_at"].max()))
                    first_day = min(first_day, local_day_of(int(gen.cols["occurred_at"].min())))
                    if i == 0:
                        report.calendar_gaps = gen.calendar_gaps
                        report.incidents = len(gen.incidents)
                        conn.execute(
                            insert(seed_incident),
                            [dict(id=k + 1, **inc) for k, inc in enumerate(gen.incidents)],
                        )
                    chunk_frame = records_frame(gen.cols, first_id)
                    if i == 0:
                        generated = chunk_frame
                        if carried.height:
                            chunk_frame = pl.concat([chunk_frame, carried])
                    bar.reset(total=chunk_frame.height)
                    bar.set_description(f"write {i + 1}/{len(sizes)}" if len(sizes) > 1 else "write")
                    _write_records(conn, chunk_frame, bar)
                    for name, count in _write_defects(conn, gen, first_id).items():
                        report.defects[name] = report.defects.get(name, 0) + count
                    truths.append(defects_daily(gen, chunk_frame))
                    report.seconds["write"] += time.perf_counter() - tw
                    tr = time.perf_counter()
                    dailies.append(rollups.compute_daily(chunk_frame))
                    report.seconds["rollups"] += time.perf_counter() - tr
                    del gen, chunk_frame
                bar.close()
                t2 = time.perf_counter()
                _progress(progress, "index")
                for ix in record.indexes:
                    ix.create(conn)
                report.seconds["index"] = time.perf_counter() - t2
                t3 = time.perf_counter()
                _progress(progress, "rollups")
                rows = rollups.write_daily(conn, _combine_daily(dailies))
                truth = _sum_truth(pl.concat(truths)) if truths else pl.DataFrame()
                for lo in range(0, truth.height, CHUNK):
                    conn.execute(insert(seed_defect_daily), truth.slice(lo, CHUNK).to_dicts())
                del dailies, truths
                report.seconds["rollups"] += time.perf_counter() - t3
                ctx = parts.BuildContext(
                    rng=np.random.default_rng(seed + 2),
                    scale=scale,
                    end_ts=end_ts,
                    first_day=first_day,
                    last_day=local_day_of(end_ts),
                    # parts build on the generator's rows (chunk 0 of a grown pool), not on ingested ones
                    records=generated,
                )
                for part in parts.registered():
                    t4 = time.perf_counter()
                    _progress(progress, f"part: {part.name}")
                    part.build(conn, ctx)
                    report.seconds[f"part:{part.name}"] = time.perf_counter() - t4
                del generated, ctx.records
                _progress(progress, f"rollups: {rows} rows; seed truth")
                if target is None:  # PostgreSQL: user tables were never touched
                    price_import.reapply(conn)  # imported prices over the rebuilt series
                    if demo_users:
                        report.demo_users = _demo_users(conn)
                    owners.appoint_defaults(audit.joined(conn, audit.Actor.cli()))
                    _reapply_lists(conn)
                _meta(
                    conn,
                    {
                        **meta.all_versions(meta.new_version()),
                        "built_at": str(int(time.time())),
                        "as_of": str(max(report.as_of, _max(carried, "received_at"))),
                        "scale": scale,
                        "seed": str(seed),
                        "records": str(report.records + carried.height),
                        "first_day": str(first_day),
                        "generator_version": GENERATOR_VERSION,
                        "calendar_gaps": json.dumps(report.calendar_gaps),
                        "defects": json.dumps(report.defects),
                        "parts": json.dumps([p.name for p in parts.registered()]),
                        **ctx.meta,
                    },
                )
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            if target is not None:
                # refuse to swap in a file that is not a sound database, before touching the old one
                if conn.exec_driver_sql("PRAGMA quick_check").scalar() != "ok":
                    raise BuildError(
                        "the new pool file failed SQLite's quick_check; the old pool is untouched"
                    )
                if target.exists():
                    _progress(progress, "user data: carrying accounts and audit from the pool being replaced")
                report.kept_users, report.demo_users = _swap_in_user_data(
                    conn, target, demo_users, carried_to=_max(carried, "id")
                )
    except BaseException:
        engine.dispose()
        if path is not None and target is not None and path != target:
            path.unlink(missing_ok=True)
        raise
    engine.dispose()
    if path is not None and target is not None:
        os.chmod(path, 0o600)  # the pool holds password hashes and sensitive records: owner only
        os.replace(path, target)
    report.seconds["total"] = time.perf_counter() - t0
    return report


def _progress(enabled: bool, text_: str) -> None:
    if enabled:
        print(f"  .. {text_}", file=sys.stderr, flush=True)


def inspect_tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


__all__ = ["SCALES", "TZ", "BuildError", "BuildReport", "build_pool", "generate"]
