"""The urban-rural digital divide: indicators per township and quarter, the divide index (after Purdue's
DDI), national benchmarks, platform use and late data from the pool itself, offline counters, and where
to invest first.

The index, exactly (per quarter, over the county's 13 townships):
  1. every input is turned into a z-score, z = (x - mean) / sd (population sd; sd 0 gives z 0), signed
     so that a larger z always means a wider divide (a coverage of 0.6 is worse than 0.9);
  2. each part is the mean of its inputs' z-scores: INFRASTRUCTURE (not online, households without
     broadband, residents without broadband offered, without 4G/5G, without a smartphone, slow measured
     download) and SOCIO-ECONOMIC (aged 65+, ethnic minority, low education, minimum-living allowance);
  3. each part is scaled 0-100 across the townships (min-max; all equal gives 0);
  4. the index is the two scaled parts added with equal weight, scaled 0-100 again;
  5. the larger scaled part is the dominant one: infrastructure says "build the network first",
     socio-economic says "invest in digital literacy and keep the offline counters".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import case, func, select

from queries import engine as eng
from queries import geo, meta
from queries.cache import cached
from queries.scope import Scope
from queries.tables import (
    divide_counter,
    divide_counter_edit,
    divide_counter_visit,
    divide_indicator,
    divide_indicator_import,
    rollup_daily,
)

INFRA, SOCIO = "infrastructure", "socioeconomic"
BALANCED = "balanced"


@dataclass(frozen=True)
class Indicator:
    column: str
    zh: str
    en: str
    unit_zh: str
    unit_en: str
    part: str | None  # INFRA | SOCIO | None (shown, not in the index)
    worse_when_high: bool  # orientation inside the index
    share: bool  # a 0-1 share shown as %


def _i(
    col: str, zh: str, en: str, part: str | None, high_bad: bool, unit: tuple[str, str] = ("%", "%")
) -> Indicator:
    return Indicator(col, zh, en, unit[0], unit[1], part, high_bad, unit == ("%", "%"))


INDICATORS: dict[str, Indicator] = {
    i.column: i
    for i in (
        _i("internet_rate", "互联网普及率", "Internet penetration", INFRA, False),
        _i("household_broadband", "家庭宽带入户率", "Households with broadband", INFRA, False),
        _i("broadband_coverage", "固定宽带覆盖率", "Fixed-broadband coverage", INFRA, False),
        _i("mobile_coverage", "4G/5G 人口覆盖率", "4G/5G population coverage", INFRA, False),
        _i("download_mbps", "实测下载速率", "Measured download speed", INFRA, False, ("Mbps", "Mbps")),
        _i("smartphone_rate", "智能手机拥有率", "Smartphone ownership", INFRA, False),
        _i("aged65_share", "65岁及以上占比", "Aged 65+", SOCIO, True),
        _i("minority_share", "少数民族占比", "Ethnic minority", SOCIO, True),
        _i("low_education_share", "小学及以下学历占比", "Primary schooling or less", SOCIO, True),
        _i("dibao_share", "低保人口占比", "On minimum living allowance", SOCIO, True),
    )
}
PART_LABELS = {INFRA: ("基础设施", "Infrastructure"), SOCIO: ("社会经济", "Socio-economic")}
ACTIONS = {
    INFRA: ("先补网络: 宽带入户、4G/5G 覆盖、提速", "Fix infrastructure first: broadband, 4G/5G, speed"),
    SOCIO: (
        "先投素养: 数字技能培训、适老化、保留线下窗口",
        "Invest in digital literacy, age-friendly help, keep counters",
    ),
    BALANCED: ("两者并重", "Both equally"),
}
# CNNIC Statistical Reports on Internet Development (46th, 50th): internet penetration, urban / rural.
NATIONAL = (("2020-06", 0.764, 0.523), ("2022-06", 0.829, 0.588))
NATIONAL_SOURCE = (
    "CNNIC 第46、50次《中国互联网络发展状况统计报告》",
    "CNNIC 46th and 50th Statistical Reports",
)


# --- the index: a pure function, tested on hand-worked cases ------------------------------------------


def zscore(col: str, worse_when_high: bool) -> pl.Expr:
    """Signed z-score over the frame (population sd); a constant column gives 0."""
    x = pl.col(col).cast(pl.Float64)
    sd = x.std(ddof=0)
    z = pl.when(sd > 0).then((x - x.mean()) / sd).otherwise(0.0)
    return (z if worse_when_high else -z).alias(f"z_{col}")


def _scaled(col: str) -> pl.Expr:
    x = pl.col(col)
    span = x.max() - x.min()
    return pl.when(span > 0).then(100 * (x - x.min()) / span).otherwise(0.0)


def divide_index(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame (one row per township, one period, the INDICATORS columns) with z_<input>, the raw and
    0-100 parts, the 0-100 index and the dominant part added. See the module docstring."""
    parts = {p: [i for i in INDICATORS.values() if i.part == p] for p in (INFRA, SOCIO)}
    out = frame.with_columns(zscore(i.column, i.worse_when_high) for i in INDICATORS.values())
    out = out.with_columns(
        pl.mean_horizontal([f"z_{i.column}" for i in ins]).alias(f"{p}_raw") for p, ins in parts.items()
    )
    out = out.with_columns(
        _scaled(f"{INFRA}_raw").alias(INFRA), _scaled(f"{SOCIO}_raw").alias(SOCIO)
    ).with_columns((pl.col(INFRA) + pl.col(SOCIO)).alias("index_raw"))
    return out.with_columns(
        _scaled("index_raw").alias("index"),
        pl.when(pl.col(INFRA) > pl.col(SOCIO))
        .then(pl.lit(INFRA))
        .when(pl.col(SOCIO) > pl.col(INFRA))
        .then(pl.lit(SOCIO))
        .otherwise(pl.lit(BALANCED))
        .alias("dominant"),
    )


