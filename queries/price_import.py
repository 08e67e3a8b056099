"""`command-center import prices FILE`: cooperatives' and markets' price reports (with the volumes
produced and sold) from a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or an Excel .xlsx file.

Every row is validated on its own and refused with its reasons (zh, en); the good rows are written only
when every row is good, or, with keep_good, the good ones alone. The write goes through the door
(`audit.write`) with its `price.import` entry; the touched series are recomputed in the same
transaction (observations, outliers, monthly price, IFPA, ALPS, below-cost, the hog-grain weeks) and the
data version moves, so every cached view sees the new figures.

Decided: imported observations are **user data** (`price_import`, in USER_DATA_TABLES). A rebuild
(`seed`) carries them and lays them over the rebuilt series again (`reapply`, called by the builder),
so nothing a person imported vanishes with a reload. Re-importing a file adds nothing: a row whose
product, market, cooperative and day are already imported with the same price is "already in".
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, delete, func, insert, select, update

from queries import audit, meta
from queries import engine as eng
from queries import price_signals as sig
from queries.tables import (
    pool_meta,
    price_coop,
    price_coop_month,
    price_cost,
    price_hog_week,
    price_import,
    price_market,
    price_month,
    price_obs,
    price_product,
    price_series,
    township,
)
from queries.timebase import local_day_of

# yuan per unit -> factor to yuan/kg (1 jin = 0.5 kg)
UNITS: dict[str, tuple[str, float]] = {
    "yuan/kg": ("yuan/kg", 1.0),
    "元/kg": ("yuan/kg", 1.0),
    "元/公斤": ("yuan/kg", 1.0),
    "元/千克": ("yuan/kg", 1.0),
    "yuan/jin": ("yuan/jin", 2.0),
    "元/斤": ("yuan/jin", 2.0),
    "yuan/t": ("yuan/t", 0.001),
    "元/吨": ("yuan/t", 0.001),
}
# header names accepted for each column, English or Chinese
COLUMNS = {
    "date": ("date", "日期"),
    "product": ("product", "产品", "品种"),
    "market": ("market", "市场"),
    "price": ("price", "价格"),
    "unit": ("unit", "单位"),
    "cooperative": ("cooperative", "coop", "合作社"),
    "volume": ("volume", "sold", "sold_kg", "销量", "销售量"),
    "produced": ("produced", "produced_kg", "产量"),
}
REQUIRED = ("date", "product", "market", "price", "unit")
MAX_ROWS = 200_000
HISTORY_YEARS = 10  # a date more than 10 years back is out of range (a typo, not a price history)
IMPORT_OBS_BASE = 10**12  # price_obs ids of imported rows: far above the generator's


class PriceFileRefused(ValueError):
    """The file as a whole cannot be read: (zh, en)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Problem:
    row: int  # 2 = the first data row (row 1 is the header), as a spreadsheet numbers it
    zh: str
    en: str


@dataclass
class Outcome:
    format: str = "-"
    encoding: str = "-"
    rows: int = 0
    accepted: int = 0  # new rows written (or that would be, on a dry run)
    already: int = 0  # rows already imported with the same price: nothing to add
    refused: list[Problem] = field(default_factory=list)
    written: bool = False
    series: list[str] = field(default_factory=list)  # product·market recomputed


# --- reading ---------------------------------------------------------------------------------------


