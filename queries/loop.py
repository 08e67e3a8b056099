"""The closed loop's reads and its rollups (issue 8): KPIs, funnel, stage durations, the two SLA clocks,
overdue lists, rankings, hotspots and map points, all scoped through the viewer.

SLA (one county's 12345 rule): sign for a case within 2 working hours; close enquiries in 1 working day,
help requests in 5, complaints in 10 (reports 5, alarms 1). Due times are stored already counted in working
time (queries/worktime.py), with approved deferrals added to the close due time.

KPIs over the cases opened in a period (exact formulas; numerator and denominator are shown on hover):
- closure rate = closed / (due - deferred), where due = cases opened in the period and deferred = cases
  with an approved deferral that are still open (a deferral takes a case out of what is due now);
- on-time closure rate = closed by the close due time / (due - deferred);
- return-visit coverage = closed cases with a return visit / closed cases (target >= 10%);
- satisfaction = (satisfied + basically satisfied) / return visits with an answer;
- evaluation rate = evaluated / responded; feedback rate = fed back / evaluated (the paper's failure:
  "emphasizing response, neglecting evaluation and weak feedback");
- escalation: reopened 3 times, or passed between 3 departments with no lead.

The counts come from `case_rollup` (maintained by `rollup_move` in the same transaction as every change),
never from a scan of the event log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, and_, delete, insert, select, update

from queries.tables import case_item, case_rollup, case_rollup_dur
from queries.timebase import TZ
from queries.worktime import HOUR, clock_around


@dataclass(frozen=True)
class SlaLimit:
    sign_hours: int  # working hours to sign for the case
    close_days: int  # working days (8 working hours each) to close it


SLA_LIMITS: dict[str, SlaLimit] = {
    "enquiry": SlaLimit(2, 1),
    "help": SlaLimit(2, 5),
    "complaint": SlaLimit(2, 10),
    "report": SlaLimit(2, 5),
    "alarm": SlaLimit(2, 1),
}
CASE_CLASSES = tuple(SLA_LIMITS)
CHANNELS = ("hotline", "photo", "grid", "iot", "pool_alert")
STAGES = ("monitoring", "analysis", "response", "evaluation", "feedback", "optimization", "closed")
SATISFACTION = ("satisfied", "basic", "dissatisfied")
STALL_DAYS = 30  # a case this many days in one stage has stopped there (the funnel's "stopped" counts)
HOTSPOT_DAYS = 30  # recurring hotspot: one problem type in one community within this many days ...
HOTSPOT_MIN = 5  # ... at least this many cases
ESCALATE_REOPENS = 3
ESCALATE_DEPTS = 3
RETURN_VISIT_TARGET = 0.10
# stage-duration buckets, upper edges in working hours (the last bucket is open-ended)
DURATION_EDGES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 40.0, 80.0)
# (stage, column it starts at, column it ends at) for the durations
_SPANS = (
    ("monitoring", "opened_at", "signed_at"),
    ("analysis", "analysis_at", "response_at"),
    ("response", "response_at", "evaluation_at"),
    ("evaluation", "evaluation_at", "feedback_at"),
    ("feedback", "feedback_at", "closed_at"),
)

KEYS = ("township_code", "dept_id", "problem_id", "month", "case_class", "channel", "stage", "emergency")
DUR_KEYS = ("township_code", "dept_id", "problem_id", "month", "stage", "bucket")
COUNTS = tuple(c.name for c in case_rollup.columns if c.name.startswith("n"))
CASE_COLUMNS = tuple(c.name for c in case_item.columns)


def _i(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int32)


def contributions(cases: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What each case adds to case_rollup and case_rollup_dur (one row per case; durations long)."""
    month = pl.from_epoch(pl.col("opened_at") + TZ, time_unit="s")
    f = cases.with_columns(
        (month.dt.year().cast(pl.Int32) * 100 + month.dt.month().cast(pl.Int32)).alias("month"),
        pl.col("emergency").cast(pl.Boolean),
        pl.col("return_visit").cast(pl.Boolean),
        pl.col("has_lead").cast(pl.Boolean),
    )
    closed = pl.col("closed_at").is_not_null()
    measures = f.select(
        *[pl.col(k) for k in KEYS],
        pl.lit(1, pl.Int32).alias("n"),
        _i("signed_at").is_not_null().cast(pl.Int32).alias("n_signed"),
        (pl.col("signed_at") <= pl.col("sign_due_at"))
        .fill_null(False)
        .cast(pl.Int32)
        .alias("n_signed_on_time"),
        pl.col("response_at").is_not_null().cast(pl.Int32).alias("n_responded"),
        pl.col("evaluation_at").is_not_null().cast(pl.Int32).alias("n_evaluated"),
        pl.col("feedback_at").is_not_null().cast(pl.Int32).alias("n_fed_back"),
        pl.col("optimization_at").is_not_null().cast(pl.Int32).alias("n_optimized"),
        closed.cast(pl.Int32).alias("n_closed"),
        (pl.col("closed_at") <= pl.col("close_due_at"))
        .fill_null(False)
        .cast(pl.Int32)
        .alias("n_closed_on_time"),
        (pl.col("deferred_s") > 0).cast(pl.Int32).alias("n_deferred"),
        ((pl.col("deferred_s") > 0) & ~closed).cast(pl.Int32).alias("n_deferred_open"),
        pl.col("return_visit").cast(pl.Int32).alias("n_return_visit"),
        (pl.col("satisfaction") == "satisfied").fill_null(False).cast(pl.Int32).alias("n_satisfied"),
        (pl.col("satisfaction") == "basic").fill_null(False).cast(pl.Int32).alias("n_basic"),
        (pl.col("satisfaction") == "dissatisfied").fill_null(False).cast(pl.Int32).alias("n_dissatisfied"),
        (pl.col("reopen_count") > 0).cast(pl.Int32).alias("n_reopened"),
        (pl.col("transfer_count") > 0).cast(pl.Int32).alias("n_transferred"),
        (
            (pl.col("reopen_count") >= ESCALATE_REOPENS)
            | ((pl.col("dept_count") >= ESCALATE_DEPTS) & ~pl.col("has_lead"))
        )
        .cast(pl.Int32)
        .alias("n_escalate"),
    )
    parts = []
    for stage, a, b in _SPANS:
        s = f.filter(pl.col(a).is_not_null() & pl.col(b).is_not_null()).select(
            *[pl.col(k) for k in DUR_KEYS if k not in ("stage", "bucket")],
            pl.lit(stage).alias("stage"),
            pl.col(a).alias("a"),
            pl.col(b).alias("b"),
        )
        parts.append(s)
    spans = pl.concat(parts) if parts else pl.DataFrame()
    if spans.height:
        start = spans["a"].to_numpy().astype(np.int64)
        stop = np.maximum(spans["b"].to_numpy().astype(np.int64), start)
        clock = clock_around(int(start.min()), int(stop.max()))
        hours = clock.between(start, stop) / HOUR
        bucket = np.searchsorted(np.array(DURATION_EDGES), hours, side="left").astype(np.int16)
        spans = spans.with_columns(
            pl.Series("bucket", bucket, dtype=pl.Int16), pl.lit(1, pl.Int32).alias("n")
        )
        durs = spans.select(*DUR_KEYS, "n")
    else:
        durs = pl.DataFrame(schema={**{k: pl.Int64 for k in DUR_KEYS}, "stage": pl.String, "n": pl.Int32})
    return measures, durs


