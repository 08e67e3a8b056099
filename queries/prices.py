"""Queries of the agricultural price monitor: the warning board, one series with its indicators, the
hog-grain weeks, cooperatives' reporting quality, and the ledger of decisions taken on warnings.

Scope: prices are public data. Every role sees the county-wide markets (the wholesale market, the
cooperatives' farm-gate prices); a township leader sees, besides, only the markets and cooperatives of
that township. The indicators were computed at load time (queries/generate/prices.py); nothing here
recomputes them per request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Integer, func, insert, or_, select, true

from queries import audit, meta
from queries import engine as eng
from queries import price_signals as sig
from queries.cache import cached
from queries.scope import Scope
from queries.tables import (
    pool_meta,
    price_coop,
    price_coop_month,
    price_decision,
    price_hog_week,
    price_market,
    price_month,
    price_obs,
    price_product,
    price_series,
)
from queries.timebase import day_start

SRC = "queries.prices"


class PriceInputError(ValueError):
    """A product, market or decision that does not exist or is not allowed: (zh, en) for the page."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def market_filter(scope: Scope) -> ColumnElement[bool]:
    m = price_market
    if scope.township_code is None:
        return true()
    return or_(m.c.county_wide.is_(True), m.c.township_code == scope.township_code)


AS_OF_KEY = "prices_as_of"  # pool_meta: see as_of()


def coop_filter(scope: Scope) -> ColumnElement[bool]:
    if scope.township_code is None:
        return true()
    return price_coop.c.township_code == scope.township_code


@cached(domains=())
def end_month() -> int:
    """The newest month of the price pool."""
    with eng.connect() as conn:
        v = conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "prices_end_month")).scalar()
    return int(v) if v is not None else 0


@cached(domains=())
def as_of() -> int:
    """When the price data was last current (epoch seconds): the pool's as-of time at the build that made
    it, or the newest price import after it (`prices_as_of`); the price page's "as of", which record
    batches do not move. A pool built before the key existed: the end of the newest observed day."""
    with eng.connect() as conn:
        v = conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == AS_OF_KEY)).scalar()
        if v is not None:
            return int(v)
        day = conn.execute(select(func.max(price_obs.c.day))).scalar()
    return 0 if day is None else day_start(int(day) + 1) - 1


@cached(domains=())
def products() -> pl.DataFrame:
    p = price_product
    return eng.read_frame(
        select(p.c.id, p.c.code, p.c.name_zh, p.c.name_en, p.c.category).order_by(p.c.id),
        schema={"id": pl.Int16},
    )


@cached(domains=())
def markets(*, scope: Scope) -> pl.DataFrame:
    m = price_market
    return eng.read_frame(
        select(
            m.c.id,
            m.c.code,
            m.c.name_zh,
            m.c.name_en,
            m.c.kind,
            m.c.county_wide,
            m.c.township_code,
            m.c.lat,
            m.c.lon,
        )
        .where(market_filter(scope))
        .order_by(m.c.id),
        schema={"id": pl.Int16, "county_wide": pl.Boolean},
    )


SERIES_COLS = (
    "series_id",
    "product_id",
    "market_id",
    "qualifies",
    "reasons",
    "months_present",
    "span_months",
)


def _series_select() -> Any:
    s, p, m = price_series, price_product, price_market
    return select(
        s.c.id.label("series_id"),
        s.c.product_id,
        s.c.market_id,
        s.c.qualifies,
        s.c.reasons,
        s.c.months_present,
        s.c.span_months,
        s.c.last_month,
        p.c.code.label("product"),
        p.c.name_zh.label("product_zh"),
        p.c.name_en.label("product_en"),
        m.c.code.label("market"),
        m.c.name_zh.label("market_zh"),
        m.c.name_en.label("market_en"),
        m.c.kind.label("market_kind"),
    ).select_from(s.join(p, p.c.id == s.c.product_id).join(m, m.c.id == s.c.market_id))


MONTH_SCHEMA: dict[str, Any] = {
    "month": pl.Int32,
    "n_obs": pl.Int32,
    "n_outlier": pl.Int32,
    "level": pl.Int16,
    "agreed": pl.Boolean,
    "ifpa_band": pl.String,
    "alps_band": pl.String,
    "side": pl.String,
    **{
        c: pl.Float64
        for c in ("price", "cqgr", "cagr", "ifpa", "trend", "resid_sd", "alps", "cost", "below_cost")
    },
}