def read_table(path: Path) -> tuple[pl.DataFrame, str, str]:
    """The file's rows as text columns named by COLUMNS keys, its format and its encoding."""
    if not path.is_file():
        raise PriceFileRefused(f"文件不存在: {path}", f"No such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        frame, fmt, enc = _xlsx(path), "xlsx", "-"
    elif suffix in (".csv", ".txt"):
        frame, enc = _csv(path.read_bytes())
        fmt = "csv"
    else:
        raise PriceFileRefused(
            f"不支持的文件类型 {suffix!r}: 请用 .csv 或 .xlsx",
            f"Unsupported file type {suffix!r}: use .csv or .xlsx",
        )
    rename: dict[str, str] = {}
    for col in frame.columns:
        key = next((k for k, names in COLUMNS.items() if col.strip().lower() in names), None)
        if key and key not in rename.values():
            rename[col] = key
    frame = frame.select(list(rename)).rename(rename)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise PriceFileRefused(
            f"缺少必需的列: {', '.join(missing)} (需要 date, product, market, price, unit)",
            f"Missing required columns: {', '.join(missing)} (need date, product, market, price, unit)",
        )
    if frame.height > MAX_ROWS:
        raise PriceFileRefused(
            f"文件超过 {MAX_ROWS:,} 行, 请分批导入", f"More than {MAX_ROWS:,} rows: split the file"
        )
    for c in COLUMNS:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
    return frame, fmt, enc


def _csv(data: bytes) -> tuple[pl.DataFrame, str]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string; kept for a clear message
        raise PriceFileRefused("无法识别文件编码", "Cannot tell the file's encoding (neither UTF-8 nor GBK)")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PriceFileRefused(f"CSV 无法读取: {line}", f"The CSV cannot be read: {line}") from None
    return frame, "utf-8" if enc == "utf-8-sig" else "gb18030"


def _xlsx(path: Path) -> pl.DataFrame:
    import openpyxl

    from queries.ingest.files import _text

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PriceFileRefused(f"不是有效的 Excel 文件: {exc}", f"Not a valid Excel file: {exc}") from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return pl.DataFrame()
    header = [str(h).strip() if h is not None else f"_{i}" for i, h in enumerate(rows[0])]
    body = [[_text(v) for v in r[: len(header)]] for r in rows[1:] if any(v is not None for v in r)]
    body = [r + [None] * (len(header) - len(r)) for r in body]
    return pl.DataFrame(body, schema={h: pl.String for h in header}, orient="row")


# --- validation ------------------------------------------------------------------------------------


def _day(text: str | None) -> int | None:
    if not text:
        return None
    s = text.strip()[:10].replace("/", "-").replace(".", "-")
    try:
        return int(np.datetime64(s, "D").astype(int))
    except ValueError:
        return None


def _number(text: str | None) -> float | None:
    if text is None or not str(text).strip():
        return None
    try:
        v = float(str(text).replace(",", "").strip())
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _reference(conn: Connection) -> dict[str, Any]:
    prods = conn.execute(select(price_product.c.code, price_product.c.name_zh, price_product.c.id)).all()
    mks = conn.execute(select(price_market.c.code, price_market.c.name_zh, price_market.c.kind)).all()
    coops = conn.execute(
        select(price_coop.c.id, price_coop.c.name_zh, price_coop.c.name_en, price_coop.c.product_id)
    ).all()
    return {
        "product": {**{r.name_zh: r.code for r in prods}, **{r.code: r.code for r in prods}},
        "product_id": {r.code: r.id for r in prods},
        "market": {**{r.name_zh: r.code for r in mks}, **{r.code: r.code for r in mks}},
        "coop": {**{r.name_en: r for r in coops}, **{r.name_zh: r for r in coops}},
    }


def validate(
    conn: Connection, frame: pl.DataFrame, *, today: int, create: bool = False
) -> tuple[list[dict[str, Any]], Outcome]:
    """Rows that may be written (new ones only) and the outcome: every refused row with its reasons.
    With `create`, an unknown product or market is a new one (named by the text given), not a refusal."""
    ref = _reference(conn)
    done = {
        (r.product_code, r.market_code, r.coop_name, r.day): (r.price_raw, r.unit_raw)
        for r in conn.execute(
            select(
                price_import.c.product_code,
                price_import.c.market_code,
                price_import.c.coop_name,
                price_import.c.day,
                price_import.c.price_raw,
                price_import.c.unit_raw,
            )
        )
    }
    out = Outcome(rows=frame.height)
    seen: dict[tuple[str, str, str, int], int] = {}
    good: list[dict[str, Any]] = []
    earliest = today - 366 * HISTORY_YEARS
    for i, r in enumerate(frame.iter_rows(named=True)):
        row_no = i + 2
        why: list[tuple[str, str]] = []
        day = _day(r["date"])
        if day is None:
            why.append((f"日期无法识别: {str(r['date'])[:20]!r}", f"unreadable date {str(r['date'])[:20]!r}"))
        elif day > today:
            why.append(("日期在未来", "the date is in the future"))
        elif day < earliest:
            why.append(
                (f"日期早于 {HISTORY_YEARS} 年前", f"the date is more than {HISTORY_YEARS} years back")
            )
        product = _named(ref["product"], r["product"], create, ("产品", "product"), why)
        market = _named(ref["market"], r["market"], create, ("市场", "market"), why)
        unit = UNITS.get((r["unit"] or "").strip().lower().replace(" ", ""))
        if unit is None:
            why.append(
                (
                    f"未知单位 {str(r['unit'])[:16]!r} (元/公斤, 元/斤, 元/吨)",
                    f"unknown unit {str(r['unit'])[:16]!r} (yuan/kg, yuan/jin, yuan/t)",
                )
            )
        price = _number(r["price"])
        if price is None:
            why.append(
                (
                    f"价格不是数字: {str(r['price'])[:16]!r}",
                    f"price is not a number: {str(r['price'])[:16]!r}",
                )
            )
        elif price <= 0:
            why.append(("价格必须大于零", "the price must be greater than zero"))
        coop_name = (r["cooperative"] or "").strip()
        coop = ref["coop"].get(coop_name) if coop_name else None
        if coop_name and coop is None:
            why.append((f"未知合作社 {coop_name[:40]!r}", f"unknown cooperative {coop_name[:40]!r}"))
        elif coop is not None and product is not None and coop.product_id != ref["product_id"].get(product):
            why.append(("该合作社不报告此产品", "this cooperative does not report this product"))
        vols: dict[str, float | None] = {}
        for col, zh in (("volume", "销量"), ("produced", "产量")):
            v = _number(r[col])
            if r[col] not in (None, "") and (v is None or v < 0):
                why.append((f"{zh}必须是非负数", f"{col} must be a number >= 0"))
            vols[col] = v
        if not why:
            assert day is not None and product and market and unit and price is not None
            key = (product, market, coop.name_zh if coop else "", day)
            if key in seen:
                why.append(
                    (
                        f"与第 {seen[key]} 行重复 (同产品、市场、合作社、日期)",
                        f"duplicate of row {seen[key]} (same product, market, cooperative, day)",
                    )
                )
            elif key in done:
                if done[key] == (price, unit[0]):
                    out.already += 1
                    seen[key] = row_no
                    continue
                why.append(
                    ("与已导入的同日价格不同", "conflicts with the price already imported for that day")
                )
            else:
                seen[key] = row_no
                good.append(
                    dict(
                        row_no=row_no,
                        product_code=product,
                        market_code=market,
                        coop_name=key[2],
                        day=day,
                        price_raw=price,
                        unit_raw=unit[0],
                        price=round(price * unit[1], 4),
                        sold_kg=vols["volume"],
                        produced_kg=vols["produced"],
                    )
                )
        if why:
            out.refused.append(Problem(row_no, "; ".join(z for z, _ in why), "; ".join(e for _, e in why)))
    out.accepted = len(good)
    return good, out


def _named(
    known: dict[str, str], text: str | None, create: bool, what: tuple[str, str], why: list[tuple[str, str]]
) -> str | None:
    """The code of a product or market named by code or Chinese name; with `create`, an unknown but
    well-formed name is a new code; else None, with the reason added to `why`."""
    name = (text or "").strip()
    if name in known:
        return known[name]
    if create and _code_ok(name):
        return name
    why.append((f"未知{what[0]} {str(text)[:32]!r}", f"unknown {what[1]} {str(text)[:32]!r}"))
    return None


def _code_ok(text: str | None) -> bool:
    """A name --create may turn into a product or market: 1-32 characters, no separators."""
    t = (text or "").strip()
    return 0 < len(t) <= 32 and not any(c in t for c in ",;/\\\t\n\"'")


# --- writing ---------------------------------------------------------------------------------------


def import_prices(
    path: Path, *, actor: audit.Actor, dry_run: bool = False, keep_good: bool = False, create: bool = False
) -> Outcome:
    """Read, validate and (unless a dry run, or a refused row without keep_good) write in one transaction
    with its responsibility-log entry. PriceFileRefused when the file as a whole cannot be read."""
    frame, fmt, enc = read_table(path)
    batch = hashlib.sha256(path.read_bytes()).hexdigest()[:40]
    today = local_day_of(int(time.time()))
    with eng.connect() as conn:
        good, out = validate(conn, frame, today=today, create=create)
    out.format, out.encoding = fmt, enc
    if dry_run or not good or (out.refused and not keep_good):
        return out
    now = int(time.time())
    rows = [dict(r, batch=batch, imported_by=actor.username[:96], imported_at=now) for r in good]
    with audit.write(actor) as tx:
        # validated again under the write lock: a concurrent import of the same file adds nothing twice
        good2, _ = validate(tx.conn, frame, today=today, create=create)
        keys = {(r["product_code"], r["market_code"], r["coop_name"], r["day"]) for r in good2}
        rows = [r for r in rows if (r["product_code"], r["market_code"], r["coop_name"], r["day"]) in keys]
        if rows:
            tx.conn.execute(insert(price_import), rows)
            out.series = apply(tx.conn, rows)
            bump_version(tx.conn)
        out.accepted = len(rows)
        tx.log(
            "price.import",
            "price_import",
            batch,
            after={"rows": len(rows), "file": path.name[:120]},
            detail={
                "file": path.name[:120],
                "rows": out.rows,
                "accepted": len(rows),
                "already": out.already,
                "refused": len(out.refused),
                "series": out.series[:50],
            },
        )
    out.written = bool(rows)
    return out


def bump_version(conn: Connection) -> None:
    """A new data version (every worker's cached views read the pool again), and the price data is
    current as of now (`prices.as_of`)."""
    meta.move_all(conn)
    conn.execute(delete(pool_meta).where(pool_meta.c.key == "prices_as_of"))
    conn.execute(insert(pool_meta).values(key="prices_as_of", value=str(int(time.time()))))


def reapply(conn: Connection) -> list[str]:
    """After a rebuild: lay every imported row over the freshly generated series again."""
    rows = [dict(r._mapping) for r in conn.execute(select(price_import).order_by(price_import.c.id))]
    return apply(conn, rows) if rows else []


def apply(conn: Connection, new_rows: list[dict[str, Any]]) -> list[str]:
    """Put imported observations into the series they belong to and recompute those series; add the new
    rows' volumes to their cooperatives' months. Returns the series touched ("product·market")."""
    _ensure(conn, {r["product_code"] for r in new_rows}, {r["market_code"] for r in new_rows})
    products = {r.code: r for r in conn.execute(select(price_product))}
    markets = {r.code: r for r in conn.execute(select(price_market))}
    coops = {r.name_zh: r.id for r in conn.execute(select(price_coop.c.id, price_coop.c.name_zh))}
    keys = sorted({(r["product_code"], r["market_code"]) for r in new_rows})
    end_month = int(
        conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "prices_end_month")).scalar() or 0
    )
    touched = []
    for pcode, mcode in keys:
        if pcode not in products or mcode not in markets:
            continue  # a product or market the rebuild no longer has: kept, shown nowhere
        p, m = products[pcode], markets[mcode]
        sid = conn.execute(
            select(price_series.c.id).where(
                price_series.c.product_id == p.id, price_series.c.market_id == m.id
            )
        ).scalar()
        if sid is None:
            sid = int(conn.execute(select(func.coalesce(func.max(price_series.c.id), 0))).scalar_one()) + 1
            conn.execute(
                insert(price_series).values(
                    id=sid, product_id=p.id, market_id=m.id, months_present=0, span_months=0,
                    qualifies=False, reasons="[]", seed_expect=None,
                )
            )  # fmt: skip
        imported = conn.execute(
            select(price_import).where(
                price_import.c.product_code == pcode, price_import.c.market_code == mcode
            )
        ).all()
        conn.execute(delete(price_obs).where(price_obs.c.series_id == sid, price_obs.c.seed_flag == "import"))
        obs_rows = [
                dict(
                    id=IMPORT_OBS_BASE + r.id, series_id=sid, coop_id=coops.get(r.coop_name), day=r.day,
                    reported_day=r.day, price_raw=r.price_raw, unit_raw=r.unit_raw, price=r.price,
                    volume_kg=r.sold_kg, outlier=False, seed_flag="import",
                )
                for r in imported
        ]  # fmt: skip
        if obs_rows:
            conn.execute(insert(price_obs), obs_rows)
        _recompute(conn, sid, m.kind == "farm_gate", p.id, end_month)
        touched.append(f"{pcode}·{mcode}")
    _coop_months(conn, [r for r in new_rows if r["coop_name"] and r["coop_name"] in coops], coops)
    if {k[0] for k in keys} & {"hog", "corn", "pork"}:
        _hog_weeks(conn)
    return touched


