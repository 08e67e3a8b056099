"""The price warnings, as pure functions on numbers and polars frames (no database, no Dash).

Three published anchors, each implemented as its definition says, then one rule of our own:

- FAO's Indicator of Food Price Anomalies (IFPA, SDG 2.c.1) on monthly prices.
- WFP's Alert for Price Spikes (ALPS) on monthly prices, with its qualification rules.
- China's hog-grain price ratio plan (NDRC and others, 2021) on weekly prices, both sides.
- Below production cost: the farm-gate price under the cost of producing it (a subsidy trigger).

Months are integers `year * 12 + (month - 1)`; weeks are `(local day + 3) // 7` (weeks start Monday).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

# --- months and weeks ------------------------------------------------------------------------------


def month_of(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_label(m: int) -> str:
    return f"{m // 12}-{m % 12 + 1:02d}"


def week_of_day(day: int) -> int:
    """Local day number (days since 1970-01-01, a Thursday) -> week number, weeks starting Monday."""
    return (int(day) + 3) // 7


# --- FAO IFPA --------------------------------------------------------------------------------------

# Checked against FAO's own statement of the formula (F. Baquedano, FAO, "Indicator of food price
# anomalies", AFCAS 25, Entebbe, 2017: "IFPA_t = α (CQGR_yt - mean)/σ + (1 - α)(CAGR_yt - mean)/σ, where
# α is equal to 0.40"; the means and σ are weighted over the same month t of the years). The form of the
# year weights is not in any method text we could search (only that recent years weigh more): the linear
# weights below are ours. Baquedano (2015, eq. 5), as a third-party implementation quotes it, divides the
# weighted variance by Σw·(n-1)/n; we keep the population form (README, "Not done yet").
IFPA_ALPHA = 0.4  # weight of the quarterly part; the annual part weighs 1 - 0.4 = 0.6
# Minimum history: a month's IFPA standardises its growth rates against the same calendar month of
# earlier years. A weighted standard deviation of fewer than 3 values is noise, so we require the
# month's CQGR and CAGR in at least 3 years (the current one included). The annual rate needs the price
# 12 months earlier, so the first IFPA of a complete series comes with its 37th month of prices.
IFPA_MIN_YEARS = 3
IFPA_MIN_MONTHS = 12 * IFPA_MIN_YEARS + 1

IFPA_BANDS = ("abnormal_low", "moderate_low", "normal", "moderate_high", "abnormal_high")


def ifpa_band(v: float | None) -> str | None:
    """FAO's bands: normal within (-0.5, 0.5); moderately high [0.5, 1); abnormally high >= 1; mirrored below."""
    if v is None or not np.isfinite(v):
        return None
    if v >= 1:
        return "abnormal_high"
    if v >= 0.5:
        return "moderate_high"
    if v <= -1:
        return "abnormal_low"
    if v <= -0.5:
        return "moderate_low"
    return "normal"


def weighted_stats(values: np.ndarray) -> tuple[float, float]:
    """Weighted mean and weighted (population) standard deviation of values in time order, oldest first.

    FAO's method note weighs recent years more; we use linear weights w_j = j / sum(1..n), so the newest of
    n years weighs n times the oldest."""
    n = len(values)
    w = np.arange(1, n + 1, dtype=float)
    w /= w.sum()
    mean = float((w * values).sum())
    sd = float(np.sqrt((w * (values - mean) ** 2).sum()))
    return mean, sd


def compound_growth(price: dict[int, float], m: int, lag: int) -> float | None:
    """(P_m / P_{m-lag})^(1/lag) - 1, or None when either price is missing or not positive."""
    p, q = price.get(m), price.get(m - lag)
    if p is None or q is None or p <= 0 or q <= 0:
        return None
    return float((p / q) ** (1.0 / lag) - 1.0)