# --- reads ----------------------------------------------------------------------------------------------

IND_SCHEMA = {
    "township_code": pl.Int64,
    "period": pl.String,
    "first_day": pl.Int64,
    "last_day": pl.Int64,
    "population": pl.Int64,
    **{c: pl.Float64 for c in INDICATORS},
    "training_sessions": pl.Int64,
    "training_attendees": pl.Int64,
}


@cached
def periods() -> list[str]:
    """The quarters with indicators, oldest first."""
    d = divide_indicator
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(select(d.c.period).distinct().order_by(d.c.period))]


def _in_scope(frame: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    if scope.township_code is None:
        return frame
    return frame.filter(pl.col("township_code") == scope.township_code)


@cached
def imported() -> pl.DataFrame:
    """Real figures imported by people (`import divide`): township_code, year, indicator, value, source."""
    t = divide_indicator_import
    q = select(t.c.township_code, t.c.year, t.c.indicator, t.c.value, t.c.source).order_by(
        t.c.township_code, t.c.year, t.c.indicator
    )
    schema = {
        "township_code": pl.Int64,
        "year": pl.Int64,
        "indicator": pl.String,
        "value": pl.Float64,
        "source": pl.String,
    }
    return eng.read_frame(q, schema=schema)


def _overlay(got: pl.DataFrame, real: pl.DataFrame) -> pl.DataFrame:
    """The generated inputs with every imported figure in its place (a year's figure in each of the
    year's quarters); `imported` names the inputs that came from a file."""
    if real.is_empty() or got.is_empty():
        return got.with_columns(pl.lit("").alias("imported"))
    wide = real.pivot(on="indicator", index=["township_code", "year"], values="value")
    cols = [c for c in wide.columns if c not in ("township_code", "year")]
    out = got.with_columns(pl.col("period").str.slice(0, 4).cast(pl.Int64).alias("year")).join(
        wide.rename({c: f"{c}__real" for c in cols}), on=["township_code", "year"], how="left"
    )
    out = out.with_columns(
        pl.concat_str(
            [pl.when(pl.col(f"{c}__real").is_not_null()).then(pl.lit(c)) for c in cols],
            separator=",",
            ignore_nulls=True,
        ).alias("imported"),
        *[
            pl.coalesce(pl.col(f"{c}__real"), pl.col(c)).cast(got.schema[c]).alias(c)
            for c in cols
            if c in got.columns
        ],
    )
    return out.drop("year", *[f"{c}__real" for c in cols])


@cached
def indicators(*, period: str | None = None) -> pl.DataFrame:
    """Every township's inputs (all quarters, or one), imported figures in place of generated ones
    (`imported` names them), with its names and urban flag."""
    d = divide_indicator
    q = select(*[d.c[c] for c in IND_SCHEMA])
    if period is not None:
        q = q.where(d.c.period == period)
    got = _overlay(eng.read_frame(q.order_by(d.c.period, d.c.township_code), schema=IND_SCHEMA), imported())
    towns = meta.townships().select(
        pl.col("code").alias("township_code"), "name_zh", "name_en", "urban", "kind"
    )
    return got.join(towns, on="township_code", how="left")


@cached
def township_names(*, township_code: int) -> tuple[str, str] | None:
    """A township's (zh, en) name; None for an unknown code."""
    t = meta.townships().filter(pl.col("code") == township_code)
    return None if t.is_empty() else (str(t["name_zh"][0]), str(t["name_en"][0]))


@cached
def platform_use(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Per township, from the pool itself: records and late records (received > 48 h after they
    happened) in [first_day, last_day], in the viewer's scope."""
    r = rollup_daily
    q = (
        select(r.c.township_code, func.sum(r.c.n).label("n"), func.sum(r.c.n_late).label("n_late"))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.township_code)
    )
    return eng.read_frame(q, schema={"township_code": pl.Int64, "n": pl.Int64, "n_late": pl.Int64})


DEFAULT_HOURS = {"hall": ("08:30", "17:30", 5), "station": ("09:00", "17:00", 5)}
COUNTER_SCHEMA = {
    "counter_key": pl.String,
    "township_code": pl.Int64,
    "name_zh": pl.String,
    "name_en": pl.String,
    "kind": pl.String,
    "opens": pl.String,
    "closes": pl.String,
    "days": pl.Int64,
    "open": pl.Boolean,
    "added": pl.Boolean,
    "edited": pl.Boolean,
}


@cached
def counter_list(*, scope: Scope, township_code: int | None = None) -> pl.DataFrame:
    """The offline counters as their department keeps them: the generated ones with the default hours
    unless edited, the ones people added, closed ones flagged (open = False); in scope, one township or
    all. Key: "<township code>:<name_zh>" (queries.divide_io)."""
    c, e = divide_counter, divide_counter_edit
    with eng.connect() as conn:
        gen = conn.execute(select(c.c.township_code, c.c.name_zh, c.c.name_en, c.c.kind)).all()
        edits = {r.counter_key: r for r in conn.execute(select(e)).all()}
    rows = []
    for code, zh, en, kind in gen:
        key = f"{code}:{zh}"[:128]
        ed = edits.pop(key, None)
        o, cl, d = DEFAULT_HOURS.get(kind, DEFAULT_HOURS["station"])
        if ed is not None:
            o, cl, d = ed.opens, ed.closes, ed.days
        rows.append(
            (key, code, zh, en, kind, o, cl, d, ed is None or ed.closed_at is None, False, ed is not None)
        )
    for ed in edits.values():  # added by people (or edits of a counter no longer generated)
        rows.append(
            (
                ed.counter_key,
                ed.township_code,
                ed.name_zh,
                ed.name_en,
                ed.kind,
                ed.opens,
                ed.closes,
                ed.days,
                ed.closed_at is None,
                bool(ed.added),
                True,
            )
        )
    out = pl.DataFrame(rows, schema=COUNTER_SCHEMA, orient="row")
    if township_code is not None:
        out = out.filter(pl.col("township_code") == township_code)
    return _in_scope(out, scope).sort("township_code", "kind", "name_zh")


@cached
def counters(*, period: str) -> pl.DataFrame:
    """Per township: open service halls and agency stations (as kept by their department), visits and
    visits where staff did the online service for the visitor, in the quarter."""
    c, v = divide_counter, divide_counter_visit
    q = (
        select(
            c.c.township_code,
            func.sum(v.c.visits).label("visits"),
            func.sum(v.c.assisted_online).label("assisted"),
        )
        .select_from(c.join(v, (v.c.counter_id == c.c.id) & (v.c.period == period)))
        .group_by(c.c.township_code)
    )
    vis = eng.read_frame(q, schema={k: pl.Int64 for k in ("township_code", "visits", "assisted")})
    open_ = (
        counter_list(scope=Scope(None, None, 2))
        .filter(pl.col("open"))
        .group_by("township_code")
        .agg(
            (pl.col("kind") == "hall").sum().cast(pl.Int64).alias("halls"),
            pl.len().cast(pl.Int64).alias("counters"),
        )
    )
    return open_.join(vis, on="township_code", how="full", coalesce=True).select(
        "township_code", *[pl.col(k).fill_null(0) for k in ("halls", "counters", "visits", "assisted")]
    )


@cached
def township_table(*, scope: Scope, period: str) -> pl.DataFrame:
    """One row per township in scope for the quarter: the inputs, the index and its parts (computed
    over all 13 townships, so a township's score means the same to every viewer), platform use per
    1,000 residents per day and the late share from the pool, counters and training, and the people an
    investment would reach."""
    ind = indicators(period=period)
    if ind.is_empty():
        return ind
    scored = divide_index(ind)
    first, last = int(ind["first_day"].to_numpy().min()), int(ind["last_day"].to_numpy().max())
    days = last - first + 1
    use = platform_use(scope=scope, first_day=first, last_day=last)
    cnt = counters(period=period)
    out = (
        scored.join(use, on="township_code", how="left")
        .join(cnt, on="township_code", how="left")
        .with_columns(
            pl.col(c).fill_null(0) for c in ("n", "n_late", "halls", "counters", "visits", "assisted")
        )
        .with_columns(
            (pl.col("n") / pl.col("population") * 1000 / days).alias("use_per_1k_day"),
            pl.when(pl.col("n") > 0).then(pl.col("n_late") / pl.col("n")).otherwise(None).alias("late_share"),
            (pl.col("visits") / pl.col("population") * 1000).alias("visits_per_1k"),
            pl.when(pl.col("visits") > 0)
            .then(pl.col("assisted") / pl.col("visits"))
            .otherwise(None)
            .alias("assisted_share"),
            (pl.col("population") * pl.col("aged65_share")).round(0).cast(pl.Int64).alias("people_65"),
            (pl.col("population") * pl.col("minority_share"))
            .round(0)
            .cast(pl.Int64)
            .alias("people_minority"),
            (pl.col("population") * (1 - pl.col("internet_rate")))
            .round(0)
            .cast(pl.Int64)
            .alias("people_offline"),
            pl.lit(days).alias("days"),
        )
    )
    return _in_scope(out, scope).sort("index", descending=True)


def invest_ranking(*, scope: Scope, period: str) -> pl.DataFrame:
    """Townships by need (index, highest first), with the action the dominant part points to and the
    people it would reach."""
    t = township_table(scope=scope, period=period)
    if t.is_empty():
        return t
    return t.with_columns(
        pl.int_range(1, pl.len() + 1).alias("rank"),
        pl.col("dominant").replace_strict({k: v[0] for k, v in ACTIONS.items()}).alias("action_zh"),
        pl.col("dominant").replace_strict({k: v[1] for k, v in ACTIONS.items()}).alias("action_en"),
    ).select(
        "rank",
        "township_code",
        "name_zh",
        "name_en",
        "urban",
        "index",
        INFRA,
        SOCIO,
        "dominant",
        "action_zh",
        "action_en",
        "population",
        "people_offline",
        "people_65",
        "people_minority",
        "period",
    )


@cached
def township_panel(*, scope: Scope, period: str, township_code: int) -> dict[str, Any] | None:
    """Everything the township panel shows, in one small cached value: the township's row of
    township_table (`row`), whether its zone is schematic (`schematic`) and its trend (`trend`); None
    when the township has no indicators in the quarter or lies outside the scope. One read per click
    instead of the whole table, the outlines and the trend (the panel callback's p95 under load)."""
    t = township_table(scope=scope, period=period)
    one = t.filter(pl.col("township_code") == township_code) if not t.is_empty() else t
    if one.is_empty():
        return None
    schematic = next(
        (
            bool(f["properties"]["schematic"])
            for f in geo.township_outlines()["features"]
            if f["properties"]["code"] == township_code
        ),
        True,
    )
    return {
        "row": one.row(0, named=True),
        "schematic": schematic,
        "trend": trend(scope=scope, township_code=township_code),
    }


@cached
def summary(*, scope: Scope, period: str) -> dict[str, Any]:
    """The page's headline figures for the townships in scope: the urban-rural gap in internet
    penetration in the latest quarter with figures (percentage points, None without both groups),
    townships led by infrastructure, their count, residents offline, counter visits, residents and
    training attendees in the quarter."""
    t = township_table(scope=scope, period=period)
    county = benchmarks(scope=scope).filter(pl.col("source") == "county")
    last = county.filter(pl.col("when") == county["when"].max()) if county.height else county
    rate = {g: last.filter(pl.col("group") == g)["rate"].to_list() for g in ("urban", "rural")}
    gap = (rate["urban"][0] - rate["rural"][0]) * 100 if rate["urban"] and rate["rural"] else None
    if t.is_empty():
        return {
            "gap_pp": gap,
            "infra_led": 0,
            "townships": 0,
            "offline": 0,
            "visits": 0,
            "population": 0,
            "attendees": 0,
        }
    return {
        "gap_pp": gap,
        "infra_led": int((t["dominant"] == INFRA).sum()),
        "townships": t.height,
        "offline": int(t["people_offline"].sum()),
        "visits": int(t["visits"].sum()),
        "population": int(t["population"].sum()),
        "attendees": int(t["training_attendees"].sum()),
    }


@cached
def trend(*, scope: Scope, township_code: int) -> pl.DataFrame:
    """One township's inputs and index parts in every quarter, on one scale over every quarter and
    township (the index of `divide_index` over all township-quarters at once: 100 = the widest divide any
    township had in any quarter), with `county_median`, the median township's index each quarter on the
    same scale. Per quarter the county's worst township is 100 by construction, every quarter: a trend
    needs the pooled scale to show whether its divide narrows. Empty when the township is outside the
    scope."""
    if scope.township_code is not None and scope.township_code != township_code:
        return pl.DataFrame()
    ind = indicators(period=None)
    if not ind.height:
        return pl.DataFrame()
    pooled = divide_index(ind)
    median = pooled.group_by("period").agg(pl.col("index").median().alias("county_median"))
    return (
        pooled.filter(pl.col("township_code") == township_code)
        .join(median, on="period", how="left")
        .sort("period")
    )


@cached
def benchmarks(*, scope: Scope) -> pl.DataFrame:
    """Internet penetration, urban vs rural: the county's (population-weighted, per quarter, townships
    in scope) beside CNNIC's national figures. Columns: when (date of the quarter's end or of the
    report), group (urban | rural), rate, source (county | national)."""
    ind = _in_scope(indicators(period=None), scope)
    county = (
        ind.group_by("period", "urban")
        .agg(
            ((pl.col("internet_rate") * pl.col("population")).sum() / pl.col("population").sum()).alias(
                "rate"
            ),
            pl.col("last_day").max(),
        )
        .select(
            (pl.col("last_day").cast(pl.Date)).alias("when"),
            pl.when(pl.col("urban")).then(pl.lit("urban")).otherwise(pl.lit("rural")).alias("group"),
            "rate",
            pl.lit("county").alias("source"),
        )
    )
    national = pl.DataFrame(
        [
            (dt.date.fromisoformat(f"{when}-30"), grp, rate, "national")
            for when, urban, rural in NATIONAL
            for grp, rate in (("urban", urban), ("rural", rural))
        ],
        schema={"when": pl.Date, "group": pl.String, "rate": pl.Float64, "source": pl.String},
        orient="row",
    )
    return pl.concat([national, county]).sort("source", "group", "when")


@cached
def use_drops(*, scope: Scope, as_of_day: int, drop: float = 0.4) -> pl.DataFrame:
    """Townships whose platform use in the last 7 full days fell by at least `drop` against the 28 days
    before: township_code, recent and before (records per day), change (-0.5 = halved)."""
    r = rollup_daily
    recent = (r.c.day >= as_of_day - 7) & (r.c.day < as_of_day)
    q = (
        select(
            r.c.township_code,
            func.sum(case((recent, r.c.n), else_=0)).label("recent"),
            func.sum(r.c.n).label("total"),
        )
        .where(scope.where(r), r.c.day.between(as_of_day - 35, as_of_day - 1))
        .group_by(r.c.township_code)
    )
    got = eng.read_frame(q, schema={"township_code": pl.Int64, "recent": pl.Int64, "total": pl.Int64})
    return (
        got.with_columns(
            (pl.col("recent") / 7).alias("recent_per_day"),
            ((pl.col("total") - pl.col("recent")) / 28).alias("before_per_day"),
        )
        .filter(pl.col("before_per_day") > 0)
        .with_columns((pl.col("recent_per_day") / pl.col("before_per_day") - 1).alias("change"))
        .filter(pl.col("change") <= -drop)
        .select("township_code", "recent_per_day", "before_per_day", "change")
        .sort("change")
    )
