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

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from queries import case_rules, meta
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope
from queries.tables import case_item, case_rollup, case_rollup_dur, community, lists_problem
from queries.timebase import DAY, TZ, to_local
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
STAGES = case_rules.STAGES  # the loop's stages, in order (one definition, in the rules)
SATISFACTION = ("satisfied", "basic", "dissatisfied")
STALL_DAYS = 30  # a case this many days in one stage has stopped there (the funnel's "stopped" counts)
HOTSPOT_DAYS = 30  # recurring hotspot: one problem type in one community within this many days ...
HOTSPOT_MIN = 5  # ... at least this many cases
HOTSPOT_IDS = 50  # case ids listed per hotspot (the first of its window)
PAIR_BASE = 10**12  # problem id x this + 12-digit community code: one integer per (problem, community)
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
# no problem type: the durations chart filters by scope, township and months only, and without it the
# rollup holds a quarter of the rows (a county-wide year: 50,000 instead of 200,000 on the full pool)
DUR_KEYS = ("township_code", "dept_id", "month", "stage", "bucket")
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
    dur = pl.concat(dur_parts, how="vertical_relaxed").group_by(list(DUR_KEYS)).agg(pl.col("n").sum())
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


# --- reads of the loop view ---------------------------------------------------------------------------


def month_of_ts(ts: int) -> int:
    """Local yyyymm of an epoch time."""
    d = to_local(ts)
    return d.year * 100 + d.month


def _cond(table: Table, scope: Scope, township_code: int | None) -> ColumnElement[bool]:
    """The viewer's rows (township for leaders, department for department heads) and the filter."""
    cond: ColumnElement[bool] = true()
    if scope.township_code is not None:
        cond = cond & (table.c.township_code == scope.township_code)
    if scope.department_id is not None:
        cond = cond & (table.c.dept_id == scope.department_id)
    if township_code is not None:
        cond = cond & (table.c.township_code == township_code)
    return cond


@cached(domains=("cases",))
def months() -> list[int]:
    """The open months (yyyymm) that hold cases, oldest first."""
    with eng.connect() as conn:
        q = select(case_rollup.c.month).distinct().order_by(case_rollup.c.month)
        return [int(r[0]) for r in conn.execute(q)]


@cached(domains=("cases",))
def totals(
    *, scope: Scope, month_from: int, month_to: int, township_code: int | None = None
) -> dict[str, int]:
    """Every rollup count summed over the cases opened in [month_from, month_to], in scope."""
    r = case_rollup
    q = select(*[func.coalesce(func.sum(r.c[c]), 0).label(c) for c in COUNTS]).where(
        _cond(r, scope, township_code), r.c.month.between(month_from, month_to)
    )
    with eng.connect() as conn:
        row = conn.execute(q).one()
    return {c: int(row._mapping[c]) for c in COUNTS}


@dataclass(frozen=True)
class Kpi:
    key: str
    zh: str
    en: str
    numerator: int
    denominator: int
    formula_zh: str
    formula_en: str
    target: float | None = None

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator > 0 else None


def kpis_of(t: Mapping[str, int]) -> list[Kpi]:
    """The loop's KPIs from summed counts (a pure function; the tests compute them by hand)."""
    due = t["n"] - t["n_deferred_open"]
    rated = t["n_satisfied"] + t["n_basic"] + t["n_dissatisfied"]
    return [
        Kpi(
            "closure",
            "办结率",
            "Closure rate",
            t["n_closed"],
            due,
            "办结数 / (应办结数 - 延期数)",
            "closed / (due - deferred)",
        ),
        Kpi(
            "on_time",
            "按时办结率",
            "On-time closure rate",
            t["n_closed_on_time"],
            due,
            "按时办结数 / (应办结数 - 延期数)",
            "closed on time / (due - deferred)",
        ),
        Kpi(
            "sign_on_time",
            "按时签收率",
            "On-time sign-for rate",
            t["n_signed_on_time"],
            t["n"],
            "2个工作小时内签收数 / 案件数",
            "signed within 2 working hours / cases",
        ),
        Kpi(
            "evaluation",
            "评估率",
            "Evaluation rate",
            t["n_evaluated"],
            t["n_responded"],
            "已评估数 / 已响应数",
            "evaluated / responded",
        ),
        Kpi(
            "feedback",
            "反馈率",
            "Feedback rate",
            t["n_fed_back"],
            t["n_evaluated"],
            "已反馈数 / 已评估数",
            "fed back / evaluated",
        ),
        Kpi(
            "return_visit",
            "回访覆盖率",
            "Return-visit coverage",
            t["n_return_visit"],
            t["n_closed"],
            "回访数 / 办结数 (目标 ≥ 10%)",
            "return visits / closed (target >= 10%)",
            RETURN_VISIT_TARGET,
        ),
        Kpi(
            "satisfaction",
            "满意率",
            "Satisfaction",
            t["n_satisfied"] + t["n_basic"],
            rated,
            "(满意 + 基本满意) / 回访评价数",
            "(satisfied + basically satisfied) / rated return visits",
        ),
        Kpi(
            "escalate",
            "应升级案件",
            "Cases to escalate",
            t["n_escalate"],
            t["n"],
            "重办≥3次或3个部门流转且无牵头 / 案件数",
            "reopened >= 3 times or passed between 3 departments with no lead / cases",
        ),
    ]