def ifpa(months: np.ndarray, prices: np.ndarray) -> pl.DataFrame:
    """IFPA for every month of a monthly series (months need not be contiguous: gaps stay gaps).

    IFPA_t = 0.4 * (CQGR_t - wmean) / wsd + 0.6 * (CAGR_t - wmean) / wsd, the weighted mean and sd taken
    over the same calendar month's rates in this and every earlier year with a rate (recent years weigh
    more). Null where the history is shorter than IFPA_MIN_YEARS same-month rates, or where a part's
    weighted sd is zero (a flat series has no anomaly to measure)."""
    price = {int(m): float(p) for m, p in zip(months, prices, strict=True)}
    ms = sorted(price)
    cq = {m: compound_growth(price, m, 3) for m in ms}
    ca = {m: compound_growth(price, m, 12) for m in ms}
    out: dict[str, list[object]] = {k: [] for k in ("month", "cqgr", "cagr", "cqgr_z", "cagr_z", "ifpa")}
    for m in ms:
        zq = _standardised(cq, m)
        za = _standardised(ca, m)
        value = IFPA_ALPHA * zq + (1 - IFPA_ALPHA) * za if zq is not None and za is not None else None
        for k, v in (
            ("month", m),
            ("cqgr", cq[m]),
            ("cagr", ca[m]),
            ("cqgr_z", zq),
            ("cagr_z", za),
            ("ifpa", value),
        ):
            out[k].append(v)
    frame = pl.DataFrame(
        out,
        schema={"month": pl.Int32, **{k: pl.Float64 for k in ("cqgr", "cagr", "cqgr_z", "cagr_z", "ifpa")}},
    )
    return frame.with_columns(
        pl.col("ifpa").map_elements(ifpa_band, return_dtype=pl.String).alias("ifpa_band")
    )


def _standardised(rates: dict[int, float | None], m: int) -> float | None:
    """The rate at m against the same calendar month's rates in this and earlier years."""
    if rates.get(m) is None:
        return None
    same = [rates[k] for k in sorted(rates) if k <= m and k % 12 == m % 12 and rates[k] is not None]
    if len(same) < IFPA_MIN_YEARS:
        return None
    mean, sd = weighted_stats(np.array(same, dtype=float))
    if sd <= 1e-12:
        return None
    return (float(rates[m]) - mean) / sd  # type: ignore[arg-type]


# --- WFP ALPS --------------------------------------------------------------------------------------

ALPS_MIN_MONTHS = 36  # at least 3 years of data (first to last month)
ALPS_MIN_COVERAGE = 0.7  # at least 70% of the months in that span have a price
ALPS_RECENT_MONTHS = 6  # and a price in the last 6 months

ALPS_BANDS = ("normal", "stress", "alert", "crisis")


def alps_band(v: float | None) -> str | None:
    """WFP's bands on |ALPS|: normal < 0.25, stress [0.25, 1), alert [1, 2), crisis >= 2 (the side is the
    sign: WFP warns on the high side only; we read the low side with the same bands)."""
    if v is None or not np.isfinite(v):
        return None
    a = abs(v)
    if a >= 2:
        return "crisis"
    if a >= 1:
        return "alert"
    if a >= 0.25:
        return "stress"
    return "normal"


@dataclass(frozen=True)
class Qualification:
    ok: bool
    months_present: int
    span_months: int
    last_month: int | None
    reasons: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (zh, en) of every rule failed

    @property
    def coverage(self) -> float:
        return self.months_present / self.span_months if self.span_months else 0.0


def alps_qualifies(months: np.ndarray, as_of_month: int) -> Qualification:
    """WFP's rules: >= 3 years of data, >= 70% of months present, a price in the last 6 months."""
    ms = sorted({int(m) for m in months})
    if not ms:
        return Qualification(False, 0, 0, None, (("没有价格", "no prices"),))
    span = ms[-1] - ms[0] + 1
    reasons: list[tuple[str, str]] = []
    if span < ALPS_MIN_MONTHS:
        reasons.append(
            (
                f"历史不足3年 (仅 {span} 个月)",
                f"less than 3 years of data ({span} months)",
            )
        )
    cov = len(ms) / span
    if cov < ALPS_MIN_COVERAGE:
        reasons.append(
            (
                f"月份覆盖率 {cov:.0%} 低于70%",
                f"only {cov:.0%} of months have a price (70% needed)",
            )
        )
    if as_of_month - ms[-1] >= ALPS_RECENT_MONTHS:
        reasons.append(
            (
                f"近6个月没有价格 (最近 {month_label(ms[-1])})",
                f"no price in the last 6 months (latest {month_label(ms[-1])})",
            )
        )
    return Qualification(not reasons, len(ms), span, ms[-1], tuple(reasons))


