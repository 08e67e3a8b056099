"""Queries of the overview wall: today's volumes, township KPIs, urban vs rural, the ranking."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import func, select

from queries import calendar, meta
from queries import engine as eng
from queries.activity import (
    ROLLUP_SCHEMA,
    AlertRules,
    alerts,
    daily_by_module,
    delivering,
    scope_module_ids,
    window_counts,
)
from queries.cache import cached
from queries.rollups import measure_sums
from queries.scope import Scope
from queries.tables import rollup_daily
from queries.timebase import DAY, day_start, local_day_of


def today_vs_last_week(*, scope: Scope, as_of: int) -> pl.DataFrame:
    """Per module: records since local midnight of the as-of day, and in the same span one week earlier."""
    start = day_start(local_day_of(as_of))
    elapsed = max(60, as_of - start + 1)
    got = window_counts(scope=scope, ends=(start + elapsed, start + elapsed - 7 * DAY), seconds=elapsed)
    wide = (
        got.group_by("module_id", "bucket")
        .agg(pl.col("n").sum())
        .pivot(on="bucket", index="module_id", values="n")
    )
    for b in ("0", "1"):
        if b not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.Int64).alias(b))
    out = meta.modules().select(pl.col("id").alias("module_id")).join(wide, on="module_id", how="left")
    return out.select(
        "module_id",
        pl.col("0").fill_null(0).alias("today"),
        pl.col("1").fill_null(0).alias("last_week"),
    ).sort("module_id")


@cached
def township_kpis(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Data-governance KPIs per township over [first_day, last_day] (rollup)."""
    r = rollup_daily
    q = (
        select(
            r.c.township_code,
            *measure_sums(r),
            func.count(func.distinct(r.c.module_id)).label("modules"),
        )
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.township_code)
    )
    got = eng.read_frame(q, schema={**ROLLUP_SCHEMA, "modules": pl.Int64})
    days = last_day - first_day + 1
    towns = meta.townships().select(
        pl.col("code").alias("township_code"), "name_zh", "name_en", "urban", "population"
    )
    frame = towns.join(got, on="township_code", how="left").with_columns(
        pl.col(c).fill_null(0) for c in ("n", "n_late", "n_missing", "n_dup", "n_badcode", "modules")
    )
    frame = _with_kpis(frame, days)
    if scope.township_code is not None:
        frame = frame.filter(pl.col("township_code") == scope.township_code)
    return frame.sort("index", descending=True, nulls_last=True)


def _with_kpis(frame: pl.DataFrame, days: int) -> pl.DataFrame:
    """The RANK_KPIS columns from the measure sums and a population column."""
    denom = pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None)
    frame = frame.with_columns(
        (1 - pl.col("n_late") / denom).alias("on_time"),
        (1 - pl.col("n_missing") / denom).alias("complete"),
        (1 - pl.col("n_badcode") / denom).alias("conform"),
        (1 - pl.col("n_dup") / denom).alias("unique"),
        (pl.col("n") / pl.col("population") * 1000 / days).alias("per_1k_day"),
    )
    return frame.with_columns(
        (100 * (pl.col("on_time") + pl.col("complete") + pl.col("conform") + pl.col("unique")) / 4).alias(
            "index"
        )
    )


@cached
def module_kpis(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """The same KPIs per module of the scope, residents being the scope's townships' (the ranking of a
    viewer who holds one township, where a township ranking would be a single bar)."""
    r = rollup_daily
    q = (
        select(r.c.module_id, *measure_sums(r))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.module_id)
    )
    got = eng.read_frame(q, schema=ROLLUP_SCHEMA)
    towns = meta.townships()
    if scope.township_code is not None:
        towns = towns.filter(pl.col("code") == scope.township_code)
    held = pl.DataFrame({"module_id": scope_module_ids(scope=scope)}, schema={"module_id": pl.Int16})
    mods = meta.modules().select(pl.col("id").alias("module_id"), "code", "name_zh", "name_en")
    frame = (
        mods.join(held, on="module_id", how="semi")
        .join(got, on="module_id", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ("n", "n_late", "n_missing", "n_dup", "n_badcode"))
        .with_columns(pl.lit(int(towns["population"].sum()), pl.Int64).alias("population"))
    )
    return _with_kpis(frame, last_day - first_day + 1).sort("index", descending=True, nulls_last=True)


