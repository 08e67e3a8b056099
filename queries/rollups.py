"""Rollups maintained at load time, in SQL, so the generator and a later importer share one path."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Label,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
)

from queries.tables import record, rollup_daily
from queries.timebase import LATE_SECONDS, TZ

DAILY_KEYS = ["module_id", "source_id", "dept_id", "township_code", "day", "classification"]
DAILY_COLUMNS = [
    *DAILY_KEYS,
    "n",
    "n_late",
    "n_missing",
    "n_dup",
    "n_badcode",
    "sum_qty",
    "sum_amount",
    "max_received_at",
]


def local_day(ts_col: ColumnElement[Any]) -> ColumnElement[int]:
    """Local (UTC+8) day number of an epoch-seconds column; integer division on both dialects.

    `//`, not `/`: SQLAlchemy 2 renders `/` of two integers as true division on PostgreSQL, and the
    cast back to INTEGER then rounds, putting every afternoon record on the next day."""
    return cast((ts_col + literal(TZ)) // literal(86400), Integer)


def refresh_daily(conn: Connection, *, since_day: int | None = None) -> int:
    """Rebuild rollup_daily (from `since_day` on, or all). Returns rows written."""
    r = record
    ranked = select(
        r,
        func.row_number().over(partition_by=r.c.record_key, order_by=(r.c.received_at, r.c.id)).label("rn"),
    )
    if since_day is not None:
        ranked = ranked.where(r.c.occurred_at >= since_day * 86400 - TZ)
    sub = ranked.subquery()
    day = local_day(sub.c.occurred_at).label("day")

    def n_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    query = select(
        sub.c.module_id,
        sub.c.source_id,
        sub.c.dept_id,
        sub.c.township_code,
        day,
        sub.c.classification,
        func.count(),
        n_if(sub.c.received_at - sub.c.occurred_at > LATE_SECONDS),
        n_if(or_(sub.c.community_code.is_(None), sub.c.amount.is_(None))),
        n_if(sub.c.rn > 1),
        n_if(sub.c.area_code_raw != cast(sub.c.township_code, String)),
        func.sum(sub.c.qty),
        func.coalesce(func.sum(sub.c.amount), 0.0),
        func.max(sub.c.received_at),
    ).group_by(
        sub.c.module_id, sub.c.source_id, sub.c.dept_id, sub.c.township_code, day, sub.c.classification
    )
    if since_day is None:
        conn.execute(delete(rollup_daily))
    else:
        conn.execute(delete(rollup_daily).where(rollup_daily.c.day >= since_day))
    result = conn.execute(rollup_daily.insert().from_select(DAILY_COLUMNS, query))
    return int(result.rowcount or 0)


def compute_daily(frame: pl.DataFrame) -> pl.DataFrame:
    """The same rollup as refresh_daily(), computed in polars from a frame of records being loaded.

    The bulk loader uses this (seconds instead of minutes for 7M rows in SQLite); tests hold it
    equal to the SQL version, which stays the path for incremental refreshes.
    """
    first = (
        frame.select("id", "record_key", "received_at")
        .sort("record_key", "received_at", "id")
        .with_columns(pl.col("record_key").is_first_distinct().alias("first"))
        .select("id", "first")
    )
    f = frame.join(first, on="id", how="left").with_columns(
        ((pl.col("occurred_at") + TZ) // 86400).cast(pl.Int64).alias("day")
    )
    c = pl.col
    return (
        f.group_by(DAILY_KEYS)
        .agg(
            pl.len().alias("n"),
            ((c("received_at") - c("occurred_at")) > LATE_SECONDS).sum().alias("n_late"),
            (c("community_code").is_null() | c("amount").is_null()).sum().alias("n_missing"),
            (~c("first")).sum().alias("n_dup"),
            (c("area_code_raw") != c("township_code").cast(pl.String)).sum().alias("n_badcode"),
            c("qty").sum().alias("sum_qty"),
            c("amount").sum().fill_null(0.0).alias("sum_amount"),
            c("received_at").max().alias("max_received_at"),
        )
        .select(DAILY_COLUMNS)
        .with_columns(pl.col(n).cast(pl.Int64) for n in DAILY_COLUMNS[:11])
        .sort("source_id", "township_code", "day", "classification")
    )


def write_daily(conn: Connection, daily: pl.DataFrame) -> int:
    conn.execute(delete(rollup_daily))
    rows = daily.to_dicts()
    for lo in range(0, len(rows), 50_000):
        conn.execute(rollup_daily.insert(), rows[lo : lo + 50_000])
    return len(rows)


def measure_sums(r: Table = rollup_daily) -> list[Label[Any]]:
    """SUM of the rollup's count and defect columns, labelled as the columns are (for GROUP BY queries)."""
    return [
        func.sum(getattr(r.c, name)).label(name)
        for name in ("n", "n_late", "n_missing", "n_dup", "n_badcode")
    ]