def seasonal_fit(months: np.ndarray, prices: np.ndarray) -> tuple[np.ndarray, float]:
    """OLS of price on a constant, a linear time trend and 11 calendar-month dummies (WFP's seasonal
    trend); returns the fitted values and the residuals' standard deviation (degrees of freedom n - k)."""
    m = months.astype(float)
    t = m - m.min()
    cal = months.astype(int) % 12
    cols = [np.ones_like(t), t] + [(cal == k).astype(float) for k in range(1, 12)]
    x = np.column_stack(cols)
    keep = np.asarray(x.any(axis=0), dtype=bool)  # a calendar month never observed: its dummy is all zero
    keep[:2] = True
    x = x[:, keep]
    beta, *_ = np.linalg.lstsq(x, prices.astype(float), rcond=None)
    fitted = x @ beta
    dof = max(1, len(prices) - x.shape[1])
    sd = float(np.sqrt(((prices - fitted) ** 2).sum() / dof))
    return fitted, sd


def alps(months: np.ndarray, prices: np.ndarray, as_of_month: int) -> tuple[Qualification, pl.DataFrame]:
    """ALPS_t = (P_t - seasonal trend_t) / sd(residuals), for every month of a qualifying series.

    A series that does not qualify gets no figure at all (its reasons say why), never a made-up one;
    a qualifying series whose residuals have zero spread (a flat or perfectly seasonal series) gets
    ALPS null: nothing deviates."""
    q = alps_qualifies(months, as_of_month)
    schema = {"month": pl.Int32, "trend": pl.Float64, "resid_sd": pl.Float64, "alps": pl.Float64}
    if not q.ok:
        frame = pl.DataFrame({"month": months.astype(np.int32)}, schema={"month": pl.Int32})
        return q, frame.with_columns(
            pl.lit(None, pl.Float64).alias("trend"),
            pl.lit(None, pl.Float64).alias("resid_sd"),
            pl.lit(None, pl.Float64).alias("alps"),
            pl.lit(None, pl.String).alias("alps_band"),
        )
    fitted, sd = seasonal_fit(months, prices)
    value = (prices - fitted) / sd if sd > 1e-9 * max(1.0, float(np.abs(prices).mean())) else None
    frame = pl.DataFrame(
        {
            "month": months.astype(np.int32),
            "trend": fitted,
            "resid_sd": np.full(len(months), sd),
            "alps": value if value is not None else np.full(len(months), np.nan),
        },
        schema=schema,
    ).with_columns(pl.col("alps").fill_nan(None))
    return q, frame.with_columns(
        pl.col("alps").map_elements(alps_band, return_dtype=pl.String).alias("alps_band")
    )


# --- hog-grain price ratio (NDRC 2021) -------------------------------------------------------------
# Checked against the published texts (NDRC and four ministries, 《完善政府猪肉储备调节机制 做好猪肉市场
# 保供稳价工作预案》, June 2021, as NDRC's own notices quote it): falling side, "猪粮比价低于6:1时发布三级
# 预警; 连续3周处于5:1-6:1时发布二级预警; 低于5:1时发布一级预警" (e.g. NDRC, 2022-02-08: 5.57:1 three
# weeks running -> level 2; 2023-02-06: 4.96:1 -> level 1). Rising side, the indicator is the weekly mean
# lean-pork retail price of 36 large and medium cities year on year: 30%-40% level 2, over 40% level 1
# (NDRC, 2022-09-26 and 2022-11-15). No text we found gives a rising level 3 at a hog-grain ratio above
# 9:1: that bound belongs to the earlier plans (2015's 9:1, 2012's 8.5:1 "green zone" edge). So the
# rising side here has levels 2 and 1 only; 9:1 is drawn on the chart as a reference line, not a warning.
HOG_GRAIN_LOW = 6.0  # below 6:1: falling side, level 3
HOG_GRAIN_CRITICAL = 5.0  # below 5:1: level 1 (reserve purchases start); 5-6 for 3 weeks running: level 2
HOG_GRAIN_RUN = 3
HOG_GRAIN_HIGH = 9.0  # the older plans' upper bound: a reference line on the chart, not a level
PORK_YOY_L2 = 0.30  # lean-pork retail price up 30-40% year on year: rising level 2
PORK_YOY_L1 = 0.40  # up more than 40%: rising level 1
WEEKS_A_YEAR = 52


