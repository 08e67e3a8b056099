"""Queries of the overview wall: module volumes, township KPIs, urban vs rural, alerts."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import and_, case, func, literal, or_, select

from queries import calendar, meta
from queries import engine as eng
from queries.cache import cached
from queries.rollups import measure_sums
from queries.scope import Scope
from queries.tables import record, rollup_daily
from queries.timebase import DAY, day_start

ROLLUP_SCHEMA = {
    "module_id": pl.Int16,
    "township_code": pl.Int64,
    "day": pl.Int32,
    "n": pl.Int64,
    "n_late": pl.Int64,
    "n_missing": pl.Int64,
    "n_dup": pl.Int64,
    "n_badcode": pl.Int64,
}


@cached
def daily_by_module(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Records per module and local day (rollup), days with none included as 0."""
    r = rollup_daily
    q = (
        select(r.c.module_id, r.c.day, func.sum(r.c.n).label("n"))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.module_id, r.c.day)
    )
    got = eng.read_frame(q, schema=ROLLUP_SCHEMA)
    grid = (
        meta.modules()
        .select(pl.col("id").alias("module_id"))
        .join(
            pl.DataFrame({"day": pl.int_range(first_day, last_day + 1, eager=True).cast(pl.Int32)}),
            how="cross",
        )
    )
    return (
        grid.join(got, on=["module_id", "day"], how="left")
        .with_columns(pl.col("n").fill_null(0), pl.col("day").cast(pl.Date).alias("date"))
        .sort("module_id", "day")
    )


@cached
def window_counts(*, scope: Scope, ends: tuple[int, ...], seconds: int) -> pl.DataFrame:
    """Records per module x township that occurred in [end - seconds, end) and had arrived by `end`,
    one bucket per end (raw table, an index range each). Counting only what had arrived keeps a
    comparison with past weeks fair to sources that deliver in nightly batches."""
    r = record
    conds = [and_(r.c.occurred_at >= e - seconds, r.c.occurred_at < e, r.c.received_at < e) for e in ends]
    bucket = case(*[(c, literal(i)) for i, c in enumerate(conds)], else_=literal(-1)).label("bucket")
    q = (
        select(r.c.module_id, r.c.township_code, bucket, func.count().label("n"))
        .where(or_(*conds), scope.where(r))
        .group_by(r.c.module_id, r.c.township_code, bucket)
    )
    return eng.read_frame(
        q, schema={"module_id": pl.Int16, "township_code": pl.Int64, "bucket": pl.Int32, "n": pl.Int64}
    )


def today_vs_last_week(*, scope: Scope, as_of: int) -> pl.DataFrame:
    """Per module: records since local midnight of the as-of day, and in the same span one week earlier."""
    start = day_start((as_of + 8 * 3600) // DAY)
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
    denom = pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None)
    frame = frame.with_columns(
        (1 - pl.col("n_late") / denom).alias("on_time"),
        (1 - pl.col("n_missing") / denom).alias("complete"),
        (1 - pl.col("n_badcode") / denom).alias("conform"),
        (1 - pl.col("n_dup") / denom).alias("unique"),
        (pl.col("n") / pl.col("population") * 1000 / days).alias("per_1k_day"),
    )
    frame = frame.with_columns(
        (100 * (pl.col("on_time") + pl.col("complete") + pl.col("conform") + pl.col("unique")) / 4).alias(
            "index"
        )
    )
    if scope.township_code is not None:
        frame = frame.filter(pl.col("township_code") == scope.township_code)
    return frame.sort("index", descending=True, nulls_last=True)


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


@cached
def source_delivery(*, scope: Scope, as_of_day: int) -> pl.DataFrame:
    """Per source system: newest record received, and its average daily volume over the last 28 days."""
    r = rollup_daily
    q = (
        select(
            r.c.source_id,
            func.max(r.c.max_received_at).label("last_received"),
            func.sum(case((r.c.day > as_of_day - 28, r.c.n), else_=0)).label("n_28d"),
        )
        .where(scope.where(r), r.c.day > as_of_day - 40)
        .group_by(r.c.source_id)
    )
    got = eng.read_frame(q, schema={"source_id": pl.Int16, "last_received": pl.Int64, "n_28d": pl.Int64})
    src = meta.sources().select(
        pl.col("id").alias("source_id"),
        "module_id",
        "code",
        "name_zh",
        "name_en",
        "delivery",
        "dept_zh",
        "dept_en",
    )
    return src.join(got, on="source_id", how="left").with_columns(pl.col("n_28d").fill_null(0))