@cached
def urban_rural(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Per module: records per 1,000 residents per day, urban sub-districts vs rural townships."""
    r = rollup_daily
    q = (
        select(r.c.module_id, r.c.township_code, func.sum(r.c.n).label("n"))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.module_id, r.c.township_code)
    )
    got = eng.read_frame(q, schema=ROLLUP_SCHEMA)
    towns = meta.townships().select(pl.col("code").alias("township_code"), "urban", "population")
    if scope.township_code is not None:
        towns = towns.filter(pl.col("township_code") == scope.township_code)
    pop = towns.group_by("urban").agg(pl.col("population").sum())
    days = last_day - first_day + 1
    counts = got.join(towns, on="township_code").group_by("module_id", "urban").agg(pl.col("n").sum())
    grid = meta.modules().select(pl.col("id").alias("module_id")).join(pop, how="cross")
    return (
        grid.join(counts, on=["module_id", "urban"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .with_columns((pl.col("n") / pl.col("population") * 1000 / days).alias("per_1k_day"))
        .sort("module_id", "urban")
    )


@dataclass(frozen=True)
class RankKpi:
    """A KPI the ranking can order by: its name, number format, unit and definition (both languages)."""

    label: tuple[str, str]
    fmt: str
    unit: tuple[str, str]
    formula: tuple[str, str]
    numerator: tuple[str, str]
    denominator: tuple[str, str]


_RECORDS = ("记录数", "records")
# The one list of ranking KPIs: township_kpis() and module_kpis() compute a column for each key.
RANK_KPIS: dict[str, RankKpi] = {
    "index": RankKpi(
        ("数据治理指数", "Data governance index"),
        "{:.1f}",
        ("单位: 分", "points, 0-100"),
        (
            "(及时率 + 完整率 + 编码规范率 + 不重复率) / 4 × 100",
            "(on-time + complete + code-conforming + unique rates) / 4 × 100",
        ),
        ("四项比率", "the four rates below"),
        ("4", "4"),
    ),
    "on_time": RankKpi(
        ("数据及时率", "On-time rate"),
        "{:.1%}",
        ("单位: %", "%"),
        ("1 − 迟到记录 / 记录数", "1 − late records / records"),
        ("接收晚于发生 48 小时的记录", "records received > 48 h after they occurred"),
        _RECORDS,
    ),
    "complete": RankKpi(
        ("数据完整率", "Completeness"),
        "{:.1%}",
        ("单位: %", "%"),
        ("1 − 缺字段记录 / 记录数", "1 − records with a missing field / records"),
        ("社区或金额为空的记录", "records with no community or no amount"),
        _RECORDS,
    ),
    "conform": RankKpi(
        ("编码规范率", "Code conformity"),
        "{:.1%}",
        ("单位: %", "%"),
        ("1 − 非标准区划码记录 / 记录数", "1 − records with a non-standard area code / records"),
        ("区划码不是9位标准码的记录", "records whose area code is not the 9-digit NBS code"),
        _RECORDS,
    ),
    "unique": RankKpi(
        ("不重复率", "Uniqueness"),
        "{:.1%}",
        ("单位: %", "%"),
        ("1 − 重复录入记录 / 记录数", "1 − re-entered records / records"),
        ("业务主键已被另一条记录使用的记录", "records whose business key another record already has"),
        _RECORDS,
    ),
    "per_1k_day": RankKpi(
        ("每千人日均数据量", "Records per 1,000 residents per day"),
        "{:.2f}",
        ("单位: 条/千人/日", "records per 1,000 residents per day"),
        ("记录数 / 常住人口 × 1000 / 天数", "records / residents × 1000 / days"),
        _RECORDS,
        ("常住人口(合成)", "residents (synthetic)"),
    ),
}


@dataclass(frozen=True)
class Headline:
    """The overview's KPI row."""

    today: int
    last_week: int
    week: int
    on_time: float | None
    complete: float | None
    dup_rate: float | None
    modules: int  # modules the scope holds
    modules_down: int  # of those, with a red outage alert

    @property
    def delta(self) -> float | None:
        return None if self.last_week == 0 else (self.today - self.last_week) / self.last_week


def _ratio(a: int, b: int) -> float | None:
    return None if b == 0 else a / b


@cached
def headline(*, scope: Scope, as_of: int, rules: AlertRules) -> Headline:
    day = local_day_of(as_of)
    tvl = today_vs_last_week(scope=scope, as_of=as_of)
    week = township_kpis(scope=scope, first_day=day - 6, last_day=day)
    n = int(week["n"].sum())
    mods = delivering(scope=scope, as_of=as_of, rules=rules, by="module")
    return Headline(
        today=int(tvl["today"].sum()),
        last_week=int(tvl["last_week"].sum()),
        week=n,
        on_time=_ratio(n - int(week["n_late"].sum()), n),
        complete=_ratio(n - int(week["n_missing"].sum()), n),
        dup_rate=_ratio(int(week["n_dup"].sum()), n),
        modules=mods.total,
        modules_down=mods.down,
    )


@cached
def module_summary(*, scope: Scope, as_of: int, rules: AlertRules, spark_days: int = 30) -> pl.DataFrame:
    """One row per module for its tile: today, same time last week, change, 7-day total, whether it only
    arrives in nightly batches, its worst alert, and the daily series (dates and counts, excl. today).
    Only the modules the scope holds: a scoped viewer gets no tiles of zeros for other bureaus."""
    day = local_day_of(as_of)
    daily = daily_by_module(scope=scope, first_day=day - spark_days, last_day=day)
    week = daily.filter(pl.col("day") > day - 7).group_by("module_id").agg(pl.col("n").sum().alias("week"))
    series = (
        daily.filter(pl.col("day") < day)
        .sort("day")
        .group_by("module_id", maintain_order=True)
        .agg(pl.col("date").alias("dates"), pl.col("n").alias("series"))
    )
    batch = (
        meta.sources().group_by("module_id").agg((pl.col("delivery") == "batch").all().alias("batch_only"))
    )
    level = (
        alerts(scope=scope, as_of=as_of, rules=rules)
        .with_columns(
            pl.col("level").replace_strict({"red": 0, "amber": 1}, return_dtype=pl.Int8).alias("rank")
        )
        .sort("rank")
        .group_by("module_id", maintain_order=True)
        .agg(pl.col("level").first())
    )
    held = pl.DataFrame({"module_id": scope_module_ids(scope=scope)}, schema={"module_id": pl.Int16})
    mods = meta.modules().select(pl.col("id").alias("module_id"), "code", "name_zh", "name_en")
    return (
        mods.join(held, on="module_id", how="semi")
        .join(today_vs_last_week(scope=scope, as_of=as_of), on="module_id", how="left")
        .join(week, on="module_id", how="left")
        .join(series, on="module_id", how="left")
        .join(batch, on="module_id", how="left")
        .join(level, on="module_id", how="left")
        .with_columns(
            pl.col("week").fill_null(0),
            pl.col("batch_only").fill_null(False),
            pl.when(pl.col("last_week") > 0)
            .then((pl.col("today") - pl.col("last_week")) / pl.col("last_week"))
            .otherwise(None)
            .alias("delta"),
        )
        .sort("module_id")
    )


@cached
def township_ranking(*, scope: Scope, first_day: int, last_day: int, kpi: str) -> pl.DataFrame:
    """Townships ordered by one KPI of township_kpis(), best first: code, names, urban, value."""
    if kpi not in RANK_KPIS:
        raise ValueError(f"unknown KPI {kpi!r}; KPIs: {', '.join(RANK_KPIS)}")
    frame = township_kpis(scope=scope, first_day=first_day, last_day=last_day)
    return frame.select("township_code", "name_zh", "name_en", "urban", pl.col(kpi).alias("value")).sort(
        "value", descending=True, nulls_last=True
    )


@cached
def module_ranking(*, scope: Scope, first_day: int, last_day: int, kpi: str) -> pl.DataFrame:
    """The scope's modules ordered by one KPI of module_kpis(), best first: module_id, names, value."""
    if kpi not in RANK_KPIS:
        raise ValueError(f"unknown KPI {kpi!r}; KPIs: {', '.join(RANK_KPIS)}")
    frame = module_kpis(scope=scope, first_day=first_day, last_day=last_day)
    return frame.select("module_id", "name_zh", "name_en", pl.col(kpi).alias("value")).sort(
        "value", descending=True, nulls_last=True
    )


@cached
def urban_rural_wide(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """urban_rural() side by side: module, names, and records per 1,000 residents per day in an `urban`
    and a `rural` column, each only if the scope holds such townships (one for a township leader).
    Only the modules the scope holds."""
    long = urban_rural(scope=scope, first_day=first_day, last_day=last_day)
    held = pl.DataFrame({"module_id": scope_module_ids(scope=scope)}, schema={"module_id": pl.Int16})
    frame = (
        meta.modules()
        .select(pl.col("id").alias("module_id"), "name_zh", "name_en")
        .join(held, on="module_id", how="semi")
    )
    for flag, name in ((True, "urban"), (False, "rural")):
        side = long.filter(pl.col("urban") == flag)
        if side.height:
            frame = frame.join(
                side.select("module_id", pl.col("per_1k_day").alias(name)), on="module_id", how="left"
            ).with_columns(pl.col(name).fill_null(0.0))
    return frame.sort("module_id")


@cached
def daily_totals(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Records per local day over all modules, with the day's kind (0 workday, 1 rest day, 2 holiday)."""
    daily = daily_by_module(scope=scope, first_day=first_day, last_day=last_day)
    total = daily.group_by("day", "date").agg(pl.col("n").sum()).sort("day")
    kinds, _ = calendar.day_kinds(total["day"].to_numpy())
    return total.with_columns(pl.Series("kind", kinds, dtype=pl.Int8))
