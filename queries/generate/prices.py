"""Generator part: the agricultural price pool (issue 9).

Six years of prices for the county's products in its markets, with seasonality, a slow trend, a hog
cycle, and injected shocks on both sides (recorded in price_episode so tests check the warnings find
them); cooperatives reporting farm-gate prices and volumes, imperfectly (prices in yuan/jin, late
reports, decimal slips: recorded in price_obs.seed_flag); production costs; three series made to fail
WFP's qualification (too short, too sparse, stale: price_series.seed_expect). The monthly indicators and
the hog-grain weeks are computed here, at load time, never per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, insert

from queries import price_signals as sig
from queries.generate import reference as ref
from queries.generate.parts import BuildContext, Part
from queries.tables import (
    price_coop,
    price_coop_month,
    price_cost,
    price_episode,
    price_hog_week,
    price_market,
    price_month,
    price_obs,
    price_product,
    price_series,
)
from queries.timebase import local_day_of

HISTORY_MONTHS = 72


@dataclass(frozen=True)
class Product:
    code: str
    zh: str
    en: str
    category: str
    base: float  # wholesale yuan/kg
    amp: float  # seasonal amplitude (share)
    peak: int  # calendar month of the seasonal high, 1-12
    markets: tuple[str, ...]


PRODUCTS = (
    Product(
        "tomato", "番茄", "Tomato", "vegetable", 4.0, 0.35, 2, ("wholesale", "farmgate", "wenlan", "caoba")
    ),
    Product(
        "cabbage", "大白菜", "Chinese cabbage", "vegetable", 1.8, 0.40, 1, ("wholesale", "farmgate", "wenlan")
    ),
    Product("chili", "辣椒", "Chili pepper", "vegetable", 7.0, 0.25, 3, ("wholesale", "farmgate", "caoba")),
    Product(
        "pomegranate",
        "蒙自石榴",
        "Mengzi pomegranate",
        "fruit",
        9.0,
        0.30,
        6,
        ("wholesale", "farmgate", "wenlan", "mingjiu"),
    ),
    Product("loquat", "枇杷", "Loquat", "fruit", 12.0, 0.30, 12, ("wholesale", "farmgate", "mingjiu")),
    Product("grape", "葡萄", "Grape", "fruit", 8.0, 0.30, 4, ("wholesale", "farmgate", "caoba")),
    Product("hog", "生猪", "Live hog", "livestock", 18.5, 0.04, 1, ("wholesale", "farmgate")),
    Product("pork", "精瘦肉", "Lean pork (retail)", "meat", 26.0, 0.04, 1, ("wenlan", "caoba", "mingjiu")),
    Product("corn", "玉米", "Corn", "grain", 2.6, 0.05, 7, ("wholesale", "farmgate")),
    Product("rice", "稻谷", "Paddy rice", "grain", 2.9, 0.04, 8, ("wholesale", "farmgate", "wenlan")),
    Product("noodle", "蒙自米线", "Mengzi rice noodles", "specialty", 10.0, 0.03, 1, ("wholesale", "wenlan")),
)

# code, zh, en, kind, county-wide, township
MARKETS = (
    (
        "wholesale",
        "蒙自市农产品批发市场",
        "Mengzi agricultural wholesale market",
        "wholesale",
        True,
        532503001,
    ),
    ("farmgate", "合作社产地收购价", "Cooperatives' farm-gate prices", "farm_gate", True, 532503102),
    ("wenlan", "文澜农贸市场", "Wenlan farmers' market", "farmers", False, 532503001),
    ("caoba", "草坝镇农贸市场", "Caoba farmers' market", "farmers", False, 532503102),
    ("mingjiu", "鸣鹫镇农贸市场", "Mingjiu farmers' market", "farmers", False, 532503106),
)
MARKUP = {"wholesale": 1.0, "farm_gate": 0.7, "farmers": 1.25}
RURAL = (532503102, 532503105, 532503106, 532503107, 532503201, 532503202, 532503203, 532503204)

# Series that must fail WFP's qualification, and how: (product, market) -> expectation
FAILING = {("grape", "caoba"): "short", ("loquat", "mingjiu"): "sparse", ("rice", "wenlan"): "stale"}

# Shocks, by months before the last month E: (product, markets, first, last, side, factors per month)
EPISODES: tuple[tuple[str, tuple[str, ...], int, int, str, tuple[float, ...], str, str], ...] = (
    (
        "pork",
        ("wenlan", "caoba", "mingjiu"),
        3,
        0,
        "high",
        (1.2, 1.35, 1.45, 1.5),
        "猪肉零售价连涨四个月 (生猪供应偏紧)",
        "Pork retail up four months running (tight hog supply)",
    ),
    (
        "tomato",
        ("wholesale", "farmgate"),
        2,
        0,
        "low",
        (0.55, 0.5, 0.5),
        "番茄集中上市, 产地价跌破成本",
        "Tomato glut: farm-gate price under the production cost",
    ),
    (
        "hog",
        ("wholesale", "farmgate"),
        20,
        15,
        "low",
        (0.75, 0.66, 0.62, 0.62, 0.66, 0.75),
        "生猪价格低迷, 猪粮比跌破 5:1",
        "Hog prices slump: hog-grain ratio under 5:1",
    ),
    (
        "pomegranate",
        ("wholesale",),
        14,
        12,
        "high",
        (1.4, 1.55, 1.45),
        "石榴遭冰雹减产, 批发价大涨",
        "Hail cuts the pomegranate crop: wholesale price jumps",
    ),
    (
        "cabbage",
        ("wholesale",),
        30,
        28,
        "low",
        (0.6, 0.5, 0.6),
        "大白菜滞销, 批发价暴跌",
        "Cabbage unsold: wholesale price collapses",
    ),
)

# per scale: observations a week per market series, cooperatives per farm-gate product, reports a week
DENSITY = {"test": (1, 2, 1), "demo": (3, 4, 1), "full": (7, 8, 2)}
JIN_RATE, LATE_RATE, SLIP_RATE = 0.08, 0.08, 0.01


def build(conn: Connection, ctx: BuildContext) -> None:
    rng = ctx.rng
    per_week, coops_per, coop_week = DENSITY.get(ctx.scale, DENSITY["demo"])
    last_day = local_day_of(ctx.end_ts)
    end_month = int(sig.month_of_day(np.array([last_day]))[0])
    first_month = end_month - HISTORY_MONTHS + 1
    first_day = int(np.datetime64(f"{first_month // 12}-{first_month % 12 + 1:02d}-01", "D").astype(int))
    towns = {t.code: t for t in ref.townships()}
    markets = {code: i + 1 for i, (code, *_rest) in enumerate(MARKETS)}
    kinds = {m[0]: m[3] for m in MARKETS}
    conn.execute(
        insert(price_market),
        [
            dict(
                id=markets[code],
                code=code,
                name_zh=zh,
                name_en=en,
                kind=kind,
                county_wide=wide,
                township_code=town,
                lat=towns[town].lat + (0.004 * i if code != "farmgate" else 0.02),
                lon=towns[town].lon + (0.004 * i if code != "farmgate" else 0.02),
            )
            for i, (code, zh, en, kind, wide, town) in enumerate(MARKETS)
        ],
    )
    conn.execute(
        insert(price_product),
        [
            dict(id=i + 1, code=p.code, name_zh=p.zh, name_en=p.en, category=p.category)
            for i, p in enumerate(PRODUCTS)
        ],
    )
    months = np.arange(first_month, end_month + 1)
    years = sorted({int(m) // 12 for m in months})
    costs: dict[int, dict[int, float]] = {}
    cost_rows = []
    for pid, p in enumerate(PRODUCTS, start=1):
        if "farmgate" not in p.markets:
            continue
        # the farm-gate price covers its cost in an ordinary seasonal low; only a shock pushes it under
        c0 = p.base * MARKUP["farm_gate"] * (1 - p.amp) * 0.9
        costs[pid] = {y: round(c0 * 1.03 ** (y - years[0]), 3) for y in years}
        cost_rows += [dict(product_id=pid, year=y, cost=c) for y, c in costs[pid].items()]
    conn.execute(insert(price_cost), cost_rows)

    # the monthly level of each product: seasonality, trend, a slow random walk, the hog cycle
    level: dict[str, np.ndarray] = {}
    for p in PRODUCTS:
        cal = months % 12
        season = 1 + p.amp * np.cos(2 * np.pi * (cal - (p.peak - 1)) / 12)
        trend = 1.025 ** ((months - first_month) / 12)
        walk = np.exp(np.cumsum(rng.normal(0, 0.01, len(months))) + rng.normal(0, 0.03, len(months)))
        walk /= walk.mean()
        cycle = 1 + (
            0.07 * np.sin(2 * np.pi * (months - first_month) / 40) if p.code in ("hog", "pork") else 0
        )
        level[p.code] = p.base * season * trend * walk * cycle

    coop_rows: list[dict[str, Any]] = []
    series_rows: list[dict[str, Any]] = []
    episode_rows: list[dict[str, Any]] = []
    obs_parts: list[pl.DataFrame] = []
    coop_month_rows: list[dict[str, Any]] = []
    sid = 0
    days_all = np.arange(first_day, last_day + 1)
    for pid, p in enumerate(PRODUCTS, start=1):
        for mcode in p.markets:
            sid += 1
            kind = kinds[mcode]
            factor = np.ones(len(months))
            for prod, mks, first, last, side, fs, zh, en in EPISODES:
                if prod == p.code and mcode in mks:
                    lo, hi = end_month - first, end_month - last
                    factor[lo - first_month : hi - first_month + 1] = fs
                    episode_rows.append(
                        dict(
                            id=len(episode_rows) + 1,
                            series_id=sid,
                            first_month=lo,
                            last_month=hi,
                            side=side,
                            factor=max(fs) if side == "high" else min(fs),
                            note_zh=zh,
                            note_en=en,
                        )
                    )
            monthly_price = level[p.code] * MARKUP[kind] * factor
            expect = FAILING.get((p.code, mcode), "ok")
            keep_month = np.ones(len(months), dtype=bool)
            if expect == "short":
                keep_month[: len(months) - 24] = False
            elif expect == "sparse":
                keep_month &= rng.random(len(months)) > 0.45
                keep_month[-1] = True
            elif expect == "stale":
                keep_month[len(months) - 8 :] = False
            series_rows.append(dict(id=sid, product_id=pid, market_id=markets[mcode], seed_expect=expect))
            if kind == "farm_gate":
                for k in range(coops_per):
                    cid = len(coop_rows) + 1
                    town = int(RURAL[int(rng.integers(len(RURAL)))])
                    members = int(rng.integers(20, 160))
                    coop_rows.append(
                        dict(
                            id=cid,
                            name_zh=f"{towns[town].name_zh}{p.zh}种养专业合作社{'' if k == 0 else k + 1}",
                            name_en=f"{towns[town].name_en} {p.en} cooperative{'' if k == 0 else f' {k + 1}'}",
                            township_code=town,
                            product_id=pid,
                            members=members,
                        )
                    )
                    obs = _observations(rng, days_all, first_month, monthly_price, keep_month, coop_week)
                    # volume sold follows the harvest and leans away from low prices
                    harvest = 1 + p.amp * np.cos(2 * np.pi * ((obs["month"] % 12) - (p.peak + 5)) / 12)
                    rel = obs["true"] / (level[p.code][obs["month"] - first_month] * MARKUP[kind])
                    vol = (
                        members * 35 * harvest * np.clip(rel, 0.3, 2) ** 0.4 * rng.uniform(0.8, 1.2, len(rel))
                    )
                    obs["volume_kg"] = np.round(vol / coop_week, 1)
                    obs["coop_id"] = np.full(len(rel), cid)
                    obs_parts.append(_flagged(rng, obs, sid, late=True))
                    sold = (
                        pl.DataFrame({"month": obs["month"], "v": obs["volume_kg"]})
                        .group_by("month")
                        .agg(pl.col("v").sum())
                    )
                    for m, v in sold.iter_rows():
                        produced = v * float(rng.uniform(1.02, 1.25))
                        coop_month_rows.append(
                            dict(
                                coop_id=cid, month=int(m), produced_kg=round(produced, 1), sold_kg=round(v, 1)
                            )
                        )
            else:
                obs = _observations(rng, days_all, first_month, monthly_price, keep_month, per_week)
                obs["volume_kg"] = np.full(len(obs["day"]), np.nan)
                obs["coop_id"] = np.full(len(obs["day"]), -1)
                obs_parts.append(_flagged(rng, obs, sid, late=False))

    conn.execute(insert(price_coop), coop_rows)
    obs_frame = pl.concat(obs_parts).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"))
    obs_frame = obs_frame.with_columns(
        pl.when(pl.col("coop_id") < 0).then(None).otherwise(pl.col("coop_id")).alias("coop_id"),
        pl.col("volume_kg").fill_nan(None),
    )
    # normalise units, then find decimal slips per series
    obs_frame = obs_frame.with_columns(
        pl.when(pl.col("unit_raw") == "yuan/jin")
        .then(pl.col("price_raw") * 2)
        .otherwise(pl.col("price_raw"))
        .alias("price")
    )
    flags = []
    for s in obs_frame.partition_by("series_id", maintain_order=True):
        mo = sig.month_of_day(s["day"].to_numpy())
        flags.append(s.with_columns(pl.Series("outlier", sig.outliers(mo, s["price"].to_numpy()))))
    obs_frame = pl.concat(flags)
    cols = [c.name for c in price_obs.columns]
    for lo in range(0, obs_frame.height, 50_000):
        conn.execute(insert(price_obs), obs_frame.slice(lo, 50_000).select(cols).to_dicts())

    product_of = {r["id"]: r["product_id"] for r in series_rows}
    month_rows: list[dict[str, Any]] = []
    for s in obs_frame.partition_by("series_id", maintain_order=True):
        series = int(s["series_id"][0])
        mo = sig.month_of_day(s["day"].to_numpy())
        mframe = sig.monthly(mo, s["price"].to_numpy(), s["outlier"].to_numpy())
        market_kind = kinds[MARKETS[next(r["market_id"] for r in series_rows if r["id"] == series) - 1][0]]
        cost = costs.get(product_of[series]) if market_kind == "farm_gate" else None
        q, ind = sig.indicators(mframe, end_month, cost)
        row = next(r for r in series_rows if r["id"] == series)
        row.update(
            months_present=q.months_present,
            span_months=q.span_months,
            last_month=q.last_month,
            qualifies=q.ok,
            reasons=json.dumps([list(r) for r in q.reasons], ensure_ascii=False),
        )
        cols_m = [c.name for c in price_month.columns]
        month_rows += ind.with_columns(pl.lit(series).alias("series_id")).select(cols_m).to_dicts()
    conn.execute(insert(price_series), series_rows)
    conn.execute(insert(price_month), month_rows)
    conn.execute(insert(price_episode), episode_rows)
    conn.execute(insert(price_coop_month), coop_month_rows)
    conn.execute(insert(price_hog_week), hog_weeks(obs_frame, series_rows, markets).to_dicts())
    ctx.meta["prices_end_month"] = str(end_month)
    ctx.meta["prices_as_of"] = str(int(ctx.end_ts))  # prices.as_of: current as of the build's end


def _observations(
    rng: np.random.Generator,
    days: np.ndarray,
    first_month: int,
    monthly_price: np.ndarray,
    keep_month: np.ndarray,
    per_week: int,
) -> dict[str, np.ndarray]:
    """`per_week` observations a week (on random days of each week), around the month's level."""
    step = 7.0 / per_week
    picks = np.floor(np.arange(days[0], days[-1] + 1 - step / 2, step) + rng.uniform(0, step)).astype(
        np.int64
    )
    picks = picks[picks <= days[-1]]
    mo = sig.month_of_day(picks)
    idx = mo - first_month
    ok = keep_month[idx]
    picks, idx, mo = picks[ok], idx[ok], mo[ok]
    true = monthly_price[idx] * np.exp(rng.normal(0, 0.03, len(picks)))
    return {"day": picks, "month": mo, "true": np.round(true, 2)}