def _grouped(measures: pl.DataFrame, durs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    roll = measures.group_by(list(KEYS)).agg([pl.col(c).sum() for c in COUNTS])
    dur = durs.group_by(list(DUR_KEYS)).agg(pl.col("n").sum())
    return roll, dur


def recount(conn: Connection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rollups as they should be, counted afresh from case_item (rebuilds and tests)."""
    cases = pl.DataFrame(
        [dict(r._mapping) for r in conn.execute(select(case_item))],
        schema=_case_schema(),
        orient="row",
    )
    return _grouped(*contributions(cases))


def _case_schema() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in case_item.columns:
        t = c.type.python_type
        out[c.name] = (
            pl.Boolean if t is bool else pl.Float64 if t is float else pl.String if t is str else pl.Int64
        )
    return out


def rebuild_rollup(conn: Connection) -> None:
    """Empty and refill both rollups from case_item, in the caller's transaction."""
    from queries.generate.cases import bulk  # the generator's bulk loader; no cycle at import time

    roll, dur = recount(conn)
    conn.execute(delete(case_rollup))
    conn.execute(delete(case_rollup_dur))
    if roll.height:
        bulk(conn, case_rollup, roll)
    if dur.height:
        bulk(conn, case_rollup_dur, dur)


def _frame(rows: list[Mapping[str, Any]]) -> pl.DataFrame:
    schema = _case_schema()
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")


def rollup_move(conn: Connection, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    """Apply the change of one case_item row (its columns before and after; None = absent) to both
    rollups, in the caller's transaction. Cells that fall to zero are removed, so the rollups always
    equal a recount from case_item."""
    sides = [(r, s) for r, s in ((before, -1), (after, 1)) if r is not None]
    if not sides:
        return
    measures, _ = contributions(_frame([r for r, _ in sides]))
    signs = [s for _, s in sides]
    m = measures.with_columns(pl.Series("_s", signs, dtype=pl.Int32))
    roll = m.group_by(list(KEYS)).agg([(pl.col(c) * pl.col("_s")).sum() for c in COUNTS])
    _apply(conn, case_rollup, KEYS, COUNTS, roll)
    # durations: before's spans count -1, after's +1 (row order follows the frame's)
    dur_parts = []
    if before is not None:
        dur_parts.append(contributions(_frame([before]))[1].with_columns(pl.col("n") * -1))
    if after is not None:
        dur_parts.append(contributions(_frame([after]))[1])
    dur = pl.concat(dur_parts).group_by(list(DUR_KEYS)).agg(pl.col("n").sum())
    _apply(conn, case_rollup_dur, DUR_KEYS, ("n",), dur)


def _apply(
    conn: Connection, table: Any, keys: tuple[str, ...], counts: tuple[str, ...], delta: pl.DataFrame
) -> None:
    for row in delta.iter_rows(named=True):
        if not any(row[c] for c in counts):
            continue
        where = and_(*[table.c[k] == row[k] for k in keys])
        res = conn.execute(update(table).where(where).values({c: table.c[c] + int(row[c]) for c in counts}))
        if res.rowcount == 0:
            conn.execute(
                insert(table).values({**{k: row[k] for k in keys}, **{c: int(row[c]) for c in counts}})
            )
        conn.execute(delete(table).where(where, table.c["n"] <= 0))