_BOARD_SCHEMA = {"series_id": pl.Int32, "qualifies": pl.Boolean, **MONTH_SCHEMA}


@cached(domains=())
def board(*, scope: Scope, month: int) -> pl.DataFrame:
    """Every series the scope sees at `month` (or its latest month before): price, IFPA, ALPS, cost gap and
    the combined level, worst first. A series with no price that month shows its last one and its month."""
    s, pm = price_series, price_month
    latest = (
        select(pm.c.series_id, func.max(pm.c.month).label("month"))
        .where(pm.c.month <= month)
        .group_by(pm.c.series_id)
        .subquery()
    )
    q = (
        _series_select()
        .add_columns(
            pm.c.month,
            pm.c.price,
            pm.c.n_obs,
            pm.c.ifpa,
            pm.c.ifpa_band,
            pm.c.alps,
            pm.c.alps_band,
            pm.c.trend,
            pm.c.cost,
            pm.c.below_cost,
            pm.c.level,
            pm.c.side,
            pm.c.agreed,
        )
        .join(latest, latest.c.series_id == s.c.id)
        .join(pm, (pm.c.series_id == s.c.id) & (pm.c.month == latest.c.month))
        .where(market_filter(scope))
    )
    frame = eng.read_frame(q, schema=_BOARD_SCHEMA)
    return frame.sort(["level", "month", "series_id"], descending=[True, True, False])


@dataclass(frozen=True)
class Series:
    """One product in one market: its months with every indicator, and whether WFP's rules admit it."""

    info: dict[str, Any]
    months: pl.DataFrame
    qualifies: bool
    reasons: list[tuple[str, str]]


@cached(domains=())
def series(*, scope: Scope, product: str, market: str) -> Series:
    """The series of `product` (code) in `market` (code), as the scope may see it; PriceInputError names
    what does not exist or is out of scope."""
    row = _series_row(scope, product, market)
    pm = price_month
    months = eng.read_frame(
        select(*[c for c in pm.columns if c.name != "series_id"])
        .where(pm.c.series_id == row["series_id"])
        .order_by(pm.c.month),
        schema=MONTH_SCHEMA,
    )
    reasons = [(str(zh), str(en)) for zh, en in json.loads(row["reasons"] or "[]")]
    return Series(row, months, bool(row["qualifies"]), reasons)


def _series_row(scope: Scope, product: str, market: str) -> dict[str, Any]:
    known_p = products()
    if product not in set(known_p["code"].to_list()):
        raise PriceInputError(f"没有产品 {product[:40]!r}", f"No product {product[:40]!r}")
    known_m = markets(scope=scope)
    if market not in set(known_m["code"].to_list()):
        raise PriceInputError(
            f"没有市场 {market[:40]!r} (或不在您的范围内)",
            f"No market {market[:40]!r} (or it is outside your scope)",
        )
    q = _series_select().where(price_product.c.code == product, price_market.c.code == market)
    with eng.connect() as conn:
        got = conn.execute(q).mappings().first()
    if got is None:
        raise PriceInputError(
            f"{market} 市场没有 {product} 的价格序列",
            f"The market {market!r} has no price series for {product!r}",
        )
    return dict(got)


def report(*, scope: Scope, product: str, market: str) -> pl.DataFrame:
    """Month by month: price, observations behind it, IFPA and band, ALPS and band, qualification. The
    page's table and `command-center prices report` both print this frame."""
    s = series(scope=scope, product=product, market=market)
    return s.months.select(
        pl.col("month").map_elements(sig.month_label, return_dtype=pl.String).alias("month"),
        pl.col("price").round(3),
        "n_obs",
        "n_outlier",
        pl.col("ifpa").round(3),
        "ifpa_band",
        pl.col("alps").round(3),
        "alps_band",
        pl.col("below_cost").round(3),
        "level",
        "side",
        pl.lit(s.qualifies).alias("qualifies"),
        pl.lit("; ".join(en for _, en in s.reasons)).alias("fails"),
    )


