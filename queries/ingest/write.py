"""The writer behind the ingestion API, the file import and the quarantine release: one batch of one
source system lands through the write door, in one transaction, with its quarantine, its batch row, its
responsibility-log entry, the rollups of the days it touches and a new data version.

    with audit.write(actor) as tx:
        result = land(tx, source_code="traffic_platform", rows=frame, channel="api")

Idempotent on (source, business key): a key this source already delivered is a `duplicate` and is not
added again, and a batch that adds nothing (every row already there, or the very same payload sent
before) is a `replay` that writes no data but is still logged, so a retry is traced to whoever sent it.

Ingested records take ids from INGEST_ID_BASE up, a range the generator never reaches, so a rebuild
(`command-center seed`) can tell them from generated rows and carry them across.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ARRAY, BigInteger, Connection, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from queries import audit, meta
from queries import engine as eng
from queries.ingest.reasons import REASONS, Reason, reason_table
from queries.ingest.reference import Reference, load_reference
from queries.ingest.validate import RECORD_COLUMNS, BatchResult, frame_from_rows, validate_batch
from queries.rollups import DAILY_COLUMNS, DAILY_KEYS
from queries.tables import ingest_batch, quarantine, record, rollup_daily, source_system
from queries.timebase import LATE_SECONDS, TZ, day_start

INGEST_ID_BASE = 2**40  # generated records are numbered 1..n (n < 10**8); ingested ones from here
# pg_advisory_xact_lock key ("ingest" in ASCII): one writer at a time looks keys up and numbers rows
PG_LOCK_KEY = 0x696E67657374
CHANNELS = ("api", "file", "release")

# Not a quarantine reason (a duplicate is not refused data, it is data already in): the answer's words.
DUPLICATE = Reason(
    "duplicate",
    "本来源已提交过该业务主键, 未重复入库",
    "This source already delivered this business key; it was not added again",
)
WORDS: dict[str, Reason] = {**REASONS, DUPLICATE.code: DUPLICATE}

OUTCOME_SCHEMA = {
    "row": pl.Int64,
    "record_key": pl.Int64,
    "outcome": pl.String,
    "reasons": pl.List(pl.String),
    "record_id": pl.Int64,
}


class IngestError(ValueError):
    """A batch that cannot be taken at all (unknown source, release of rows not held): zh and en."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class LandResult:
    batch_id: int | None  # None on a dry run or a replay that wrote nothing
    n_rows: int
    n_accepted: int
    n_duplicate: int  # already in the pool for this source, or twice in the batch
    n_quarantined: int
    replay: bool  # every row was already in the pool: the batch adds nothing
    outcomes: pl.DataFrame  # row, record_key, outcome, reasons (list[str]), record_id (null unless accepted)

    def reason_counts(self) -> pl.DataFrame:
        """reason, n, zh, en over every row that was not accepted (duplicates included)."""
        return reason_table(self.outcomes, WORDS)

    def message(self, lang: str = "zh") -> str:
        if self.replay and self.n_duplicate == self.n_rows:
            zh = f"重复提交: 本批 {self.n_rows} 行均已入库, 未写入任何数据"
            en = f"Replay: all {self.n_rows} rows were already in the pool; nothing was written"
        elif self.replay:
            zh = f"重复提交: 本批次此前已收到 ({self.n_quarantined} 行当时已隔离), 未写入任何数据"
            en = (
                f"Replay: this batch was received before ({self.n_quarantined} rows were quarantined then); "
                "nothing was written"
            )
        else:
            zh = (
                f"共 {self.n_rows} 行: 入库 {self.n_accepted}, 重复 {self.n_duplicate}, "
                f"隔离 {self.n_quarantined}"
            )
            en = (
                f"{self.n_rows} rows: {self.n_accepted} accepted, {self.n_duplicate} duplicate, "
                f"{self.n_quarantined} quarantined"
            )
        return en if lang == "en" else zh

    def answer(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON the API returns: counts, the replay flag, and every row's outcome with its reasons in
        both languages (`message` in the language asked for)."""
        rows = [
            {
                "row": r["row"],
                "record_key": r["record_key"],
                "outcome": r["outcome"],
                "reasons": [{"code": c, "zh": WORDS[c].zh, "en": WORDS[c].en} for c in r["reasons"]],
                "record_id": r["record_id"],
            }
            for r in self.outcomes.iter_rows(named=True)
        ]
        return {
            "batch_id": self.batch_id,
            "replay": self.replay,
            "message": self.message(lang),
            "counts": {
                "rows": self.n_rows,
                "accepted": self.n_accepted,
                "duplicate": self.n_duplicate,
                "quarantined": self.n_quarantined,
            },
            "reasons": self.reason_counts().to_dicts(),
            "rows": rows,
        }


def payload_digest(rows: pl.DataFrame) -> str:
    """SHA-256 of the rows as sent (columns, then the values as CSV): the same batch sent twice has
    the same digest, which is how a retried batch with quarantined rows is told apart from a new one."""
    h = hashlib.sha256(json.dumps(rows.columns, ensure_ascii=False).encode())
    h.update(rows.write_csv(include_header=False).encode())
    return h.hexdigest()


def _keys_present(conn: Connection, *, source_ids: Sequence[int], keys: pl.Series) -> set[int]:
    """Which of `keys` the pool already holds for any of `source_ids` (index ix_record_source_id_record_key).

    The keys go in as one bound parameter (a JSON array read by json_each on SQLite, a BIGINT[] on
    PostgreSQL): an IN list of 50,000 bound values cost more to compile than to run."""
    values = keys.drop_nulls().unique().sort()
    ids = [int(s) for s in source_ids]
    if values.len() == 0 or not ids:
        return set()
    if conn.dialect.name == "postgresql":
        wanted: Any = any_(bindparam("keys", values.to_list(), type_=ARRAY(BigInteger)))
        cond = record.c.record_key == wanted
    else:
        listed = func.json_each(bindparam("keys", json.dumps(values.to_list()))).table_valued("value")
        cond = record.c.record_key.in_(select(listed.c.value))
    q = select(record.c.record_key).where(record.c.source_id.in_(ids), cond)
    return {int(k) for (k,) in conn.execute(q)}


def _classify(
    conn: Connection, *, source_id: int, checked: pl.DataFrame, records: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validation's outcomes turned into the writer's: rows whose key this source already delivered,
    or whose only fault is a repeat within the batch, are `duplicate`. Returns (outcomes, new records)."""
    present = _keys_present(conn, source_ids=[source_id], keys=records["record_key"])
    dup_in_pool = records.filter(pl.col("record_key").is_in(list(present)))["row"]
    c = pl.col
    outcomes = checked.with_columns(
        outcome=pl.when(c("row").is_in(dup_in_pool.implode()))
        .then(pl.lit("duplicate"))
        .when(
            (c("outcome") == "quarantined")
            & (c("reasons").list.len() == 1)
            & (c("reasons").list.first() == "duplicate_in_batch")
        )
        .then(pl.lit("duplicate"))
        .otherwise(c("outcome")),
    ).with_columns(
        reasons=pl.when(c("row").is_in(dup_in_pool.implode()))
        .then(pl.lit([DUPLICATE.code], dtype=pl.List(pl.String)))
        .otherwise(c("reasons"))
    )
    fresh = records.filter(~pl.col("row").is_in(dup_in_pool.implode()))
    return outcomes, fresh


def _validate(*, source_code: str, rows: pl.DataFrame, ref: Reference, now: int) -> tuple[int, BatchResult]:
    """Validation alone (no key lookup, nothing read on the writer's connection): (source id, checked)."""
    src = ref.source(source_code)
    if src is None:
        codes = ", ".join(sorted(ref.sources))
        raise IngestError(
            f"来源系统 {source_code!r} 未登记; 已登记: {codes}",
            f"no source system {source_code!r}; sources: {codes}",
        )
    first = day_start(meta.pool_status().first_day)
    return src.id, validate_batch(rows, source_code=source_code, ref=ref, now=now, pool_first_ts=first)


def _lookup(conn: Connection, *, source_id: int, checked: BatchResult) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The key lookup of _classify on validation's output: (outcomes with record_id still null, records)."""
    return _classify(
        conn,
        source_id=source_id,
        checked=checked.outcomes.select("row", "record_key", "outcome", "reasons"),
        records=checked.records,
    )


def _result(batch_id: int | None, outcomes: pl.DataFrame, replay: bool) -> LandResult:
    counts = outcomes["outcome"].value_counts()
    n = dict(zip(counts["outcome"].to_list(), counts["count"].to_list(), strict=True))
    return LandResult(
        batch_id=batch_id,
        n_rows=outcomes.height,
        n_accepted=int(n.get("accepted", 0)),
        n_duplicate=int(n.get("duplicate", 0)),
        n_quarantined=int(n.get("quarantined", 0)),
        replay=replay,
        outcomes=outcomes.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA),  # type: ignore[arg-type]
    )