def _flagged(rng: np.random.Generator, obs: dict[str, np.ndarray], sid: int, *, late: bool) -> pl.DataFrame:
    """Reports as sent: some in yuan/jin, some late (cooperatives), a few with a decimal slip (x10)."""
    n = len(obs["day"])
    u = rng.random(n)
    jin = u < JIN_RATE
    slip = (u >= JIN_RATE) & (u < JIN_RATE + SLIP_RATE)
    is_late = (rng.random(n) < LATE_RATE) if late else np.zeros(n, dtype=bool)
    price_raw = np.where(jin, np.round(obs["true"] / 2, 2), obs["true"])
    price_raw = np.where(slip, np.round(price_raw * 10, 2), price_raw)
    reported = obs["day"] + np.where(is_late, rng.integers(8, 40, n), rng.integers(0, 3, n))
    flag = [
        "outlier" if s else "jin" if j else "late" if la else None
        for s, j, la in zip(slip.tolist(), jin.tolist(), is_late.tolist(), strict=True)
    ]
    return pl.DataFrame(
        {
            "series_id": np.full(n, sid, dtype=np.int32),
            "coop_id": obs["coop_id"].astype(np.int64),
            "day": obs["day"].astype(np.int32),
            "reported_day": reported.astype(np.int32),
            "price_raw": price_raw,
            "unit_raw": np.where(jin, "yuan/jin", "yuan/kg"),
            "volume_kg": obs["volume_kg"].astype(float),
            "seed_flag": pl.Series(flag, dtype=pl.String),
        }
    )