@dataclass(frozen=True)
class AlertRules:
    outage_hours: float = 6.0
    spike_ratio: float = 2.0
    spike_window_hours: int = 6

    def cache_key(self) -> str:
        return f"{self.outage_hours}-{self.spike_ratio}-{self.spike_window_hours}"


ALERT_SCHEMA = {
    "level": pl.String,  # red | amber
    "kind": pl.String,  # outage | spike
    "module_id": pl.Int16,
    "township_code": pl.Int64,
    "source_id": pl.Int16,
    "value": pl.Float64,  # hours silent, or today's count
    "baseline": pl.Float64,  # expected count, or usual count
}


@cached
def alerts(*, scope: Scope, as_of: int, rules: AlertRules) -> pl.DataFrame:
    """Abnormal things, worst first: a source that stopped delivering, a module x township spike."""
    rows: list[dict[str, object]] = []
    as_of_day = (as_of + 8 * 3600) // DAY
    delivery = source_delivery(scope=scope, as_of_day=as_of_day)
    for s in delivery.iter_rows(named=True):
        if s["last_received"] is None or s["n_28d"] == 0:
            continue
        silent_h = (as_of - s["last_received"]) / 3600.0
        expected = s["n_28d"] / (28 * 24) * silent_h
        if s["delivery"] == "batch":
            level = "red" if silent_h >= 24 + rules.outage_hours else None
        elif silent_h >= rules.outage_hours and expected >= 10:
            level = "red"
        elif silent_h >= rules.outage_hours / 2 and expected >= 10:
            level = "amber"
        else:
            level = None
        if level:
            rows.append(
                dict(
                    level=level,
                    kind="outage",
                    module_id=s["module_id"],
                    township_code=None,
                    source_id=s["source_id"],
                    value=silent_h,
                    baseline=expected,
                )
            )
    w = rules.spike_window_hours * 3600
    ends = tuple(as_of + 1 - 7 * DAY * k for k in range(9))
    counts = window_counts(scope=scope, ends=ends, seconds=w)
    if counts.height:
        today = counts.filter(pl.col("bucket") == 0).select(
            "module_id", "township_code", pl.col("n").alias("now")
        )
        past = counts.filter(pl.col("bucket") > 0)
        keys = today.select("module_id", "township_code")
        # weeks with no record in the window count as 0, so the median is over all 8 past weeks
        full = keys.join(
            pl.DataFrame({"bucket": list(range(1, 9))}, schema={"bucket": pl.Int32}), how="cross"
        )
        base = (
            full.join(past, on=["module_id", "township_code", "bucket"], how="left")
            .with_columns(pl.col("n").fill_null(0))
            .group_by("module_id", "township_code")
            .agg(pl.col("n").median().alias("usual"))
        )
        spikes = today.join(base, on=["module_id", "township_code"], how="left").with_columns(
            pl.col("usual").fill_null(0.0)
        )
        for s in spikes.iter_rows(named=True):
            now, usual = s["now"], s["usual"]
            excess = now - usual
            if now >= rules.spike_ratio * max(usual, 1.0) and excess >= 4 * max(usual, 1.0) ** 0.5 + 5:
                level = "red" if now >= 2 * rules.spike_ratio * max(usual, 1.0) and excess >= 20 else "amber"
                rows.append(
                    dict(
                        level=level,
                        kind="spike",
                        module_id=s["module_id"],
                        township_code=s["township_code"],
                        source_id=None,
                        value=float(now),
                        baseline=float(usual),
                    )
                )
    frame = pl.DataFrame(rows, schema=ALERT_SCHEMA)
    return frame.sort(
        pl.col("level").replace_strict({"red": 0, "amber": 1}, return_dtype=pl.Int8),
        pl.col("value"),
        descending=[False, True],
    )