def kpis(*, scope: Scope, month_from: int, month_to: int, township_code: int | None = None) -> list[Kpi]:
    return kpis_of(totals(scope=scope, month_from=month_from, month_to=month_to, township_code=township_code))


FUNNEL = (
    ("n", "受理", "Opened"),
    ("n_signed", "签收", "Signed for"),
    ("n_responded", "响应", "Responded"),
    ("n_evaluated", "评估", "Evaluated"),
    ("n_fed_back", "反馈", "Fed back"),
    ("n_closed", "办结", "Closed"),
)

# where cases stop: (key, stage they sit in, the column they entered it at, the column never reached)
STOPS = (
    ("stuck", ("monitoring", "analysis"), "opened_at", "response_at"),
    ("never_evaluated", ("response",), "response_at", "evaluation_at"),
    ("never_fed_back", ("evaluation",), "evaluation_at", "feedback_at"),
)


@cached(domains=("cases",))
def stopped(
    *, scope: Scope, as_of: int, kind: str, month_from: int, month_to: int, township_code: int | None = None
) -> pl.DataFrame:
    """Open cases that have sat in a stage more than STALL_DAYS days without reaching the next (ids,
    problem, place, since), opened in the months, in scope."""
    spec = {k: (st, a, b) for k, st, a, b in STOPS}
    if kind not in spec:
        raise ValueError(f"unknown stop {kind!r}")
    stages, since, never = spec[kind]
    c = case_item
    lo, hi = _month_bounds(month_from, month_to)
    q = (
        select(c.c.id, c.c.problem_id, c.c.township_code, c.c.dept_id, c.c.stage, c.c[since].label("since"))
        .where(
            _cond(c, scope, township_code),
            c.c.closed_at.is_(None),
            c.c.stage.in_(stages),
            c.c[never].is_(None),
            c.c[since] < as_of - STALL_DAYS * DAY,
            c.c.opened_at >= lo,
            c.c.opened_at < hi,
        )
        .order_by(c.c.id)
    )
    return eng.read_frame(
        q,
        schema={
            "id": pl.Int64,
            "problem_id": pl.Int64,
            "township_code": pl.Int64,
            "dept_id": pl.Int64,
            "stage": pl.String,
            "since": pl.Int64,
        },
    )


