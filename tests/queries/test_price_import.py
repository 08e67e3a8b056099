"""`import prices`: row-by-row validation, encodings and Excel, all-or-nothing or keep-good, the write
door, idempotent re-import, the signals seeing the imported figures, and imports surviving `seed`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import delete, select

from queries import audit, price_import, prices
from queries import engine as eng
from queries import price_signals as sig
from queries.scope import CITY_SCOPE
from queries.tables import audit_log, price_coop, price_coop_month, price_obs
from queries.tables import price_import as pi_table
from tests.conftest import END, SEED
from tests.pools import sqlite_pool_at

HEAD = "date,product,market,price,unit,cooperative,volume\n"


def _last_days(n: int = 3) -> list[str]:
    """The newest days of the test pool's price history (it ends 2026-11-20)."""
    return [f"2026-11-{d:02d}" for d in range(18, 18 + n)]


@pytest.fixture
def importing(writable_pool: str) -> Iterator[str]:
    """A writable pool; on PostgreSQL the generated series an import touched are put back afterwards."""
    yield writable_pool
    if writable_pool.startswith("postgresql"):
        with eng.write() as conn:
            touched = {(r.product_code, r.market_code) for r in conn.execute(select(pi_table))}
            conn.execute(delete(pi_table))
            conn.execute(delete(price_obs).where(price_obs.c.seed_flag == "import"))
            for p, m in touched | {("pork", "wenlan"), ("tomato", "farmgate")}:
                price_import.apply(conn, [dict(product_code=p, market_code=m, coop_name="", sold_kg=None)])


def _coop(product: str) -> str:
    with eng.connect() as c:
        return str(
            c.execute(
                select(price_coop.c.name_zh)
                .where(
                    price_coop.c.product_id
                    == int(prices.products().filter(pl.col("code") == product)["id"][0])
                )
                .order_by(price_coop.c.id)
            ).scalar()
        )


def test_bad_rows_are_refused_with_reasons_and_nothing_is_written(importing: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        HEAD
        + "2026-11-18,pork,wenlan,30,yuan/kg,,\n"  # good
        + "2026-11-18,durian,wenlan,30,yuan/kg,,\n"  # unknown product
        + "2026-11-18,pork,mars,30,yuan/kg,,\n"  # unknown market
        + "2026-11-18,pork,wenlan,0,yuan/kg,,\n"  # zero price
        + "2026-11-18,pork,wenlan,-3,yuan/kg,,\n"  # negative
        + "2099-01-01,pork,wenlan,30,yuan/kg,,\n"  # future
        + "1990-01-01,pork,wenlan,30,yuan/kg,,\n"  # too far back
        + "2026-11-19,pork,wenlan,30,yuan/lb,,\n"  # bad unit
        + "2026-11-18,pork,wenlan,31,yuan/kg,,\n"  # duplicate of row 2
        + "2026-11-19,tomato,farmgate,3,yuan/kg,Nobody's coop,5\n",  # unknown cooperative
        encoding="utf-8",
    )
    before = eng.read_frame(select(audit_log.c.id)).height
    out = price_import.import_prices(f, actor=audit.Actor.cli())
    assert out.rows == 10 and not out.written and out.accepted == 1
    got = {p.row: p.en for p in out.refused}
    assert set(got) == {3, 4, 5, 6, 7, 8, 9, 10, 11}
    assert "unknown product 'durian'" in got[3] and "unknown market 'mars'" in got[4]
    assert "greater than zero" in got[5] and "greater than zero" in got[6]
    assert "future" in got[7] and "years back" in got[8] and "unknown unit" in got[9]
    assert "duplicate of row 2" in got[10] and "unknown cooperative" in got[11]
    assert eng.read_frame(select(pi_table.c.id)).height == 0  # whole file refused: nothing half-written
    assert eng.read_frame(select(audit_log.c.id)).height == before