@cached(domains=())
def hog_grain(*, first_week: int, last_week: int) -> pl.DataFrame:
    """The county's weekly hog-grain ratio and pork year-on-year change, with the plan's levels."""
    h = price_hog_week
    return eng.read_frame(
        select(*h.columns).where(h.c.week.between(first_week, last_week)).order_by(h.c.week),
        schema={"week": pl.Int32, "fall_level": pl.Int16, "rise_level": pl.Int16},
    )


@cached(domains=())
def warnings(*, scope: Scope, month: int) -> pl.DataFrame:
    """The board's series at level >= 1 (watch) with the plain-language why, in both languages."""
    b = board(scope=scope, month=month)
    warned = b.filter(pl.col("level") >= 1)
    # the warned series' prices in one read (not one `series` read each: a cold board has ~20 of them)
    pm = price_month
    hist = eng.read_frame(
        select(pm.c.series_id, pm.c.month, pm.c.price)
        .where(pm.c.series_id.in_(sorted(set(warned["series_id"].to_list()))))
        .order_by(pm.c.series_id, pm.c.month),
        schema={"series_id": pl.Int32, "month": pl.Int32, "price": pl.Float64},
    )
    by_series = hist.partition_by("series_id", as_dict=True) if hist.height else {}
    rows = []
    for r in warned.iter_rows(named=True):
        h = by_series.get((r["series_id"],), hist.head(0))
        prices = h.filter(pl.col("month") <= r["month"])["price"].to_list()
        zh, en = sig.explain(
            (r["product_zh"], r["product_en"]), (r["market_zh"], r["market_en"]), r, sig.run_of_moves(prices)
        )
        rows.append({**r, "why_zh": zh, "why_en": en})
    if not rows:
        return b.head(0).with_columns(pl.lit("").alias("why_zh"), pl.lit("").alias("why_en"))
    return pl.DataFrame(rows, schema={**b.schema, "why_zh": pl.String, "why_en": pl.String})


def alert_level(*, scope: Scope) -> str | None:
    """The wall's takeover: red on any abnormal or crisis level in the newest month, amber on a watch."""
    b = board(scope=scope, month=end_month())
    if not b.height:
        return None
    current = b.filter(pl.col("month") == b["month"].max())
    top = int(current["level"].fill_null(0).max() or 0) if current.height else 0  # type: ignore[arg-type]
    return "red" if top >= 2 else "amber" if top == 1 else None


@cached(domains=())
def coop_quality(*, scope: Scope) -> pl.DataFrame:
    """Each cooperative's reporting: months present against WFP's 70% rule, late reports (> 7 days),
    outliers, prices sent per jin (normalised on load), and its volumes."""
    o, c = price_obs, price_coop
    q = (
        select(
            c.c.id.label("coop_id"),
            c.c.name_zh,
            c.c.name_en,
            c.c.township_code,
            price_product.c.code.label("product"),
            func.count().label("reports"),
            func.min(o.c.day).label("first_day"),
            func.max(o.c.day).label("last_day"),
            func.sum((o.c.reported_day - o.c.day > 7).cast(Integer)).label("late"),
            func.sum(o.c.outlier.cast(Integer)).label("outliers"),
            func.sum((o.c.unit_raw == "yuan/jin").cast(Integer)).label("per_jin"),
        )
        .select_from(
            o.join(c, c.c.id == o.c.coop_id).join(price_product, price_product.c.id == c.c.product_id)
        )
        .where(coop_filter(scope))
        .group_by(c.c.id, c.c.name_zh, c.c.name_en, c.c.township_code, price_product.c.code)
        .order_by(c.c.id)
    )
    ints = ("reports", "first_day", "last_day", "late", "outliers", "per_jin")
    frame = eng.read_frame(q, schema={"coop_id": pl.Int32, **{k: pl.Int64 for k in ints}})
    months = _coop_months(scope)
    frame = frame.join(months, on="coop_id", how="left")
    return frame.with_columns(
        (pl.col("months_present") / pl.col("span_months")).alias("coverage"),
        (pl.col("late") / pl.col("reports")).alias("late_rate"),
    )