def _month_bounds(month_from: int, month_to: int) -> tuple[int, int]:
    """Epoch seconds of local midnight starting month_from and the month after month_to."""
    y, m = divmod(month_to, 100)
    y2, m2 = (y + 1, 1) if m == 12 else (y, m + 1)
    a = dt.datetime(month_from // 100, month_from % 100, 1, tzinfo=dt.UTC).timestamp() - TZ
    b = dt.datetime(y2, m2, 1, tzinfo=dt.UTC).timestamp() - TZ
    return int(a), int(b)


def funnel(
    *, scope: Scope, as_of: int, month_from: int, month_to: int, township_code: int | None = None
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The stage funnel (counts reaching each stage, from the rollup) and where cases stopped."""
    t = totals(scope=scope, month_from=month_from, month_to=month_to, township_code=township_code)
    frame = pl.DataFrame(
        {
            "key": [k for k, _, _ in FUNNEL],
            "zh": [z for _, z, _ in FUNNEL],
            "en": [e for _, _, e in FUNNEL],
            "n": [t[k] for k, _, _ in FUNNEL],
        }
    )
    stops = {
        k: stopped(
            scope=scope,
            as_of=as_of,
            kind=k,
            month_from=month_from,
            month_to=month_to,
            township_code=township_code,
        ).height
        for k, _, _, _ in STOPS
    }
    hs = hotspots(scope=scope, month_from=month_from, month_to=month_to, township_code=township_code)
    stops["never_optimized"] = int((~hs["optimized"]).sum()) if hs.height else 0
    return frame, stops


@cached(domains=("cases",))
def stage_durations(
    *, scope: Scope, month_from: int, month_to: int, township_code: int | None = None
) -> pl.DataFrame:
    """Cases per stage and duration bucket (working hours, DURATION_EDGES), from the rollup."""
    d = case_rollup_dur
    q = (
        select(d.c.stage, d.c.bucket, func.sum(d.c.n).label("n"))
        .where(_cond(d, scope, township_code), d.c.month.between(month_from, month_to))
        .group_by(d.c.stage, d.c.bucket)
    )
    got = eng.read_frame(q, schema={"stage": pl.String, "bucket": pl.Int64, "n": pl.Int64})
    order = {s: i for i, s in enumerate(STAGES)}
    return (
        got.with_columns(pl.col("stage").replace_strict(order, default=99).alias("_o"))
        .sort("_o", "bucket")
        .drop("_o")
    )


def bucket_labels() -> list[str]:
    edges = ["0", *[f"{e:g}" for e in DURATION_EDGES]]
    return [f"{a}-{b} h" for a, b in itertools.pairwise(edges)] + [f"> {DURATION_EDGES[-1]:g} h"]


CLOCKS = ("sign", "close")


@cached(domains=("cases",))
def overdue(
    *, scope: Scope, as_of: int, clock: str, township_code: int | None = None, limit: int = 200
) -> pl.DataFrame:
    """Open cases past a due time, most overdue first, with the overdue time in working hours: the
    sign-for clock (not signed for by sign_due_at) or the closure clock (not closed by close_due_at)."""
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}")
    c = case_item
    due = c.c.sign_due_at if clock == "sign" else c.c.close_due_at
    cond = _cond(c, scope, township_code) & c.c.closed_at.is_(None) & (due < as_of)
    if clock == "sign":
        cond = cond & c.c.signed_at.is_(None)
    p = lists_problem
    q = (
        select(
            c.c.id,
            c.c.case_class,
            c.c.stage,
            c.c.township_code,
            c.c.dept_id,
            c.c.opened_at,
            due.label("due_at"),
            p.c.name_zh.label("problem_zh"),
            p.c.name_en.label("problem_en"),
        )
        .join(p, p.c.id == c.c.problem_id)
        .where(cond)
        .order_by(due, c.c.id)
        .limit(limit)
    )
    frame = eng.read_frame(
        q,
        schema={
            "id": pl.Int64,
            "case_class": pl.String,
            "stage": pl.String,
            "township_code": pl.Int64,
            "dept_id": pl.Int64,
            "opened_at": pl.Int64,
            "due_at": pl.Int64,
            "problem_zh": pl.String,
            "problem_en": pl.String,
        },
    )
    if not frame.height:
        return frame.with_columns(pl.lit(0.0).alias("overdue_wh"))
    due_at = frame["due_at"].to_numpy().astype(np.int64)
    clk = clock_around(int(due_at.min()), as_of)
    wh = clk.between(due_at, np.full(len(due_at), as_of, dtype=np.int64)) / HOUR
    return frame.with_columns(pl.Series("overdue_wh", np.round(wh, 1)))


@cached(domains=("cases",))
def overdue_counts(*, scope: Scope, as_of: int, township_code: int | None = None) -> dict[str, int]:
    """Open cases, and those past the sign-for and the closure due time (the wall's alert)."""
    c = case_item
    q = select(
        func.count().label("open"),
        func.coalesce(func.sum(_flag((c.c.signed_at.is_(None)) & (c.c.sign_due_at < as_of))), 0).label(
            "sign"
        ),
        func.coalesce(func.sum(_flag(c.c.close_due_at < as_of)), 0).label("close"),
    ).where(_cond(c, scope, township_code), c.c.closed_at.is_(None))
    with eng.connect() as conn:
        row = conn.execute(q).one()
    return {k: int(row._mapping[k]) for k in ("open", "sign", "close")}


def _flag(cond: ColumnElement[bool]) -> Any:
    return case((cond, 1), else_=0)


URGENT_MAX = 50


@cached(domains=("cases",))
def urgent(*, scope: Scope, as_of: int, limit: int = 12) -> pl.DataFrame:
    """The viewer's most urgent open cases (the case page without an id): past the closure due time
    first, then by priority score (highest first, unscored last), then the earliest due."""
    c = case_item
    late = _flag(c.c.close_due_at < as_of)
    p = lists_problem
    q = (
        select(
            c.c.id,
            c.c.case_class,
            c.c.stage,
            c.c.dept_id,
            c.c.close_due_at.label("due_at"),
            c.c.priority,
            late.label("overdue"),
            p.c.name_zh.label("problem_zh"),
            p.c.name_en.label("problem_en"),
        )
        .join(p, p.c.id == c.c.problem_id)
        .where(_cond(c, scope, None), c.c.closed_at.is_(None))
        .order_by(late.desc(), func.coalesce(c.c.priority, -1.0).desc(), c.c.close_due_at, c.c.id)
        .limit(max(1, min(int(limit), URGENT_MAX)))
    )
    return eng.read_frame(
        q,
        schema={
            "id": pl.Int64,
            "case_class": pl.String,
            "stage": pl.String,
            "dept_id": pl.Int64,
            "due_at": pl.Int64,
            "priority": pl.Float64,
            "overdue": pl.Int64,
            "problem_zh": pl.String,
            "problem_en": pl.String,
        },
    ).with_columns(pl.col("overdue").cast(pl.Boolean))


RANK_BY = ("dept", "township")
MIN_SAMPLE = 30  # cases: a unit with fewer is listed but not ranked


@cached(domains=("cases",))
def rankings(
    *,
    scope: Scope,
    by: str,
    month_from: int,
    month_to: int,
    township_code: int | None = None,
    min_sample: int = MIN_SAMPLE,
) -> pl.DataFrame:
    """Departments or townships by on-time closure rate (ties: closure rate, then more cases), with
    rank NULL for units below the minimum sample so a tiny sample cannot top the table."""
    if by not in RANK_BY:
        raise ValueError(f"unknown ranking {by!r}")
    r = case_rollup
    unit = r.c.dept_id if by == "dept" else r.c.township_code
    q = (
        select(unit.label("unit"), *[func.sum(r.c[c]).label(c) for c in COUNTS])
        .where(_cond(r, scope, township_code), r.c.month.between(month_from, month_to))
        .group_by(unit)
    )
    got = eng.read_frame(q, schema={"unit": pl.Int64, **{c: pl.Int64 for c in COUNTS}})
    due = pl.col("n") - pl.col("n_deferred_open")
    got = got.with_columns(
        (pl.col("n_closed") / due).alias("closure"),
        (pl.col("n_closed_on_time") / due).alias("on_time"),
        (pl.col("n_evaluated") / pl.col("n_responded")).alias("evaluation"),
        (pl.col("n_fed_back") / pl.col("n_evaluated")).alias("feedback"),
        (pl.col("n") >= min_sample).alias("ranked"),
    )
    ranked = got.filter(pl.col("ranked")).sort(["on_time", "closure", "n"], descending=True, nulls_last=True)
    ranked = ranked.with_columns(pl.int_range(1, ranked.height + 1).cast(pl.Int64).alias("rank"))
    small = (
        got.filter(~pl.col("ranked"))
        .sort("n", descending=True)
        .with_columns(pl.lit(None, pl.Int64).alias("rank"))
    )
    out = pl.concat([ranked, small])
    names = (
        meta.departments().select(pl.col("id").cast(pl.Int64).alias("unit"), "name_zh", "name_en")
        if by == "dept"
        else meta.townships().select(pl.col("code").cast(pl.Int64).alias("unit"), "name_zh", "name_en")
    )
    return out.join(names, on="unit", how="left", maintain_order="left")


@cached(domains=("cases",))
def hotspots(
    *,
    scope: Scope,
    month_from: int,
    month_to: int,
    township_code: int | None = None,
    days: int = HOTSPOT_DAYS,
    min_cases: int = HOTSPOT_MIN,
) -> pl.DataFrame:
    """Recurring hotspots: one problem type in one community with at least `min_cases` cases opened
    within `days` days (the busiest such window per pair), whether any of them went on to optimization,
    and the first HOTSPOT_IDS case ids of that window."""
    c = case_item
    lo, hi = _month_bounds(month_from, month_to)
    # Every case of the period travels to Python, so each one is kept narrow: the (problem, community)
    # pair packed into one integer by the database, the township looked up for the hotspots only. Four
    # columns instead of six: about a third less of the cold time, which is nearly all this read.
    q = select(
        c.c.id,
        (c.c.problem_id * literal(PAIR_BASE) + c.c.community_code).label("pair"),
        c.c.opened_at,
        c.c.optimization_at.is_not(None).label("opt"),
    ).where(
        _cond(c, scope, township_code),
        c.c.opened_at >= lo,
        c.c.opened_at < hi,
        c.c.community_code.is_not(None),
    )
    f = eng.read_frame(
        q, schema={"id": pl.Int64, "pair": pl.Int64, "opened_at": pl.Int64, "opt": pl.Boolean}
    ).sort("pair", "opened_at", "id")
    empty = pl.DataFrame(
        schema={
            "problem_id": pl.Int64,
            "community_code": pl.Int64,
            "township_code": pl.Int64,
            "n": pl.Int64,
            "first_at": pl.Int64,
            "last_at": pl.Int64,
            "optimized": pl.Boolean,
            "case_ids": pl.List(pl.Int64),
            "problem_zh": pl.String,
            "problem_en": pl.String,
            "community_zh": pl.String,
        }
    )
    if not f.height:
        return empty
    g = f["pair"].rank("dense").to_numpy()
    t = f["opened_at"].to_numpy().astype(np.int64)
    key = g.astype(np.int64) * 10**11 + (t - t.min())
    count = np.searchsorted(key, key + days * DAY, side="left") - np.arange(len(key))
    f = f.with_columns(pl.Series("g", g), pl.Series("count", count))
    best = (
        f.filter(pl.col("count") >= min_cases)
        .sort(["g", "count", "opened_at"], descending=[False, True, False])
        .unique("g", keep="first", maintain_order=True)
        .select("g", pl.col("opened_at").alias("first_at"), pl.col("count").alias("n"))
    )
    if not best.height:
        return empty
    members = f.join(best, on="g").filter(
        (pl.col("opened_at") >= pl.col("first_at")) & (pl.col("opened_at") < pl.col("first_at") + days * DAY)
    )
    out = (
        members.group_by("g", maintain_order=True)
        .agg(
            (pl.col("pair").first() // PAIR_BASE).alias("problem_id"),
            (pl.col("pair").first() % PAIR_BASE).alias("community_code"),
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("opened_at").min().alias("first_at"),
            pl.col("opened_at").max().alias("last_at"),
            pl.col("opt").any().alias("optimized"),
            pl.col("id").head(HOTSPOT_IDS).alias("case_ids"),
        )
        .drop("g")
    )
    probs = eng.read_frame(
        select(
            lists_problem.c.id.label("problem_id"),
            lists_problem.c.name_zh.label("problem_zh"),
            lists_problem.c.name_en.label("problem_en"),
        ),
        schema={"problem_id": pl.Int64, "problem_zh": pl.String, "problem_en": pl.String},
    )
    comms = eng.read_frame(
        select(
            community.c.code.label("community_code"),
            community.c.township_code,
            community.c.name_zh.label("community_zh"),
        ).where(community.c.code.in_(out["community_code"].unique().to_list())),
        schema={"community_code": pl.Int64, "township_code": pl.Int64, "community_zh": pl.String},
    )
    return (
        out.join(probs, on="problem_id", how="left")
        .join(comms, on="community_code", how="left")
        .sort(["n", "last_at"], descending=True)
        .select(empty.columns)
    )


OVERDUE_STATES = ("overdue_close", "overdue_sign", "due_soon", "on_track")


@cached(domains=("cases",))
def unoptimized_examples(*, hotspots_frame: pl.DataFrame, n: int = 6) -> list[int]:
    """The first case of each of the first `n` hotspots (of a `hotspots()` frame) never optimized."""
    if not hotspots_frame.height:
        return []
    rows = hotspots_frame.filter(~hotspots_frame["optimized"])["case_ids"].head(n).to_list()
    return [int(h[0]) for h in rows]


def map_points(
    *, scope: Scope, as_of: int, month_from: int, month_to: int, township_code: int | None = None
) -> pl.DataFrame:
    """Open cases opened in the months, with a point, coloured by overdue state: past the closure due
    time, past the sign-for due time, due within one day, or on track."""
    c = case_item
    lo, hi = _month_bounds(month_from, month_to)
    q = select(
        c.c.id, c.c.lat, c.c.lon, c.c.sign_due_at, c.c.signed_at, c.c.close_due_at, c.c.problem_id
    ).where(
        _cond(c, scope, township_code),
        c.c.closed_at.is_(None),
        c.c.lat.is_not(None),
        c.c.opened_at >= lo,
        c.c.opened_at < hi,
    )
    f = eng.read_frame(
        q.order_by(c.c.id),
        schema={
            "id": pl.Int64,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "sign_due_at": pl.Int64,
            "signed_at": pl.Int64,
            "close_due_at": pl.Int64,
            "problem_id": pl.Int64,
        },
    )
    state = (
        pl.when(pl.col("close_due_at") < as_of)
        .then(pl.lit("overdue_close"))
        .when(pl.col("signed_at").is_null() & (pl.col("sign_due_at") < as_of))
        .then(pl.lit("overdue_sign"))
        .when(pl.col("close_due_at") < as_of + DAY)
        .then(pl.lit("due_soon"))
        .otherwise(pl.lit("on_track"))
    )
    return f.with_columns(state.alias("state")).select("id", "lat", "lon", "state", "problem_id")


MAP_POINTS_MAX = 1000  # more open cases than this go to the map as grid cells, not points
CELL_DEG = 0.04  # grid cell side in degrees (about 4 km: cells stay apart at the county zoom)


@cached(domains=("cases",))
def map_cells(
    *,
    scope: Scope,
    as_of: int,
    month_from: int,
    month_to: int,
    township_code: int | None = None,
    cell_deg: float = CELL_DEG,
) -> pl.DataFrame:
    """The open cases of `map_points` in square cells of `cell_deg` degrees (their mean point, how many,
    and how many in each overdue state): the map's answer stays small at full scale."""
    pts = map_points(
        scope=scope, as_of=as_of, month_from=month_from, month_to=month_to, township_code=township_code
    )
    return _cells(pts, cell_deg)


def _cells(pts: pl.DataFrame, cell_deg: float) -> pl.DataFrame:
    cells = (
        pts.with_columns(
            (pl.col("lat") / cell_deg).floor().cast(pl.Int64).alias("gy"),
            (pl.col("lon") / cell_deg).floor().cast(pl.Int64).alias("gx"),
        )
        .group_by("gy", "gx")
        .agg(
            pl.col("lat").mean(),
            pl.col("lon").mean(),
            pl.len().cast(pl.Int64).alias("n"),
            *[(pl.col("state") == s).sum().cast(pl.Int64).alias(s) for s in OVERDUE_STATES],
        )
        .sort("gy", "gx")
    )
    return cells.drop("gy", "gx")


@dataclass(frozen=True)
class MapLayer:
    """What the open-cases map draws: the points themselves (`clustered`, at most MAP_POINTS_MAX) or,
    above that, their cells (`map_cells`), and the open cases per overdue state for the legend."""

    clustered: bool
    frame: pl.DataFrame
    counts: dict[str, int]


@cached(domains=("cases",))
def map_layer(
    *, scope: Scope, as_of: int, month_from: int, month_to: int, township_code: int | None = None
) -> MapLayer:
    """The map's answer in one cached read: a warm page never fetches the open cases again, and never
    carries more than MAP_POINTS_MAX points or the cells from the cache."""
    pts = map_points(
        scope=scope, as_of=as_of, month_from=month_from, month_to=month_to, township_code=township_code
    )
    counts = state_counts(pts)
    if pts.height > MAP_POINTS_MAX:
        return MapLayer(clustered=False, frame=_cells(pts, CELL_DEG), counts=counts)
    return MapLayer(clustered=True, frame=pts, counts=counts)


def state_counts(points: pl.DataFrame) -> dict[str, int]:
    """Open cases per overdue state (every state present, zero when none)."""
    got = dict(points.group_by("state").len().iter_rows())
    return {s: int(got.get(s, 0)) for s in OVERDUE_STATES}