def hog_grain(weeks: np.ndarray, hog: np.ndarray, corn: np.ndarray, pork: np.ndarray) -> pl.DataFrame:
    """Weekly ratio hog / corn and the plan's warning levels (1 most severe, 3 least; null = none).

    Falling: ratio < 5 -> 1; ratio in [5, 6) this week and the two weeks before -> 2; ratio < 6 -> 3.
    Rising: pork up > 40% on the same week a year (52 weeks) earlier -> 1; up 30-40% -> 2 (the 2021
    plan has no rising level 3; see the note above)."""
    w = weeks.astype(int)
    ratio = np.where(
        (corn > 0) & np.isfinite(corn) & np.isfinite(hog), hog / np.where(corn > 0, corn, 1), np.nan
    )
    by_week = dict(zip(w.tolist(), ratio.tolist(), strict=True))
    pork_by = dict(zip(w.tolist(), pork.tolist(), strict=True))
    fall: list[int | None] = []
    rise: list[int | None] = []
    yoy: list[float | None] = []
    for k, r in zip(w.tolist(), ratio.tolist(), strict=True):
        before = pork_by.get(k - WEEKS_A_YEAR)
        now = pork_by.get(k)
        y = (
            float(now / before - 1)
            if before is not None
            and now is not None
            and np.isfinite(before)
            and np.isfinite(now)
            and before > 0
            else None
        )
        yoy.append(y)
        fall.append(_fall_level(by_week, k, r))
        if y is not None and y > PORK_YOY_L1:
            rise.append(1)
        elif y is not None and y >= PORK_YOY_L2:
            rise.append(2)
        else:
            rise.append(None)
    return pl.DataFrame(
        {"week": w, "ratio": ratio, "pork_yoy": yoy, "fall_level": fall, "rise_level": rise},
        schema={
            "week": pl.Int32,
            "ratio": pl.Float64,
            "pork_yoy": pl.Float64,
            "fall_level": pl.Int8,
            "rise_level": pl.Int8,
        },
    ).with_columns(pl.col("ratio").fill_nan(None))


def _fall_level(by_week: dict[int, float], k: int, r: float) -> int | None:
    if not np.isfinite(r) or r >= HOG_GRAIN_LOW:
        return None
    if r < HOG_GRAIN_CRITICAL:
        return 1
    run = [by_week.get(k - i) for i in range(HOG_GRAIN_RUN)]
    if all(x is not None and np.isfinite(x) and HOG_GRAIN_CRITICAL <= x < HOG_GRAIN_LOW for x in run):
        return 2
    return 3


# --- below production cost, and the combined level ------------------------------------------------


def below_cost(price: float | None, cost: float | None) -> float | None:
    """How far the farm-gate price is under the production cost, as a share of the cost (0.2 = 20% under);
    None when there is no price or cost, 0 when the price covers the cost."""
    if price is None or cost is None or cost <= 0:
        return None
    return max(0.0, 1.0 - price / cost)


IFPA_SEVERITY = {"normal": 0, "moderate_high": 1, "moderate_low": 1, "abnormal_high": 2, "abnormal_low": 2}
# ALPS counts from "alert" up: by construction about three ordinary months in four sit in "stress"
# (|ALPS| >= 0.25), which the page shows but which does not raise the level.
ALPS_SEVERITY = {"normal": 0, "stress": 0, "alert": 1, "crisis": 2}
LEVELS = ("normal", "watch", "abnormal", "escalated")  # 0..3: green, amber, red, red