def _coop_months(scope: Scope) -> pl.DataFrame:
    cm = price_coop_month
    q = (
        select(
            cm.c.coop_id,
            func.count().label("months_present"),
            (func.max(cm.c.month) - func.min(cm.c.month) + 1).label("span_months"),
            func.sum(cm.c.sold_kg).label("sold_kg"),
            func.sum(cm.c.produced_kg).label("produced_kg"),
        )
        .select_from(cm.join(price_coop, price_coop.c.id == cm.c.coop_id))
        .where(coop_filter(scope))
        .group_by(cm.c.coop_id)
    )
    return eng.read_frame(
        q, schema={"coop_id": pl.Int32, "months_present": pl.Int64, "span_months": pl.Int64}
    )


# --- the ledger: warning -> decision -> outcome ------------------------------------------------------

DECISION_KINDS = {
    "subsidy": ("价格补贴", "Price subsidy"),
    "reserve_purchase": ("收储", "Reserve purchase"),
    "reserve_release": ("投放储备", "Reserve release"),
    "guidance": ("生产指导", "Guidance to farmers"),
    "none": ("不采取措施", "No action"),
}
DECIDERS = ("leader", "admin")  # who may answer a warning with a decision


def record_decision(
    actor: audit.Actor,
    *,
    scope: Scope,
    product: str,
    market: str,
    month: int,
    kind: str,
    amount_yuan: float | None,
    note: str,
) -> int:
    """Write one decision through the write door, logged in the same transaction. Refuses (PriceInputError)
    a role that may not decide, an unknown kind, a series out of scope, a month without a price, and a
    subsidy without a positive amount."""
    if actor.role not in DECIDERS:
        raise PriceInputError("只有领导或管理员可以作出决策", "Only leaders and administrators may decide")
    if kind not in DECISION_KINDS:
        raise PriceInputError(f"未知的决策类型 {kind[:24]!r}", f"Unknown decision kind {kind[:24]!r}")
    s = series(scope=scope, product=product, market=market)
    hit = s.months.filter(pl.col("month") == month)
    if not hit.height:
        raise PriceInputError(
            f"{sig.month_label(month)} 没有价格, 无从决策",
            f"No price in {sig.month_label(month)} to decide on",
        )
    if kind in ("subsidy", "reserve_purchase", "reserve_release") and not (amount_yuan and amount_yuan > 0):
        raise PriceInputError("请填写大于零的金额 (元)", "Give an amount in yuan greater than zero")
    note = (note or "").strip()[:500]
    row = dict(
        product_code=product,
        market_code=market,
        month=month,
        level=int(hit["level"][0]),
        kind=kind,
        amount_yuan=float(amount_yuan) if amount_yuan else None,
        note=note,
        decided_by=actor.username,
        decided_at=int(time.time()),
    )
    with audit.write(actor) as tx:
        new_id = tx.conn.execute(
            insert(price_decision).values(**row).returning(price_decision.c.id)
        ).scalar_one()
        meta.move_now(tx.conn, domain="staff")  # the page's kept answer holds the ledger
        tx.log(
            "price.decision",
            "price_decision",
            new_id,
            after=row,
            detail={"product": product, "market": market, "month": sig.month_label(month), "kind": kind},
        )
    return int(new_id)


def decisions(*, scope: Scope, product: str | None = None, market: str | None = None) -> pl.DataFrame:
    """Decisions the scope may see (on its markets), newest first, each with its outcome: the price the
    month decided on, the latest price since, and the change; and the cooperatives' sales of the product
    in that month against their monthly mean since (did the farmers sell more after the decision?). Not
    cached itself: the page keeps its answer, ledger included, on the "staff" version a decision moves."""
    d = price_decision
    q = select(*d.columns).order_by(d.c.id.desc())
    if product:
        q = q.where(d.c.product_code == product)
    if market:
        q = q.where(d.c.market_code == market)
    frame = eng.read_frame(q, schema={"id": pl.Int32, "month": pl.Int32, "level": pl.Int16})
    visible = set(markets(scope=scope)["code"].to_list())
    frame = frame.filter(pl.col("market_code").is_in(list(visible)))
    out = []
    for r in frame.iter_rows(named=True):
        try:
            m = series(scope=scope, product=r["product_code"], market=r["market_code"]).months
        except PriceInputError:
            continue
        at = m.filter(pl.col("month") == r["month"])
        after = m.filter(pl.col("month") > r["month"])
        before_p = float(at["price"][0]) if at.height else None
        after_p = float(after["price"][-1]) if after.height else None
        # the cooperatives' sales of the product: the decision's month against the months since (mean)
        vols = coop_volumes(scope=scope, product=r["product_code"])
        sold_then_f = vols.filter(pl.col("month") == r["month"])["sold_kg"]
        sold_after = vols.filter(pl.col("month") > r["month"])["sold_kg"]
        sold_then = float(sold_then_f[0]) if sold_then_f.len() else None
        sold_since = float(sold_after.mean()) if sold_after.len() else None  # type: ignore[arg-type]
        out.append(
            {
                **r,
                "price_then": before_p,
                "price_since": after_p,
                "months_since": after.height,
                "level_since": int(after["level"][-1]) if after.height else None,
                "change": (after_p / before_p - 1) if before_p and after_p else None,
                "sold_then": sold_then,
                "sold_since": sold_since,
                "sold_change": (sold_since / sold_then - 1) if sold_then and sold_since is not None else None,
            }
        )
    schema: dict[str, Any] = {
        **frame.schema,
        "price_then": pl.Float64,
        "price_since": pl.Float64,
        "months_since": pl.Int64,
        "level_since": pl.Int16,
        "change": pl.Float64,
        "sold_then": pl.Float64,
        "sold_since": pl.Float64,
        "sold_change": pl.Float64,
    }
    return pl.DataFrame(out, schema=schema)