def test_import_feeds_the_signals_and_reimport_adds_nothing(importing: str, tmp_path: Path) -> None:
    from queries import cache

    before = prices.series(scope=CITY_SCOPE, product="pork", market="wenlan").months.row(-1, named=True)
    v0 = cache.data_version(fresh=True)
    assert prices.as_of() == int(END.timestamp())  # current as of the build's end, until an import
    # GBK with Chinese names and yuan/jin: 80 yuan/jin = 160 yuan/kg, far above the month's price
    f = tmp_path / "gbk.csv"
    body = "日期,产品,市场,价格,单位\n" + "".join(
        f"{d},精瘦肉,{_market_zh('wenlan')},80,元/斤\n" for d in _last_days(2)
    )
    f.write_bytes(body.encode("gbk"))
    dry = price_import.import_prices(f, actor=audit.Actor.cli(), dry_run=True)
    assert dry.encoding == "gb18030" and dry.accepted == 2 and not dry.written
    out = price_import.import_prices(f, actor=audit.Actor.cli())
    assert out.written and out.accepted == 2 and out.series == ["pork·wenlan"]
    assert cache.data_version(fresh=True) != v0  # caches invalidated through the data version
    assert prices.as_of() >= int(time.time()) - 60  # the price data is current as of the import
    after = prices.series(scope=CITY_SCOPE, product="pork", market="wenlan").months.row(-1, named=True)
    assert after["n_obs"] + after["n_outlier"] == before["n_obs"] + before["n_outlier"] + 2
    rows = eng.read_frame(select(pi_table))
    assert rows["price"].to_list() == [160.0, 160.0] and set(rows["unit_raw"]) == {"yuan/jin"}
    entry = eng.read_frame(select(audit_log).order_by(audit_log.c.id.desc()).limit(1)).row(0, named=True)
    assert entry["action"] == "price.import" and entry["object_type"] == "price_import"
    again = price_import.import_prices(f, actor=audit.Actor.cli())
    assert again.accepted == 0 and again.already == 2 and not again.written
    assert eng.read_frame(select(pi_table.c.id)).height == 2


def test_keep_good_writes_the_good_rows_and_volumes_reach_the_coop(importing: str, tmp_path: Path) -> None:
    coop = _coop("tomato")
    f = tmp_path / "mixed.csv"
    f.write_text(
        "\ufeff" + HEAD + f"2026-11-19,tomato,farmgate,3.2,yuan/kg,{coop},1234.5\n"
        "2026-11-19,tomato,farmgate,abc,yuan/kg,,\n",
        encoding="utf-8",
    )
    cm = price_coop_month
    month = sig.month_of(2026, 11)

    def sold() -> float:
        with eng.connect() as c:
            cid = c.execute(select(price_coop.c.id).where(price_coop.c.name_zh == coop)).scalar()
            return float(
                c.execute(select(cm.c.sold_kg).where(cm.c.coop_id == cid, cm.c.month == month)).scalar() or 0
            )

    s0 = sold()
    out = price_import.import_prices(f, actor=audit.Actor.cli(), keep_good=True)
    assert out.written and out.accepted == 1 and [p.row for p in out.refused] == [3]
    assert sold() == pytest.approx(s0 + 1234.5)
    vols = prices.coop_volumes(scope=CITY_SCOPE, product="tomato")
    assert vols.filter(pl.col("month") == month)["sold_kg"][0] >= 1234.5
    if importing.startswith("postgresql"):  # put the coop's month back for the tests after this one
        with eng.write() as conn:
            cid = conn.execute(select(price_coop.c.id).where(price_coop.c.name_zh == coop)).scalar()
            conn.execute(
                cm.update()
                .where(cm.c.coop_id == cid, cm.c.month == month)
                .values(sold_kg=cm.c.sold_kg - 1234.5, produced_kg=cm.c.produced_kg - 1234.5)
            )


def test_excel_import(importing: str, tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["date", "product", "market", "price", "unit"])
    ws.append(["2026-11-18", "corn", "wholesale", 2.9, "yuan/kg"])
    f = tmp_path / "p.xlsx"
    wb.save(f)
    out = price_import.import_prices(f, actor=audit.Actor.cli())
    assert out.format == "xlsx" and out.written and out.series == ["corn·wholesale"]