def hog_weeks(obs: pl.DataFrame, series_rows: list[dict[str, Any]], markets: dict[str, int]) -> pl.DataFrame:
    """Weekly means: live hog and corn at the county wholesale market, lean pork over the farmers' markets;
    then the hog-grain ratio and its levels."""
    pids = {p.code: i + 1 for i, p in enumerate(PRODUCTS)}
    farmers = {markets[m[0]] for m in MARKETS if m[3] == "farmers"}

    def sids(product: str, market_ids: set[int]) -> list[int]:
        return [
            r["id"] for r in series_rows if r["product_id"] == pids[product] and r["market_id"] in market_ids
        ]

    wholesale = {markets["wholesale"]}
    clean = obs.filter(~pl.col("outlier")).with_columns(((pl.col("day") + 3) // 7).alias("week"))

    def weekly(ids: list[int], name: str) -> pl.DataFrame:
        return (
            clean.filter(pl.col("series_id").is_in(ids))
            .group_by("week")
            .agg(pl.col("price").mean().alias(name))
        )

    w = (
        weekly(sids("hog", wholesale), "hog")
        .join(weekly(sids("corn", wholesale), "corn"), on="week", how="full", coalesce=True)
        .join(weekly(sids("pork", farmers), "pork"), on="week", how="full", coalesce=True)
        .sort("week")
    )
    levels = sig.hog_grain(
        w["week"].to_numpy(),
        w["hog"].fill_null(np.nan).to_numpy(),
        w["corn"].fill_null(np.nan).to_numpy(),
        w["pork"].fill_null(np.nan).to_numpy(),
    )
    return (
        w.with_columns(pl.col("week").cast(pl.Int32))
        .join(levels, on="week")
        .select([c.name for c in price_hog_week.columns])
    )


PART = Part(
    name="prices",
    tables=(
        price_product,
        price_market,
        price_coop,
        price_series,
        price_obs,
        price_month,
        price_hog_week,
        price_cost,
        price_coop_month,
        price_episode,
    ),
    build=build,
)