def dry_run(*, source_code: str, rows: pl.DataFrame, now: int | None = None) -> LandResult:
    """What land() would answer, without writing anything (the import's --dry-run)."""
    source_id, checked = _validate(source_code=source_code, rows=rows, ref=load_reference(), now=_now(now))
    with eng.connect() as conn:
        outcomes, _ = _lookup(conn, source_id=source_id, checked=checked)
    outcomes = outcomes.with_columns(record_id=pl.lit(None, pl.Int64))
    replay = outcomes.height > 0 and bool((outcomes["outcome"] == "duplicate").all())
    return _result(None, outcomes, replay)


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else int(now)


def land(
    tx: audit.Tx,
    *,
    source_code: str,
    rows: pl.DataFrame,
    channel: str,
    filename: str | None = None,
    now: int | None = None,
) -> LandResult:
    """Validate one batch of one source and land it in the transaction `tx` holds (see the module
    docstring). Raises IngestError for an unknown source or channel, MalformedBatch (from validation)
    for a frame without the required columns; row-level faults never raise."""
    return _land(tx, source_code=source_code, rows=rows, channel=channel, filename=filename, now=_now(now))


def _land(
    tx: audit.Tx,
    *,
    source_code: str,
    rows: pl.DataFrame,
    channel: str,
    filename: str | None,
    now: int,
    held: pl.Series | None = None,
) -> LandResult:
    """land(); for a release, `held` gives each row's quarantine id (its rows are quarantined already,
    so a row that still fails is not held a second time, and no payload is a replay of another)."""
    if channel not in CHANNELS:
        raise IngestError(f"未知的通道 {channel!r}", f"unknown channel {channel!r}; channels: {CHANNELS}")
    conn = tx.conn
    # Validation (the bulk of a batch's CPU time) and the payload digest read nothing the writer
    # changes, so they run before the write lock: concurrent clients validate side by side and queue
    # only for the lookup and the inserts. Nothing has run on `conn` yet, so on SQLite no
    # transaction (no lock) is open until exclusive() (a release took it already, for _held).
    ref = load_reference()
    source_id, checked = _validate(source_code=source_code, rows=rows, ref=ref, now=now)
    digest = payload_digest(rows)
    # one ingesting writer at a time: key lookups and the id range never interleave with another's, so
    # the keys are looked up only under the lock (a key landed by a writer that held it just before
    # us is a duplicate here, never a second copy)
    eng.exclusive(conn, PG_LOCK_KEY)
    outcomes, fresh = _lookup(conn, source_id=source_id, checked=checked)
    seen = None
    if held is None:
        seen = conn.execute(
            select(ingest_batch.c.id)
            .where(ingest_batch.c.source_id == source_id, ingest_batch.c.payload_digest == digest)
            .order_by(ingest_batch.c.id)
            .limit(1)
        ).scalar()
    all_dup = outcomes.height > 0 and bool((outcomes["outcome"] == "duplicate").all())
    if fresh.height == 0 and held is not None:
        # a release where nothing passes (or everything is in already): no batch; release() logs it
        return _result(None, outcomes.with_columns(record_id=pl.lit(None, pl.Int64)), all_dup)
    if fresh.height == 0 and (all_dup or seen is not None):
        # a replay: the rows are in already (or were quarantined the first time): nothing to write
        outcomes = outcomes.with_columns(record_id=pl.lit(None, pl.Int64))
        result = _result(None, outcomes, True)
        tx.log(
            "ingest.replay",
            "ingest_batch",
            seen,
            detail={"source": source_code, "channel": channel, "rows": result.n_rows, "digest": digest},
        )
        return result

    first_id = _next_id(conn) if fresh.height else None
    fresh = fresh.with_columns(
        id=pl.int_range(0, fresh.height, dtype=pl.Int64) + (first_id or 0)
    )  # contiguous: the batch row names its range
    ids = fresh.select("row", pl.col("id").alias("record_id"))
    outcomes = outcomes.join(ids, on="row", how="left", maintain_order="left")
    n_q = int((outcomes["outcome"] == "quarantined").sum())
    batch_id = int(
        conn.execute(
            insert(ingest_batch).values(
                source_id=source_id,
                channel=channel,
                actor=tx.actor.username[:96],
                received_at=now,
                payload_digest=digest,
                filename=None if filename is None else filename[-255:],
                n_rows=outcomes.height,
                n_accepted=fresh.height,
                n_duplicate=int((outcomes["outcome"] == "duplicate").sum()),
                n_quarantined=0 if held is not None else n_q,
                first_record_id=first_id,
                last_record_id=None if first_id is None else first_id + fresh.height - 1,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    if fresh.height:
        _insert_records(conn, fresh.select("id", *RECORD_COLUMNS))
    if held is None and n_q:
        _insert_quarantine(
            conn, batch_id=batch_id, source_id=source_id, rows=rows, outcomes=outcomes, now=now
        )
    result = _result(batch_id, outcomes, False)
    if fresh.height:
        add_to_rollups(conn, fresh, ref=ref)
        meta.move_version(
            conn,
            domain="records",
            records_added=fresh.height,
            newest_received=int(fresh["received_at"].max()),  # type: ignore[arg-type]
        )
    tx.log(
        "ingest.batch",
        "ingest_batch",
        batch_id,
        after={"digest": digest, "first_record_id": first_id, "accepted": fresh.height},
        detail={
            "source": source_code,
            "channel": channel,
            "rows": result.n_rows,
            "accepted": result.n_accepted,
            "duplicate": result.n_duplicate,
            "quarantined": result.n_quarantined,
            "digest": digest,
        },
    )
    return result


def _next_id(conn: Connection) -> int:
    top = conn.execute(select(func.max(record.c.id)).where(record.c.id >= INGEST_ID_BASE)).scalar()
    return INGEST_ID_BASE if top is None else int(top) + 1


def _insert_records(conn: Connection, frame: pl.DataFrame) -> None:
    names = list(frame.columns)
    if conn.dialect.name == "sqlite":
        # the raw cursor skips a dict per row: on a million-row import that is most of the insert's time
        raw = conn.connection.driver_connection
        big = frame.height > 10_000
        if big:
            # for this insert only (the connection goes back to the engine's pool afterwards): the
            # default 2 MB page cache makes every insert into the three indexes of a full pool's
            # record table a disk read
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        sql = f"INSERT INTO record ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        # rows zipped from whole columns: half the cost of iter_rows() on a 50,000-row chunk
        rows = zip(*(frame[c].to_list() for c in names), strict=True)
        try:
            raw.cursor().executemany(sql, rows)  # type: ignore[union-attr]
        finally:
            if big:
                conn.exec_driver_sql("PRAGMA cache_size=-2000")  # SQLite's default, for the next user
        return
    conn.execute(insert(record), frame.to_dicts())


def _insert_quarantine(
    conn: Connection,
    *,
    batch_id: int,
    source_id: int,
    rows: pl.DataFrame,
    outcomes: pl.DataFrame,
    now: int,
) -> None:
    held = outcomes.filter(pl.col("outcome") == "quarantined")
    raw = rows[held["row"].to_list()]
    keys = raw["record_key"].cast(pl.String, strict=False).to_list()
    # a BIGINT key is no rowid alias in SQLite (no autoincrement there): numbered here, under the ingest lock
    top = conn.execute(select(func.coalesce(func.max(quarantine.c.id), 0))).scalar_one()
    conn.execute(
        insert(quarantine),
        [
            {
                "id": int(top) + 1 + i,
                "batch_id": batch_id,
                "source_id": source_id,
                "row_no": int(row_no),
                "record_key": None if key is None else str(key)[:64],
                "reasons": json.dumps(reasons, ensure_ascii=False),
                "raw": audit.canonical(values),
                "at": now,
                "status": "held",
            }
            for i, (row_no, reasons, key, values) in enumerate(
                zip(
                    held["row"].to_list(),
                    held["reasons"].to_list(),
                    keys,
                    raw.iter_rows(named=True),
                    strict=True,
                )
            )
        ],
    )


def add_to_rollups(conn: Connection, fresh: pl.DataFrame, *, ref: Reference) -> None:
    """Add the new records to rollup_daily, cell by cell, for the days they touch only.

    refresh_daily(since_day=...) recomputes every day from the batch's oldest one: a batch with one
    old row costs a scan of the whole pool. Adding the batch's own sums is exact for every measure
    but one: `n_dup` counts a new row as the later copy of a key another source holds, which is what
    the ordering by arrival says unless a source backdates received_at before the other copy's (a
    rebuild recounts those exactly). The other copies are looked for in the sources of the same module,
    where the pool's cross-department copies live (public security and civil affairs both feed the
    community module): a key lookup in all 30 sources cost a third of a million-row import."""
    sid, mid = int(fresh["source_id"][0]), int(fresh["module_id"][0])
    others = [s.id for s in ref.sources.values() if s.id != sid and s.module_id == mid]
    shared = _keys_present(conn, source_ids=others, keys=fresh["record_key"])
    c = pl.col
    delta = (
        fresh.with_columns(
            day=((c("occurred_at") + TZ) // 86400).cast(pl.Int64),
            dup=c("record_key").is_in(list(shared)),
        )
        .group_by(DAILY_KEYS)
        .agg(
            pl.len().alias("n"),
            ((c("received_at") - c("occurred_at")) > LATE_SECONDS).sum().alias("n_late"),
            (c("community_code").is_null() | c("amount").is_null()).sum().alias("n_missing"),
            c("dup").sum().alias("n_dup"),
            (c("area_code_raw") != c("township_code").cast(pl.String)).sum().alias("n_badcode"),
            c("qty").sum().alias("sum_qty"),
            c("amount").sum().fill_null(0.0).alias("sum_amount"),
            c("received_at").max().alias("max_received_at"),
        )
        .select(DAILY_COLUMNS)
        .with_columns(c(n).cast(pl.Int64) for n in DAILY_COLUMNS[:11])
    )
    stmt: Any = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(rollup_daily)
    ex = stmt.excluded
    r = rollup_daily.c
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "township_code", "day", "classification"],
        set_={
            **{name: r[name] + ex[name] for name in DAILY_COLUMNS[6:13]},
            "max_received_at": func.max(r.max_received_at, ex.max_received_at)
            if conn.dialect.name == "sqlite"
            else func.greatest(r.max_received_at, ex.max_received_at),
        },
    )
    conn.execute(stmt, delta.to_dicts())


# --- the quarantine: release after correction, or discard ---------------------------------------------


def _held(conn: Connection, ids: Sequence[int]) -> pl.DataFrame:
    want = sorted({int(i) for i in ids})
    if not want:
        raise IngestError("未选择隔离行", "no quarantined rows were chosen")
    q = (
        select(quarantine.c.id, quarantine.c.status, quarantine.c.raw, source_system.c.code.label("source"))
        .join(source_system, source_system.c.id == quarantine.c.source_id)
        .where(quarantine.c.id.in_(want))
        .order_by(quarantine.c.id)
    )
    found = pl.DataFrame(
        [tuple(r) for r in conn.execute(q)],
        schema={"id": pl.Int64, "status": pl.String, "raw": pl.String, "source": pl.String},
        orient="row",
    )
    missing = sorted(set(want) - set(found["id"].to_list()))
    if missing:
        raise IngestError(f"隔离行不存在: {missing}", f"no quarantined rows with ids {missing}")
    done = found.filter(pl.col("status") != "held")
    if done.height:
        listed = ", ".join(f"{i} ({s})" for i, s in done.select("id", "status").iter_rows())
        raise IngestError(
            f"只有待处理 (held) 的隔离行可以处理; 这些已处理: {listed}",
            f"only rows still held can be released or discarded; these are not: {listed}",
        )
    return found


def release(
    tx: audit.Tx, *, quarantine_ids: Sequence[int], corrections: Mapping[int, Mapping[str, Any]]
) -> LandResult:
    """Validate the held rows again with `corrections` (quarantine id -> {column: new value}) applied;
    what now passes lands as one batch of channel "release" and its rows are marked released. Rows
    still failing stay held; their outcome carries the new reasons. Outcome `row` is the position in
    `quarantine_ids` order (sorted ids); raises IngestError for rows not held or of several sources."""
    conn = tx.conn
    # one ingesting writer at a time: key lookups and the id range never interleave with another's
    eng.exclusive(conn, PG_LOCK_KEY)
    held = _held(conn, quarantine_ids)
    sources = held["source"].unique().to_list()
    if len(sources) != 1:
        raise IngestError(
            f"一次只能放行一个来源系统的行, 收到 {sorted(sources)}",
            f"release rows of one source system at a time; got {sorted(sources)}",
        )
    fixed = []
    for qid, raw in held.select("id", "raw").iter_rows():
        row = json.loads(raw)
        row.update({str(k): v for k, v in corrections.get(int(qid), {}).items()})
        fixed.append(row)
    result = _land(
        tx,
        source_code=sources[0],
        rows=frame_from_rows(fixed),
        channel="release",
        filename=None,
        now=int(time.time()),
        held=held["id"],
    )
    ids = held["id"].to_list()
    passed = [
        ids[i]
        for i, o in zip(result.outcomes["row"], result.outcomes["outcome"], strict=True)
        if o != "quarantined"
    ]
    if passed:
        conn.execute(
            update(quarantine)
            .where(quarantine.c.id.in_(passed))
            .values(
                status="released",
                resolved_at=int(time.time()),
                resolved_by=tx.actor.username[:96],
                resolved_batch_id=result.batch_id,
            )
        )
    tx.log(
        "quarantine.release",
        "quarantine",
        ",".join(str(i) for i in passed)[:128] or None,
        detail={
            "source": sources[0],
            "asked": len(ids),
            "released": len(passed),
            "still_held": len(ids) - len(passed),
            "batch_id": result.batch_id,
            "corrected": sorted(int(k) for k in corrections),
        },
    )
    return result


def discard(tx: audit.Tx, *, quarantine_ids: Sequence[int], note: str) -> int:
    """Mark held rows discarded (kept, never deleted: the quarantine is evidence). Returns how many."""
    note = note.strip()
    if not note:
        raise IngestError("请说明丢弃的理由", "say why the rows are discarded (a note)")
    held = _held(tx.conn, quarantine_ids)
    ids = held["id"].to_list()
    tx.conn.execute(
        update(quarantine)
        .where(quarantine.c.id.in_(ids))
        .values(status="discarded", resolved_at=int(time.time()), resolved_by=tx.actor.username[:96])
    )
    tx.log(
        "quarantine.discard",
        "quarantine",
        ",".join(str(i) for i in ids)[:128],
        detail={"rows": len(ids), "sources": sorted(set(held["source"].to_list())), "note": note[:200]},
    )
    return len(ids)