COUNTY_SEAT = 532503001  # Wenlan sub-district: where a market created by an import is placed


def _ensure(conn: Connection, product_codes: set[str], market_codes: set[str]) -> None:
    """Products and markets that `--create` named and the pool lacks (also after a rebuild, which knows
    only the generator's): a product of category "specialty", a county-wide market at the county seat
    (named by the text given in both languages; the map shows it there)."""
    have_p = {r[0] for r in conn.execute(select(price_product.c.code))}
    for code in sorted(product_codes - have_p):
        pid = int(conn.execute(select(func.coalesce(func.max(price_product.c.id), 0))).scalar_one()) + 1
        conn.execute(
            insert(price_product).values(id=pid, code=code, name_zh=code, name_en=code, category="specialty")
        )
    have_m = {r[0] for r in conn.execute(select(price_market.c.code))}
    if market_codes - have_m:
        seat = conn.execute(
            select(township.c.lat, township.c.lon).where(township.c.code == COUNTY_SEAT)
        ).first()
        lat, lon = (float(seat.lat), float(seat.lon)) if seat else (23.36, 103.38)
        for i, code in enumerate(sorted(market_codes - have_m)):
            mid = int(conn.execute(select(func.coalesce(func.max(price_market.c.id), 0))).scalar_one()) + 1
            conn.execute(
                insert(price_market).values(
                    id=mid, code=code, name_zh=code, name_en=code, kind="wholesale", county_wide=True,
                    township_code=COUNTY_SEAT, lat=lat - 0.006 * (i + 1), lon=lon - 0.006 * (i + 1),
                )
            )  # fmt: skip