def test_a_file_that_is_not_a_price_table_is_refused(importing: str, tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(price_import.PriceFileRefused, match="Missing required columns"):
        price_import.import_prices(f, actor=audit.Actor.cli())
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(price_import.PriceFileRefused, match="Unsupported file type"):
        price_import.import_prices(tmp_path / "x.json", actor=audit.Actor.cli())
    with pytest.raises(price_import.PriceFileRefused, match="No such file"):
        price_import.import_prices(tmp_path / "gone.csv", actor=audit.Actor.cli())


def test_imports_survive_seed_and_are_laid_over_again(tmp_path: Path) -> None:
    from queries import cache
    from queries.generate.build import build_pool

    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False)  # a copy of the run's one build
    eng.configure(url)
    cache.configure(tmp_path / "cache", version_ttl=0)
    try:
        f = tmp_path / "p.csv"
        f.write_text(
            HEAD + "2026-11-18,pork,wenlan,80,yuan/kg,,\n2026-11-18,鸡枞菌,新安所市场,120,元/公斤,,\n",
            encoding="utf-8",
        )
        out = price_import.import_prices(f, actor=audit.Actor.cli())
        assert (
            not out.written and "unknown product '鸡枞菌'; unknown market '新安所市场'" in out.refused[0].en
        )
        out = price_import.import_prices(f, actor=audit.Actor.cli(), create=True)  # new ones, as named
        assert out.written and set(out.series) == {"pork·wenlan", "鸡枞菌·新安所市场"}
        assert (
            prices.series(scope=CITY_SCOPE, product="鸡枞菌", market="新安所市场").months["price"][0] == 120.0
        )
        build_pool(url, scale="test", seed=SEED, end=END, progress=False)
        eng.configure(url)
        cache.configure(tmp_path / "cache2", version_ttl=0)
        assert eng.read_frame(select(pi_table)).height == 2  # user data, carried
        obs = eng.read_frame(
            select(price_obs).where(price_obs.c.seed_flag == "import").order_by(price_obs.c.id)
        )
        assert obs["price"].to_list() == [80.0, 120.0]  # and laid over the rebuilt series again
        # the created product and market are made again from the imported rows
        assert "鸡枞菌" in prices.products()["code"].to_list()
        assert prices.series(scope=CITY_SCOPE, product="鸡枞菌", market="新安所市场").months.height == 1
    finally:
        cache.configure(None)


def _market_zh(code: str) -> str:
    return str(prices.markets(scope=CITY_SCOPE).filter(pl.col("code") == code)["name_zh"][0])


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)  # it empties a generated series
def test_import_round_trip_of_a_generated_series(writable_pool: str, tmp_path: Path) -> None:
    """A generated series' reports, exported as sent (jin and decimal slips included), its generated
    observations removed, then imported: the same months, prices and indicators come back."""
    from queries import cache

    cache.configure(tmp_path / "cache", version_ttl=0)
    try:
        product, market = "cabbage", "wholesale"
        before = prices.series(scope=CITY_SCOPE, product=product, market=market)
        sid = int(before.info["series_id"])
        obs = eng.read_frame(
            select(price_obs.c.day, price_obs.c.price_raw, price_obs.c.unit_raw).where(
                price_obs.c.series_id == sid
            )
        )
        assert (obs["unit_raw"] == "yuan/jin").any()  # the round trip covers the unit normalisation
        csv = obs.select(
            pl.col("day").cast(pl.Date).cast(pl.String).alias("date"),
            pl.lit(product).alias("product"),
            pl.lit(market).alias("market"),
            pl.col("price_raw").alias("price"),
            pl.col("unit_raw").alias("unit"),
        )
        f = tmp_path / "series.csv"
        csv.write_csv(f)
        with eng.write() as conn:
            conn.execute(delete(price_obs).where(price_obs.c.series_id == sid))
        out = price_import.import_prices(f, actor=audit.Actor.cli())
        assert out.written and out.accepted == obs.height and not out.refused
        after = prices.series(scope=CITY_SCOPE, product=product, market=market)
        cols = [
            "month",
            "price",
            "n_obs",
            "n_outlier",
            "ifpa",
            "ifpa_band",
            "alps",
            "alps_band",
            "level",
            "side",
        ]
        assert after.qualifies == before.qualifies
        a, b = after.months.select(cols), before.months.select(cols)
        assert a.select("month", "n_obs", "n_outlier", "ifpa_band", "alps_band", "level", "side").equals(
            b.select("month", "n_obs", "n_outlier", "ifpa_band", "alps_band", "level", "side")
        )
        for c in ("price", "ifpa", "alps"):
            assert a[c].to_numpy() == pytest.approx(b[c].to_numpy(), rel=1e-6, nan_ok=True)
    finally:
        cache.configure(None)