def combined_level(ifpa_value: float | None, alps_value: float | None) -> tuple[int, str | None, bool]:
    """(level 0-3, side "high"/"low"/None, agreed). Each method's own reading: IFPA moderate = 1, abnormal
    = 2; ALPS alert = 1, crisis = 2. The level is the worse of the two, raised one (to 3 at most) when
    both warn on the same side, IFPA abnormal (|IFPA| >= 1) and ALPS at least alert (|ALPS| >= 1):
    two methods agreeing escalate."""
    bi = ifpa_band(ifpa_value)
    ba = alps_band(alps_value)
    si = IFPA_SEVERITY.get(bi or "", 0)
    sa = ALPS_SEVERITY.get(ba or "", 0)
    level = max(si, sa)
    if level == 0:
        return 0, None, False
    side_i = None if not si or ifpa_value is None else ("high" if ifpa_value > 0 else "low")
    side_a = None if not sa or alps_value is None else ("high" if alps_value > 0 else "low")
    agreed = si >= 2 and sa >= 1 and side_i == side_a
    if agreed:
        level = min(3, level + 1)
    # when they disagree, the side of the stronger reading; on a tie, IFPA's (the SDG indicator)
    side = side_i if si >= sa else side_a
    return level, side, agreed


# --- from observations to the monthly table ---------------------------------------------------------

OUTLIER_FACTOR = 3.0  # an observation over 3x (or under 1/3 of) its neighbourhood's median is an outlier


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Local day numbers -> months (year * 12 + month - 1), vectorised."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = d.astype("datetime64[M]").astype(int) % 12
    return (y * 12 + m).astype(np.int64)