def _recompute(conn: Connection, sid: int, farm_gate: bool, product_id: int, end_month: int) -> None:
    obs = conn.execute(
        select(price_obs.c.id, price_obs.c.day, price_obs.c.price, price_obs.c.outlier).where(
            price_obs.c.series_id == sid
        )
    ).all()
    if not obs:  # every observation it had was an imported one, now gone
        conn.execute(delete(price_month).where(price_month.c.series_id == sid))
        return
    days = np.array([r.day for r in obs], dtype=np.int64)
    ps = np.array([r.price for r in obs], dtype=float)
    mo = sig.month_of_day(days)
    flags = sig.outliers(mo, ps)
    changed = [
        (r.id, bool(f)) for r, f in zip(obs, flags.tolist(), strict=True) if bool(r.outlier) != bool(f)
    ]
    for oid, f in changed:
        conn.execute(update(price_obs).where(price_obs.c.id == oid).values(outlier=f))
    cost = None
    if farm_gate:
        cost = {
            int(r.year): float(r.cost)
            for r in conn.execute(select(price_cost).where(price_cost.c.product_id == product_id))
        }
    mframe = sig.monthly(mo, ps, flags)
    q, ind = sig.indicators(mframe, max(end_month, int(mo.max())), cost)
    conn.execute(delete(price_month).where(price_month.c.series_id == sid))
    cols = [c.name for c in price_month.columns]
    conn.execute(
        insert(price_month), ind.with_columns(pl.lit(sid).alias("series_id")).select(cols).to_dicts()
    )
    conn.execute(
        update(price_series)
        .where(price_series.c.id == sid)
        .values(
            months_present=q.months_present,
            span_months=q.span_months,
            last_month=q.last_month,
            qualifies=q.ok,
            reasons=json.dumps([list(r) for r in q.reasons], ensure_ascii=False),
        )
    )