# --- shaped for the overview page: pages only convert these to components ------------------------

RANK_KPIS = ("index", "on_time", "complete", "conform", "unique", "per_1k_day")


@dataclass(frozen=True)
class Headline:
    """The overview's KPI row."""

    today: int
    last_week: int
    week: int
    on_time: float | None
    complete: float | None
    dup_rate: float | None
    modules_down: int

    @property
    def delta(self) -> float | None:
        return None if self.last_week == 0 else (self.today - self.last_week) / self.last_week


def _ratio(a: int, b: int) -> float | None:
    return None if b == 0 else a / b


@cached
def headline(*, scope: Scope, as_of: int, rules: AlertRules) -> Headline:
    day = (as_of + 8 * 3600) // DAY
    tvl = today_vs_last_week(scope=scope, as_of=as_of)
    week = township_kpis(scope=scope, first_day=day - 6, last_day=day)
    n = int(week["n"].sum())
    down = (
        alerts(scope=scope, as_of=as_of, rules=rules)
        .filter((pl.col("kind") == "outage") & (pl.col("level") == "red"))["module_id"]
        .n_unique()
    )
    return Headline(
        today=int(tvl["today"].sum()),
        last_week=int(tvl["last_week"].sum()),
        week=n,
        on_time=_ratio(n - int(week["n_late"].sum()), n),
        complete=_ratio(n - int(week["n_missing"].sum()), n),
        dup_rate=_ratio(int(week["n_dup"].sum()), n),
        modules_down=int(down),
    )


@cached
def module_summary(*, scope: Scope, as_of: int, rules: AlertRules, spark_days: int = 30) -> pl.DataFrame:
    """One row per module for its tile: today, same time last week, change, 7-day total, whether it only
    arrives in nightly batches, its worst alert, and the daily series (dates and counts, excl. today)."""
    day = (as_of + 8 * 3600) // DAY
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
    mods = meta.modules().select(pl.col("id").alias("module_id"), "code", "name_zh", "name_en")
    return (
        mods.join(today_vs_last_week(scope=scope, as_of=as_of), on="module_id", how="left")
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
def urban_rural_wide(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """urban_rural() side by side: module, records per 1,000 residents per day, urban and rural."""
    long = urban_rural(scope=scope, first_day=first_day, last_day=last_day)
    mods = meta.modules().select(pl.col("id").alias("module_id"), "name_zh", "name_en")
    side = {
        flag: long.filter(pl.col("urban") == flag).select("module_id", pl.col("per_1k_day").alias(name))
        for flag, name in ((True, "urban"), (False, "rural"))
    }
    return (
        mods.join(side[True], on="module_id", how="left")
        .join(side[False], on="module_id", how="left")
        .with_columns(pl.col("urban").fill_null(0.0), pl.col("rural").fill_null(0.0))
        .sort("module_id")
    )


@cached
def daily_totals(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Records per local day over all modules, with the day's kind (0 workday, 1 rest day, 2 holiday)."""
    daily = daily_by_module(scope=scope, first_day=first_day, last_day=last_day)
    total = daily.group_by("day", "date").agg(pl.col("n").sum()).sort("day")
    kinds, _ = calendar.day_kinds(total["day"].to_numpy())
    return total.with_columns(pl.Series("kind", kinds, dtype=pl.Int8))


def alert_level(
    *, scope: Scope, as_of: int, rules: AlertRules, kinds: tuple[str, ...] = ("outage", "spike")
) -> str | None:
    """The worst alert level among the given kinds: "red", "amber" or None (for wall takeover)."""
    levels = set(alerts(scope=scope, as_of=as_of, rules=rules).filter(pl.col("kind").is_in(kinds))["level"])
    return "red" if "red" in levels else ("amber" if "amber" in levels else None)


def source_outages(*, scope: Scope, as_of: int, rules: AlertRules) -> dict[int, str]:
    """source id -> "red" | "amber" for sources silent by the outage rule."""
    frame = alerts(scope=scope, as_of=as_of, rules=rules).filter(pl.col("kind") == "outage")
    return {int(r["source_id"]): str(r["level"]) for r in frame.iter_rows(named=True)}