def outliers(months: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """True for observations more than OUTLIER_FACTOR away from the median of their month and the months
    either side (a typed decimal slip, yuan for jiao): robust even for a month with a single report."""
    out = np.zeros(len(prices), dtype=bool)
    if not len(prices):
        return out
    ms = np.asarray(months)
    ref = np.empty(len(prices))
    for m in np.unique(ms):
        # pooled observations of the month and the months either side: one slip cannot be its own median
        ref[ms == m] = float(np.median(prices[(ms >= m - 1) & (ms <= m + 1)]))
    ratio = prices / np.where(ref > 0, ref, np.nan)
    out = (ratio > OUTLIER_FACTOR) | (ratio < 1 / OUTLIER_FACTOR)
    return np.asarray(np.nan_to_num(out, nan=0), dtype=bool)


def monthly(months: np.ndarray, prices: np.ndarray, outlier: np.ndarray) -> pl.DataFrame:
    """Monthly price = mean of the month's observations, outliers left out; with how many stand behind it."""
    frame = pl.DataFrame({"month": months, "price": prices, "outlier": outlier})
    return (
        frame.group_by("month")
        .agg(
            pl.col("price").filter(~pl.col("outlier")).mean().alias("price"),
            (~pl.col("outlier")).sum().cast(pl.Int32).alias("n_obs"),
            pl.col("outlier").sum().cast(pl.Int32).alias("n_outlier"),
        )
        .filter(pl.col("n_obs") > 0)
        .with_columns(pl.col("month").cast(pl.Int32))
        .sort("month")
    )


def indicators(
    month_frame: pl.DataFrame, as_of_month: int, cost: dict[int, float] | None = None
) -> tuple[Qualification, pl.DataFrame]:
    """Every warning of one series, month by month: IFPA, ALPS (if the series qualifies), the production
    cost and how far under it the price is, and the combined level. One implementation for the load, the
    page and `command-center prices report`."""
    ms = month_frame["month"].to_numpy()
    ps = month_frame["price"].to_numpy().astype(float)
    f_ifpa = ifpa(ms, ps)
    q, f_alps = alps(ms, ps, as_of_month)
    frame = month_frame.join(f_ifpa, on="month", how="left").join(f_alps, on="month", how="left")
    costs = [(cost or {}).get(int(m) // 12) for m in ms]
    frame = frame.with_columns(pl.Series("cost", costs, dtype=pl.Float64))
    rows = []
    for r in frame.select("price", "cost", "ifpa", "alps").iter_rows():
        under = below_cost(r[0], r[1])
        level, side, agreed = combined_level(r[2], r[3])
        if under:  # the price does not cover the cost of producing it: a subsidy trigger, low side
            level, side = max(level, 2), "low"
        rows.append((under, level, side, agreed))
    return q, frame.with_columns(
        pl.Series("below_cost", [r[0] for r in rows], dtype=pl.Float64),
        pl.Series("level", [r[1] for r in rows], dtype=pl.Int16),
        pl.Series("side", [r[2] for r in rows], dtype=pl.String),
        pl.Series("agreed", [r[3] for r in rows], dtype=pl.Boolean),
    )


# --- a warning in plain words ---------------------------------------------------------------------

IFPA_WORDS = {
    "abnormal_high": ("异常偏高", "abnormally high"),
    "moderate_high": ("偏高", "moderately high"),
    "normal": ("正常", "normal"),
    "moderate_low": ("偏低", "moderately low"),
    "abnormal_low": ("异常偏低", "abnormally low"),
}
ALPS_WORDS = {
    "normal": ("正常", "normal"),
    "stress": ("承压", "stress"),
    "alert": ("警报", "alert"),
    "crisis": ("危机", "crisis"),
}


def explain(
    product: tuple[str, str],
    market: tuple[str, str],
    row: dict[str, object],
    rises: int,
) -> tuple[str, str]:
    """Why this warning, naming the figures that raised it: the price against its usual level for the
    month, the run of rises or falls behind it, IFPA and ALPS with their bands, agreement, the cost."""
    m = int(row["month"])  # type: ignore[call-overload]
    price = float(row["price"])  # type: ignore[arg-type]
    trend = row.get("trend")
    zh: list[str] = [f"{product[0]}, {market[0]}, {m // 12}年{m % 12 + 1}月: 均价 {price:.2f} 元/公斤"]
    en: list[str] = [f"{product[1]}, {market[1]}, {month_label(m)}: {price:.2f} yuan/kg"]
    if isinstance(trend, float) and trend > 0:
        gap = price / trend - 1
        zh.append(f"比该月通常水平{'高' if gap >= 0 else '低'} {abs(gap):.0%}")
        en.append(f"{abs(gap):.0%} {'above' if gap >= 0 else 'below'} the month's usual level")
    if abs(rises) >= 2:
        zh.append(f"此前连续 {abs(rises)} 个月{'上涨' if rises > 0 else '下跌'}")
        en.append(f"after {abs(rises)} months of {'rises' if rises > 0 else 'falls'}")
    parts_zh, parts_en = [], []
    ifpa_v, alps_v = row.get("ifpa"), row.get("alps")
    if isinstance(ifpa_v, float):
        b = IFPA_WORDS[ifpa_band(ifpa_v) or "normal"]
        parts_zh.append(f"IFPA {ifpa_v:.1f} ({b[0]})")
        parts_en.append(f"IFPA {ifpa_v:.1f} ({b[1]})")
    if isinstance(alps_v, float):
        b = ALPS_WORDS[alps_band(alps_v) or "normal"]
        parts_zh.append(f"ALPS {alps_v:.1f} ({b[0]})")
        parts_en.append(f"ALPS {alps_v:.1f} ({b[1]})")
    if parts_zh:
        agreed = bool(row.get("agreed"))
        zh.append("; ".join(parts_zh) + (": 两种方法均判异常, 升级" if agreed else ""))
        en.append("; ".join(parts_en) + (": both abnormal, escalated" if agreed else ""))
    under = row.get("below_cost")
    cost = row.get("cost")
    if isinstance(under, float) and under > 0 and isinstance(cost, float):
        zh.append(f"低于生产成本 {cost:.2f} 元/公斤 {under:.0%}: 触发价格补贴")
        en.append(f"{under:.0%} under the production cost of {cost:.2f} yuan/kg: subsidy trigger")
    return "; ".join(zh) + "。", "; ".join(en) + "."


def run_of_moves(prices: list[float]) -> int:
    """Months of consecutive rises (> 0) or falls (< 0) ending at the last price."""
    n = 0
    for a, b in zip(reversed(prices[:-1]), reversed(prices[1:]), strict=False):
        step = 1 if b > a else -1 if b < a else 0
        if step == 0 or (n and (step > 0) != (n > 0)):
            break
        n += step
    return n