def _coop_months(conn: Connection, rows: list[dict[str, Any]], coops: dict[str, int]) -> None:
    add: dict[tuple[int, int], list[float]] = {}
    for r in rows:
        if r["sold_kg"] is None and r["produced_kg"] is None:
            continue
        k = (coops[r["coop_name"]], int(sig.month_of_day(np.array([r["day"]]))[0]))
        acc = add.setdefault(k, [0.0, 0.0])
        acc[0] += r["sold_kg"] or 0.0
        acc[1] += r["produced_kg"] if r["produced_kg"] is not None else (r["sold_kg"] or 0.0)
    cm = price_coop_month
    for (cid, month), (sold, produced) in add.items():
        got = conn.execute(select(cm.c.sold_kg).where(cm.c.coop_id == cid, cm.c.month == month)).first()
        if got is None:
            conn.execute(insert(cm).values(coop_id=cid, month=month, sold_kg=sold, produced_kg=produced))
        else:
            conn.execute(
                update(cm)
                .where(cm.c.coop_id == cid, cm.c.month == month)
                .values(sold_kg=cm.c.sold_kg + sold, produced_kg=cm.c.produced_kg + produced)
            )


def _hog_weeks(conn: Connection) -> None:
    """The hog-grain weeks again from every observation (live hog and corn at the wholesale market, lean
    pork over the farmers' markets), as the generator computes them."""
    o, s, p, m = price_obs, price_series, price_product, price_market
    q = (
        select(o.c.day, o.c.price, p.c.code.label("product"), m.c.code.label("market"), m.c.kind)
        .select_from(o.join(s, s.c.id == o.c.series_id).join(p, p.c.id == s.c.product_id).join(m, m.c.id == s.c.market_id))
        .where(~o.c.outlier, p.c.code.in_(("hog", "corn", "pork")))
    )  # fmt: skip
    obs = pl.DataFrame(
        [dict(r._mapping) for r in conn.execute(q)],
        schema={
            "day": pl.Int64,
            "price": pl.Float64,
            "product": pl.String,
            "market": pl.String,
            "kind": pl.String,
        },
    ).with_columns(((pl.col("day") + 3) // 7).alias("week"))

    def weekly(cond: pl.Expr, name: str) -> pl.DataFrame:
        return obs.filter(cond).group_by("week").agg(pl.col("price").mean().alias(name))

    w = (
        weekly((pl.col("product") == "hog") & (pl.col("market") == "wholesale"), "hog")
        .join(weekly((pl.col("product") == "corn") & (pl.col("market") == "wholesale"), "corn"), on="week", how="full", coalesce=True)
        .join(weekly((pl.col("product") == "pork") & (pl.col("kind") == "farmers"), "pork"), on="week", how="full", coalesce=True)
        .sort("week")
    )  # fmt: skip
    levels = sig.hog_grain(
        w["week"].to_numpy(),
        w["hog"].fill_null(np.nan).to_numpy(),
        w["corn"].fill_null(np.nan).to_numpy(),
        w["pork"].fill_null(np.nan).to_numpy(),
    )
    frame = w.with_columns(pl.col("week").cast(pl.Int32)).join(levels, on="week")
    conn.execute(delete(price_hog_week))
    conn.execute(insert(price_hog_week), frame.select([c.name for c in price_hog_week.columns]).to_dicts())
