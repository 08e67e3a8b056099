"""The digital-divide queries: the index on hand-worked cases, then every read against the real pools
(SQLite and PostgreSQL), checked against values computed independently from the raw tables."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from shapely.geometry import Point, shape
from sqlalchemy import create_engine, func, select

from queries import divide, geo, meta
from queries.generate import reference as ref
from queries.generate.divide import quarters
from queries.geodata import make
from queries.geodata.paths import COUNTIES, SCHEMATIC
from queries.scope import CITY_SCOPE, Viewer
from queries.tables import divide_counter, divide_counter_visit, divide_indicator, record
from queries.timebase import LATE_SECONDS, day_start

LAOZHAI, WENLAN = 532503202, 532503001
Z = math.sqrt(1.5)  # z-scores of three evenly spaced values: -1.2247, 0, +1.2247


def _frame(infra: list[float], socio: list[float], mbps: list[float]) -> pl.DataFrame:
    """Three townships: every infrastructure share takes `infra`, every socio-economic share `socio`."""
    cols: dict[str, list[float]] = {}
    for name, ind in divide.INDICATORS.items():
        cols[name] = mbps if name == "download_mbps" else (infra if ind.part == divide.INFRA else socio)
    return pl.DataFrame({"township_code": [1, 2, 3], **cols})


def test_index_hand_worked() -> None:
    # infrastructure worst at 3 (lowest shares, slowest), socio-economic worst at 2 (highest shares)
    out = divide.divide_index(_frame([0.9, 0.7, 0.5], [0.1, 0.3, 0.2], [200.0, 100.0, 0.0]))
    assert out["z_internet_rate"].to_list() == pytest.approx([-Z, 0, Z])  # low coverage = wide divide
    assert out["z_aged65_share"].to_list() == pytest.approx([-Z, Z, 0])
    assert out["z_download_mbps"].to_list() == pytest.approx([-Z, 0, Z])
    assert out["infrastructure_raw"].to_list() == pytest.approx([-Z, 0, Z])
    assert out["infrastructure"].to_list() == pytest.approx([0, 50, 100])
    assert out["socioeconomic"].to_list() == pytest.approx([0, 100, 50])
    assert out["index_raw"].to_list() == pytest.approx([0, 150, 150])
    assert out["index"].to_list() == pytest.approx([0, 100, 100])
    assert out["dominant"].to_list() == [divide.BALANCED, divide.SOCIO, divide.INFRA]


def test_index_equal_weight_and_constant_inputs() -> None:
    f = _frame([0.9, 0.7, 0.5], [0.1, 0.2, 0.3], [200.0, 100.0, 0.0])
    # one input constant across townships: its z is 0 and it dilutes its part's mean (6 inputs)
    f = f.with_columns(pl.lit(0.99).alias("mobile_coverage"))
    out = divide.divide_index(f)
    assert out["z_mobile_coverage"].to_list() == [0.0, 0.0, 0.0]
    assert out["infrastructure_raw"].to_list() == pytest.approx([-Z * 5 / 6, 0, Z * 5 / 6])
    assert out["socioeconomic_raw"].to_list() == pytest.approx([-Z, 0, Z])
    # both parts agree on the order: scaled parts equal, index equal to them, nothing dominates
    assert out["index"].to_list() == pytest.approx([0, 50, 100])
    assert out["dominant"].to_list() == [divide.BALANCED] * 3
    # every input the same everywhere: no divide to show, zeros rather than NaN
    flat = divide.divide_index(_frame([0.5] * 3, [0.2] * 3, [50.0] * 3))
    assert flat["index"].to_list() == [0.0, 0.0, 0.0]


def test_quarters_clip_to_the_window() -> None:
    # 2026-08-23 .. 2026-11-20: the end of Q3 and Q4 so far
    first, last = 20688, 20777
    assert quarters(first, last) == [("2026Q3", 20688, 20726), ("2026Q4", 20727, 20777)]
    assert quarters(20727, 20727) == [("2026Q4", 20727, 20727)]


def _raw(url: str, stmt: object) -> list[tuple[object, ...]]:
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[call-overload]
    finally:
        eng.dispose()


def test_periods_and_indicators(pool: str) -> None:
    per = divide.periods()
    assert per == ["2026Q3", "2026Q4"]  # the 120-day test window ends 2026-11-20
    ind = divide.indicators(period="2026Q4")
    assert ind.height == 13 and ind["internet_rate"].dtype == pl.Float64
    urban = ind.filter(pl.col("urban"))["internet_rate"]
    rural = ind.filter(~pl.col("urban"))["internet_rate"]
    # urban sub-districts near CNNIC's 2022 urban 82.9 %, the remotest townships well below rural 58.8 %
    assert urban.min() > 0.75 and rural.min() < 0.5 and rural.max() < 0.7  # type: ignore[operator]


def test_township_table_against_raw_records(pool: str) -> None:
    t = divide.township_table(scope=CITY_SCOPE, period="2026Q4")
    assert t.height == 13 and t["index"].max() == 100 and t["index"].min() == 0
    assert t["index"].to_list() == sorted(t["index"].to_list(), reverse=True)
    row = t.filter(pl.col("township_code") == LAOZHAI).row(0, named=True)
    first, last = row["first_day"], row["last_day"]
    lo, hi = day_start(first), day_start(last + 1)
    in_window = (record.c.township_code == LAOZHAI, record.c.occurred_at >= lo, record.c.occurred_at < hi)
    n = _raw(pool, select(func.count()).where(*in_window))[0][0]
    late = _raw(
        pool,
        select(func.count()).where(*in_window, record.c.received_at - record.c.occurred_at > LATE_SECONDS),
    )[0][0]
    assert row["n"] == n > 0
    assert row["use_per_1k_day"] == pytest.approx(n / row["population"] * 1000 / (last - first + 1))
    assert row["late_share"] == pytest.approx(late / n)
    visits = _raw(
        pool,
        select(func.sum(divide_counter_visit.c.visits))
        .select_from(divide_counter_visit.join(divide_counter))
        .where(divide_counter.c.township_code == LAOZHAI, divide_counter_visit.c.period == "2026Q4"),
    )[0][0]
    assert row["visits"] == visits and row["visits_per_1k"] == pytest.approx(
        visits / row["population"] * 1000
    )
    assert row["people_65"] == round(row["population"] * row["aged65_share"])
    # the remote Miao township is the widest divide, the old city centre the narrowest
    assert t["township_code"][0] in (LAOZHAI, 532503201) and t["township_code"][-1] == WENLAN


def test_a_township_leader_sees_their_township_with_the_county_wide_score(pool: str) -> None:
    leader = Viewer(1, "wenlan", "文澜", "leader", township_code=WENLAN)
    own = divide.township_table(scope=leader.scope(), period="2026Q4")
    city = divide.township_table(scope=CITY_SCOPE, period="2026Q4").filter(pl.col("township_code") == WENLAN)
    assert own["township_code"].to_list() == [WENLAN]
    assert own["index"].to_list() == city["index"].to_list()
    assert divide.trend(scope=leader.scope(), township_code=LAOZHAI).is_empty()
    assert divide.invest_ranking(scope=leader.scope(), period="2026Q4")["township_code"].to_list() == [WENLAN]


def test_invest_ranking(pool: str) -> None:
    r = divide.invest_ranking(scope=CITY_SCOPE, period="2026Q4")
    assert r["rank"].to_list() == list(range(1, 14))
    for row in r.iter_rows(named=True):
        assert (row["action_zh"], row["action_en"]) == divide.ACTIONS[row["dominant"]]
        if row["dominant"] == divide.INFRA:
            assert row[divide.INFRA] > row[divide.SOCIO]
    assert r["people_offline"].sum() == sum(
        round(p * (1 - i))
        for p, i in _raw(
            pool,
            select(divide_indicator.c.population, divide_indicator.c.internet_rate).where(
                divide_indicator.c.period == "2026Q4"
            ),
        )
    )


def test_benchmarks(pool: str) -> None:
    b = divide.benchmarks(scope=CITY_SCOPE)
    nat = b.filter(pl.col("source") == "national")
    assert sorted(nat["rate"].to_list()) == [0.523, 0.588, 0.764, 0.829]
    rows = _raw(
        pool,
        select(
            divide_indicator.c.township_code, divide_indicator.c.population, divide_indicator.c.internet_rate
        ).where(divide_indicator.c.period == "2026Q4"),
    )
    urban = {t.code for t in ref.townships() if t.urban}
    pop = sum(p for c, p, _ in rows if c in urban)
    expect = sum(p * r for c, p, r in rows if c in urban) / pop
    got = b.filter((pl.col("source") == "county") & (pl.col("group") == "urban")).sort("when")["rate"][-1]
    assert got == pytest.approx(expect)


def test_trend(pool: str) -> None:
    """On one scale over every quarter: the county's worst township (100 in each quarter on that quarter's
    own scale) moves, the widest divide of any quarter is 100, and the county median sits below it."""
    t = divide.trend(scope=CITY_SCOPE, township_code=LAOZHAI)
    assert t["period"].to_list() == divide.periods()
    per_quarter = [divide.township_table(scope=CITY_SCOPE, period=q) for q in divide.periods()]
    assert all(f.filter(pl.col("township_code") == LAOZHAI)["index"][0] == 100 for f in per_quarter)
    assert t["index"].n_unique() > 1 and t["index"].max() <= 100
    assert (t["county_median"] < t["index"]).all()
    pooled = divide.divide_index(divide.indicators(period=None))
    assert pooled["index"].max() == 100 and pooled["index"].min() == 0


def test_use_drops_against_raw_records(pool: str) -> None:
    day = meta.pool_status().as_of_day
    assert divide.use_drops(scope=CITY_SCOPE, as_of_day=day).is_empty()  # nothing fell sharply
    every = divide.use_drops(scope=CITY_SCOPE, as_of_day=day, drop=0.0)
    row = every.row(0, named=True)
    code = row["township_code"]

    def count(a: int, b: int) -> int:
        cond = (
            record.c.township_code == code,
            record.c.occurred_at >= day_start(a),
            record.c.occurred_at < day_start(b),
        )
        return int(_raw(pool, select(func.count()).where(*cond))[0][0])  # type: ignore[call-overload]

    assert row["recent_per_day"] == pytest.approx(count(day - 7, day) / 7)
    assert row["before_per_day"] == pytest.approx(count(day - 35, day - 7) / 28)
    assert row["change"] < 0


def test_outlines(pool: str) -> None:
    towns = geo.township_outlines()
    codes = {f["properties"]["code"] for f in towns["features"]}
    assert codes == set(meta.townships()["code"].to_list())
    assert all(f["properties"]["schematic"] for f in towns["features"])
    counties = geo.county_outlines()["features"]
    assert len(counties) == 13 and [
        f["properties"]["name_zh"] for f in counties if f["properties"]["focus"]
    ] == ["蒙自市"]
    # the map's payload stays small
    assert len(json.dumps(towns)) + len(json.dumps(geo.county_outlines())) < 300_000


def test_schematic_zones_are_drawn_from_the_shipped_county_file() -> None:
    counties = json.loads(COUNTIES.read_text(encoding="utf-8"))
    assert make.dump(make.schematic(counties)) == SCHEMATIC.read_text(encoding="utf-8")
    mengzi = shape(next(f for f in counties["features"] if f["properties"]["code"] == 532503)["geometry"])
    zones = [shape(f["geometry"]) for f in json.loads(SCHEMATIC.read_text(encoding="utf-8"))["features"]]
    for f, z in zip(json.loads(SCHEMATIC.read_text(encoding="utf-8"))["features"], zones, strict=True):
        assert z.is_valid and z.contains(Point(*f["properties"]["seat"]))
    # the zones tile the county: no overlap, nothing missing (up to the 4-decimal rounding)
    assert sum(z.area for z in zones) == pytest.approx(mengzi.area, rel=0.01)
    assert mengzi.bounds == pytest.approx((103.2061, 23.0194, 103.8203, 23.5759), abs=1e-3)


def test_township_panel(pool: str) -> None:
    got = divide.township_panel(scope=CITY_SCOPE, period="2026Q4", township_code=LAOZHAI)
    assert got is not None and got["schematic"] is True
    row = divide.township_table(scope=CITY_SCOPE, period="2026Q4").filter(pl.col("township_code") == LAOZHAI)
    assert got["row"] == row.row(0, named=True)
    assert got["trend"]["period"].to_list() == divide.periods()
    leader = Viewer(1, "wenlan", "文澜", "leader", township_code=WENLAN).scope()
    assert divide.township_panel(scope=leader, period="2026Q4", township_code=LAOZHAI) is None
    assert divide.township_panel(scope=CITY_SCOPE, period="2026Q4", township_code=1) is None


def test_summary(pool: str) -> None:
    s = divide.summary(scope=CITY_SCOPE, period="2026Q4")
    t = divide.township_table(scope=CITY_SCOPE, period="2026Q4")
    b = divide.benchmarks(scope=CITY_SCOPE).filter(pl.col("source") == "county").sort("when")
    urban, rural = (b.filter(pl.col("group") == g)["rate"][-1] for g in ("urban", "rural"))
    assert s["gap_pp"] == pytest.approx((urban - rural) * 100) and s["gap_pp"] > 0
    assert s["townships"] == 13 and s["infra_led"] == int((t["dominant"] == divide.INFRA).sum())
    assert (s["offline"], s["visits"], s["population"], s["attendees"]) == tuple(
        int(t[c].sum()) for c in ("people_offline", "visits", "population", "training_attendees")
    )
    leader = Viewer(1, "wenlan", "文澜", "leader", township_code=WENLAN).scope()
    own = divide.summary(scope=leader, period="2026Q4")
    assert own["townships"] == 1 and own["gap_pp"] is None  # one urban township: no rural side