# --- cooperatives' production and sales against price ----------------------------------------------


@cached(domains=())
def coop_volumes(*, scope: Scope, product: str) -> pl.DataFrame:
    """Month by month, over the cooperatives of `product` the scope sees: kg produced and sold (their
    reports, imported ones included), the cooperatives reporting, and the farm-gate price that month."""
    cm, c, p = price_coop_month, price_coop, price_product
    q = (
        select(
            cm.c.month,
            func.sum(cm.c.produced_kg).label("produced_kg"),
            func.sum(cm.c.sold_kg).label("sold_kg"),
            func.count().label("coops"),
        )
        .select_from(cm.join(c, c.c.id == cm.c.coop_id).join(p, p.c.id == c.c.product_id))
        .where(p.c.code == product, coop_filter(scope))
        .group_by(cm.c.month)
        .order_by(cm.c.month)
    )
    vols = eng.read_frame(
        q,
        schema={"month": pl.Int32, "produced_kg": pl.Float64, "sold_kg": pl.Float64, "coops": pl.Int64},
    )
    s, m, pm = price_series, price_market, price_month
    price = eng.read_frame(
        select(pm.c.month, pm.c.price.label("farm_gate_price"))
        .select_from(pm.join(s, s.c.id == pm.c.series_id).join(m, m.c.id == s.c.market_id))
        .join(p, p.c.id == s.c.product_id)
        .where(p.c.code == product, m.c.kind == "farm_gate"),
        schema={"month": pl.Int32, "farm_gate_price": pl.Float64},
    )
    return vols.join(price, on="month", how="left").sort("month")


@cached(domains=())
def board_summary(*, scope: Scope, month: int) -> dict[str, int]:
    """The board's counts for the KPI cards: series priced this month, abnormal, under cost, qualifying."""
    b = board(scope=scope, month=month)
    current = b.filter(pl.col("month") == month)
    return {
        "priced": current.height,
        "abnormal": int((current["level"] >= 2).sum()),
        "under_cost": int((current["below_cost"].fill_null(0) > 0).sum()),
        "qualifies": int(b["qualifies"].sum()),
        "series": b.height,
    }


@cached(domains=())
def market_worst(*, scope: Scope, month: int) -> pl.DataFrame:
    """Each market the scope sees with its worst series level at `month` (for the map)."""
    b = board(scope=scope, month=month)
    worst = b.group_by("market").agg(pl.col("level").max().alias("worst"))
    return markets(scope=scope).join(worst, left_on="code", right_on="market", how="inner").sort("id")


def board_axes(*, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The warning board's rows and columns from its cells: products worst first (then by their first
    series), markets in id order."""
    products = (
        frame.group_by("product", "product_zh", "product_en")
        .agg(pl.col("level").max().alias("worst"), pl.col("series_id").min().alias("first"))
        .sort(["worst", "first"], descending=[True, False])
    )
    markets = frame.select("market", "market_zh", "market_en", "market_id").unique().sort("market_id")
    return products, markets
