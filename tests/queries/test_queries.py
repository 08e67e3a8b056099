"""Every query function against a real pool, SQLite and PostgreSQL: columns, dtypes, and known values
computed independently from the raw records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import create_engine, func, select

from queries import activity, calendar, meta, overview
from queries import pool as poolq
from queries.generate import reference as ref
from queries.scope import CITY_SCOPE, Viewer
from queries.tables import record, seed_defect, seed_defect_daily
from queries.timebase import DAY, day_start, local_day_of

CAOBA, WENLAN = 532503102, 532503001
CIVIL = next(i for i, code, _, _ in ref.DEPARTMENTS if code == "civil_affairs")


def raw_count(url: str, *conds: object) -> int:
    with create_engine(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(record).where(*conds)).scalar() or 0)


def test_pool_status(pool: str) -> None:
    st = meta.pool_status()
    assert st.scale == "test"
    assert st.records == raw_count(pool)
    assert st.as_of == pytest.approx(1795156200, abs=3600)  # the fixed END, 2026-11-20 14:30 +08:00
    assert st.data_version != "none"


def test_reference_lists(pool: str) -> None:
    mods, towns, srcs = meta.modules(), meta.townships(), meta.sources()
    assert mods.height == 12 and mods["id"].dtype == pl.Int16
    assert towns.height == 13 and towns.filter(pl.col("urban")).height == 5
    assert towns.filter(pl.col("code") == WENLAN)["name_zh"][0] == "文澜街道"
    assert towns["population"].sum() == sum(t.population for t in ref.townships())
    assert srcs.height == len(ref.sources()) and {"dept_zh", "delivery"} <= set(srcs.columns)


def test_daily_by_module_totals_match_raw(pool: str) -> None:
    st = meta.pool_status()
    d = st.as_of_day
    f = activity.daily_by_module(scope=CITY_SCOPE, first_day=d - 200, last_day=d)
    assert f.columns == ["module_id", "day", "n", "date"]
    assert f.schema["n"] == pl.Int64 and f.schema["date"] == pl.Date
    assert f.height == 12 * 201  # every module x every day, zeros included
    assert int(f["n"].sum()) == st.records
    one = f.filter((pl.col("module_id") == 1) & (pl.col("day") == d - 3))["n"][0]
    lo = day_start(d - 3)
    assert one == raw_count(
        pool, record.c.module_id == 1, record.c.occurred_at >= lo, record.c.occurred_at < lo + DAY
    )


def test_today_vs_last_week_counts_only_what_had_arrived(pool: str) -> None:
    st = meta.pool_status()
    f = overview.today_vs_last_week(scope=CITY_SCOPE, as_of=st.as_of)
    assert f.columns == ["module_id", "today", "last_week"] and f.height == 12
    start = day_start(st.as_of_day)
    end = st.as_of + 1
    today = raw_count(
        pool, record.c.occurred_at >= start, record.c.occurred_at < end, record.c.received_at < end
    )
    assert int(f["today"].sum()) == today
    w0, w1 = start - 7 * DAY, end - 7 * DAY
    last = raw_count(pool, record.c.occurred_at >= w0, record.c.occurred_at < w1, record.c.received_at < w1)
    assert int(f["last_week"].sum()) == last
    parks = ref.module_by_code()["parks"].id  # nightly batches only: nothing of today has arrived yet
    assert f.filter(pl.col("module_id") == parks)["today"][0] == 0
    assert f.filter(pl.col("module_id") == parks)["last_week"][0] == 0


def test_township_kpis(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = overview.township_kpis(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    assert f.height == 13
    for c in ("on_time", "complete", "conform", "unique"):
        assert f[c].dtype == pl.Float64 and f[c].min() > 0.8 and f[c].max() <= 1.0
    assert f["index"].is_sorted(descending=True)
    caoba = f.filter(pl.col("township_code") == CAOBA).row(0, named=True)
    lo, hi = day_start(d - 29), day_start(d + 1)
    assert caoba["n"] == raw_count(
        pool, record.c.township_code == CAOBA, record.c.occurred_at >= lo, record.c.occurred_at < hi
    )
    late = raw_count(
        pool,
        record.c.township_code == CAOBA,
        record.c.occurred_at >= lo,
        record.c.occurred_at < hi,
        record.c.received_at - record.c.occurred_at > 48 * 3600,
    )
    assert caoba["on_time"] == pytest.approx(1 - late / caoba["n"])
    rural = f.filter(~pl.col("urban"))["on_time"].mean()
    urban = f.filter(pl.col("urban"))["on_time"].mean()
    assert urban > rural  # weaker networks deliver later


def test_urban_rural(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = overview.urban_rural(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    assert f.height == 24
    pops = dict(f.group_by("urban").agg(pl.col("population").first()).iter_rows())
    assert pops == {True: 420000, False: 180000}
    cons = ref.module_by_code()["consumption"].id
    row = {r["urban"]: r["per_1k_day"] for r in f.filter(pl.col("module_id") == cons).iter_rows(named=True)}
    assert row[True] > row[False]


def test_alerts_find_exactly_the_injected_incidents(pool: str) -> None:
    st = meta.pool_status()
    f = activity.alerts(scope=CITY_SCOPE, as_of=st.as_of, rules=activity.AlertRules())
    assert f.schema == pl.Schema(activity.ALERT_SCHEMA)
    got = sorted((r["kind"], r["module_id"], r["township_code"], r["level"]) for r in f.iter_rows(named=True))
    assert got == [("outage", 7, None, "red"), ("spike", 3, CAOBA, "red")]
    outage = f.filter(pl.col("kind") == "outage").row(0, named=True)
    # the generator cut logistics off 9 hours before END; the last record before the cut came a little earlier
    assert 9.0 <= outage["value"] < 14.0


def test_alert_rules_are_parameters(pool: str) -> None:
    st = meta.pool_status()
    lax = activity.alerts(
        scope=CITY_SCOPE, as_of=st.as_of, rules=activity.AlertRules(outage_hours=48, spike_ratio=100)
    )
    assert lax.height == 0


def test_scope_operator_sees_no_core_data(pool: str) -> None:
    d = meta.pool_status().as_of_day
    op = Viewer(1, "op", "op", "operator").scope()
    admin = overview.township_kpis(scope=CITY_SCOPE, first_day=0, last_day=d)
    oper = overview.township_kpis(scope=op, first_day=0, last_day=d)
    assert int(oper["n"].sum()) == raw_count(pool, record.c.classification <= 1)
    assert int(oper["n"].sum()) < int(admin["n"].sum())
    # the defect counts follow the same row rule
    assert int(oper["n_late"].sum()) == raw_count(
        pool, record.c.classification <= 1, record.c.received_at - record.c.occurred_at > 48 * 3600
    )


def test_scope_township_leader_sees_only_their_township(pool: str) -> None:
    d = meta.pool_status().as_of_day
    sc = Viewer(2, "wenlan", "w", "leader", township_code=WENLAN).scope()
    f = overview.township_kpis(scope=sc, first_day=0, last_day=d)
    assert f["township_code"].to_list() == [WENLAN]
    daily = activity.daily_by_module(scope=sc, first_day=0, last_day=d)
    assert int(daily["n"].sum()) == raw_count(pool, record.c.township_code == WENLAN)
    ur = overview.urban_rural(scope=sc, first_day=d - 29, last_day=d)
    assert set(ur["urban"].to_list()) == {True}


def test_scope_department_head_sees_only_their_department(pool: str) -> None:
    sc = Viewer(3, "mz", "m", "department_head", department_id=2).scope()
    d = meta.pool_status().as_of_day
    q = poolq.source_quality(scope=sc, first_day=d - 29, last_day=d)
    assert (
        int(q.filter(pl.col("n") > 0)["source_id"].n_unique()) == 2
    )  # civil affairs runs two source systems
    assert int(q["n"].sum()) == raw_count(
        pool,
        record.c.dept_id == 2,
        record.c.occurred_at >= day_start(d - 29),
        record.c.occurred_at < day_start(d + 1),
    )


def test_source_quality(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = poolq.source_quality(scope=CITY_SCOPE, first_day=0, last_day=d)
    assert f.height == len(ref.sources())
    assert {"late_rate", "dup_rate", "last_received", "module_zh", "dept_en"} <= set(f.columns)
    with create_engine(pool).connect() as conn:
        dups = int(
            conn.execute(select(func.count()).where(seed_defect.c.defect == "duplicate")).scalar() or 0
        )
    assert int(f["n_dup"].sum()) == dups
    cg = f.filter(pl.col("code") == "community_governance").row(0, named=True)
    # civil affairs re-enters 30% of public security's population records: a large share of its rows
    assert cg["dup_rate"] > 0.2
    logistics = f.filter(pl.col("code") == "logistics_platform").row(0, named=True)
    assert meta.pool_status().as_of - logistics["last_received"] > 8 * 3600


def test_classification_split(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = poolq.classification_split(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    assert f.height == 36
    sums = f.group_by("module_id").agg(pl.col("share").sum())["share"]
    assert all(s == pytest.approx(1.0) for s in sums)
    carbon = ref.module_by_code()["carbon"].id
    assert f.filter((pl.col("module_id") == carbon) & (pl.col("classification") == 2))["n"][0] == 0


def test_detected_vs_injected(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = poolq.detected_vs_injected(scope=CITY_SCOPE, first_day=0, last_day=d)
    assert f["defect"].to_list() == ["duplicate", "missing", "late", "badcode"]
    assert (f["detected"] == f["injected"]).all()
    assert f["records"][0] == raw_count(pool)


SCOPES = {
    "wenlan": Viewer(1, "w", "w", "leader", township_code=WENLAN).scope(),
    "minzheng": Viewer(1, "m", "m", "department_head", department_id=CIVIL).scope(),
    "operator": Viewer(1, "o", "o", "operator").scope(),
}


@pytest.mark.parametrize("who", sorted(SCOPES))
def test_detected_vs_injected_within_scope_and_window(pool: str, who: str) -> None:
    """Injected truth follows the scope and the window too: every check matches for every role."""
    sc = SCOPES[who]
    d = meta.pool_status().as_of_day
    f = poolq.detected_vs_injected(scope=sc, first_day=d - 29, last_day=d)
    assert (f["detected"] == f["injected"]).all() and int(f["injected"].sum()) > 0
    lo, hi = day_start(d - 29), day_start(d + 1)
    window = (record.c.occurred_at >= lo, record.c.occurred_at < hi)
    assert f["records"][0] == raw_count(pool, sc.where(record), *window)
    with create_engine(pool).connect() as conn:
        dup = conn.execute(
            select(func.count())
            .select_from(seed_defect.join(record, record.c.id == seed_defect.c.record_id))
            .where(seed_defect.c.defect == "duplicate", sc.where(record), *window)
        ).scalar()
    assert f.filter(pl.col("defect") == "duplicate")["injected"][0] == dup


def test_scope_sources_and_delivering(pool: str) -> None:
    st = meta.pool_status()
    city = activity.scope_sources(scope=CITY_SCOPE)
    assert city.height == len(ref.sources()) and city.schema["source_id"] == pl.Int16
    own = {sid for sid, _, s in ref.sources() if s.dept_id == CIVIL}
    mz = activity.scope_sources(scope=SCOPES["minzheng"])
    assert set(mz["source_id"].to_list()) == own and len(own) == 2
    assert activity.scope_module_ids(scope=SCOPES["minzheng"]) == sorted(set(mz["module_id"].to_list()))
    d = activity.delivering(scope=SCOPES["minzheng"], as_of=st.as_of, rules=RULES, by="source")
    assert (d.total, d.down, d.outside) == (2, 0, len(ref.sources()) - 2)
    c = activity.delivering(scope=CITY_SCOPE, as_of=st.as_of, rules=RULES, by="module")
    assert (c.total, c.down, c.up, c.outside) == (12, 1, 11, 0)


def test_window_counts_buckets(pool: str) -> None:
    st = meta.pool_status()
    ends = (st.as_of + 1, st.as_of + 1 - 7 * DAY)
    f = activity.window_counts(scope=CITY_SCOPE, ends=ends, seconds=6 * 3600)
    assert set(f["bucket"].unique().to_list()) <= {0, 1}
    spike = f.filter(
        (pl.col("module_id") == 3) & (pl.col("township_code") == CAOBA) & (pl.col("bucket") == 0)
    )
    assert spike["n"][0] >= 40
    assert local_day_of(st.as_of) == st.as_of_day


RULES = activity.AlertRules()


def test_headline_agrees_with_its_parts(pool: str) -> None:
    st = meta.pool_status()
    h = overview.headline(scope=CITY_SCOPE, as_of=st.as_of, rules=RULES)
    tvl = overview.today_vs_last_week(scope=CITY_SCOPE, as_of=st.as_of)
    assert (h.today, h.last_week) == (int(tvl["today"].sum()), int(tvl["last_week"].sum()))
    d = st.as_of_day
    lo, hi = day_start(d - 6), day_start(d + 1)
    assert h.week == raw_count(pool, record.c.occurred_at >= lo, record.c.occurred_at < hi)
    assert h.modules_down == 1  # logistics
    assert h.on_time is not None and 0.95 < h.on_time < 1.0
    assert h.delta == pytest.approx((h.today - h.last_week) / h.last_week)


def test_module_summary(pool: str) -> None:
    st = meta.pool_status()
    f = overview.module_summary(scope=CITY_SCOPE, as_of=st.as_of, rules=RULES)
    assert f.height == 12 and f["code"].to_list()[0] == "transport"
    row = {r["code"]: r for r in f.iter_rows(named=True)}
    assert row["logistics"]["level"] == "red" and row["community"]["level"] == "red"
    assert row["tourism"]["level"] is None
    assert row["parks"]["batch_only"] and not row["transport"]["batch_only"]
    assert row["parks"]["delta"] is None  # nothing to compare with: "—", not -100%
    assert len(row["transport"]["series"]) == 30 == len(row["transport"]["dates"])
    d = st.as_of_day
    assert row["transport"]["week"] == raw_count(
        pool,
        record.c.module_id == 1,
        record.c.occurred_at >= day_start(d - 6),
        record.c.occurred_at < day_start(d + 1),
    )


def test_township_ranking(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = overview.township_ranking(scope=CITY_SCOPE, first_day=d - 29, last_day=d, kpi="per_1k_day")
    assert f.columns == ["township_code", "name_zh", "name_en", "urban", "value"] and f.height == 13
    assert f["value"].is_sorted(descending=True)
    assert f["urban"][0]  # urban sub-districts produce the most data per resident
    with pytest.raises(ValueError, match="unknown KPI"):
        overview.township_ranking(scope=CITY_SCOPE, first_day=d - 29, last_day=d, kpi="happiness")


def test_module_ranking_ranks_a_townships_modules(pool: str) -> None:
    d = meta.pool_status().as_of_day
    sc = SCOPES["wenlan"]
    f = overview.module_ranking(scope=sc, first_day=d - 29, last_day=d, kpi="on_time")
    assert f.columns == ["module_id", "name_zh", "name_en", "value"] and f.height > 1
    assert f["value"].is_sorted(descending=True, nulls_last=True)
    k = overview.module_kpis(scope=sc, first_day=d - 29, last_day=d)
    assert set(overview.RANK_KPIS) <= set(k.columns)
    lo, hi = day_start(d - 29), day_start(d + 1)
    transport = k.filter(pl.col("code") == "transport").row(0, named=True)
    assert transport["n"] == raw_count(
        pool, sc.where(record), record.c.module_id == 1, record.c.occurred_at >= lo, record.c.occurred_at < hi
    )
    wenlan_pop = meta.townships().filter(pl.col("code") == WENLAN)["population"][0]
    assert transport["per_1k_day"] == pytest.approx(transport["n"] / wenlan_pop * 1000 / 30)


def test_urban_rural_wide_has_only_the_sides_a_scope_holds(pool: str) -> None:
    d = meta.pool_status().as_of_day
    wide = overview.urban_rural_wide(scope=SCOPES["wenlan"], first_day=d - 29, last_day=d)
    assert "rural" not in wide.columns and "urban" in wide.columns  # 文澜街道 is an urban sub-district
    mz = overview.urban_rural_wide(scope=SCOPES["minzheng"], first_day=d - 29, last_day=d)
    assert mz["module_id"].to_list() == activity.scope_module_ids(scope=SCOPES["minzheng"])


def test_source_health_puts_the_outage_first(pool: str) -> None:
    st = meta.pool_status()
    d = st.as_of_day
    f = poolq.source_health(scope=CITY_SCOPE, first_day=d - 29, last_day=d, as_of=st.as_of, rules=RULES)
    assert f.height == len(ref.sources())
    assert f["code"][0] == "logistics_platform" and f["outage"][0] == "red"
    rest = f.filter(pl.col("outage") == "")["defect_rate"]
    assert rest.is_sorted(descending=True, nulls_last=True)
    mz = poolq.source_health(
        scope=SCOPES["minzheng"], first_day=d - 29, last_day=d, as_of=st.as_of, rules=RULES
    )
    assert mz.height == 2


def test_urban_rural_wide_matches_long(pool: str) -> None:
    d = meta.pool_status().as_of_day
    wide = overview.urban_rural_wide(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    long = overview.urban_rural(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    assert wide.height == 12
    urban1 = long.filter((pl.col("module_id") == 1) & pl.col("urban"))["per_1k_day"][0]
    assert wide.filter(pl.col("module_id") == 1)["urban"][0] == pytest.approx(urban1)


def test_daily_totals_mark_rest_days(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = overview.daily_totals(scope=CITY_SCOPE, first_day=d - 59, last_day=d - 1)
    assert f.height == 59 and f.schema["kind"] == pl.Int8
    oct3 = f.filter(pl.col("date") == pl.date(2026, 10, 3))
    assert oct3["kind"][0] == 2  # National Day
    assert int(f["n"].sum()) == raw_count(
        pool, record.c.occurred_at >= day_start(d - 59), record.c.occurred_at < day_start(d)
    )


def test_alert_level_and_source_outages(pool: str) -> None:
    st = meta.pool_status()
    assert activity.alert_level(scope=CITY_SCOPE, as_of=st.as_of, rules=RULES) == "red"
    assert (
        activity.alert_level(
            scope=CITY_SCOPE, as_of=st.as_of, rules=activity.AlertRules(outage_hours=1000), kinds=("outage",)
        )
        is None
    )
    outages = activity.source_outages(scope=CITY_SCOPE, as_of=st.as_of, rules=RULES)
    logistics = next(sid for sid, _, s in ref.sources() if s.code == "logistics_platform")
    assert outages == {logistics: "red"}


def test_module_day_relative(pool: str) -> None:
    d = meta.pool_status().as_of_day
    days, f = poolq.module_day_relative(scope=CITY_SCOPE, first_day=d - 59, last_day=d - 1)
    assert days == list(range(d - 59, d)) and f.height == 12 and f.width == 3 + 59
    values = f.select([str(x) for x in days]).to_numpy()
    assert abs(float(np.median(values[0])) - 1.0) < 0.05  # each row is relative to its own median
    tourism = ref.module_by_code()["tourism"].id - 1
    oct3 = days.index(calendar.date_to_day(dt.date(2026, 10, 3)))
    assert values[tourism, oct3] > 1.8  # National Day crowds


def test_classification_wide(pool: str) -> None:
    d = meta.pool_status().as_of_day
    f = poolq.classification_wide(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    assert f.columns == ["module_id", "name_zh", "name_en", "public", "sensitive", "core"]
    sums = (f["public"] + f["sensitive"] + f["core"]).to_list()
    assert all(s == pytest.approx(1.0) for s in sums)


def test_quality_totals(pool: str) -> None:
    d = meta.pool_status().as_of_day
    t = poolq.quality_totals(scope=CITY_SCOPE, first_day=0, last_day=d)
    truth = poolq.detected_vs_injected(scope=CITY_SCOPE, first_day=0, last_day=d)
    assert t.records == raw_count(pool) and t.sources == len(ref.sources())
    dup = truth.filter(pl.col("defect") == "duplicate")["injected"][0]
    assert t.rates["duplicate"] == pytest.approx(dup / t.records)


def test_a_quiet_batch_source_in_a_small_scope_is_no_outage(pool: str) -> None:
    """Wenlan receives a few park records a week; three quiet nights are chance, not a red outage."""
    st = meta.pool_status()
    parks = ref.module_by_code()["parks"].id
    wenlan = SCOPES["wenlan"]
    later = st.as_of + 3 * DAY  # as if nothing had arrived for three more days
    got = activity.alerts(scope=wenlan, as_of=later, rules=RULES).filter(pl.col("module_id") == parks)
    deliv = activity.source_delivery(scope=wenlan, as_of_day=local_day_of(later))
    n_28d = deliv.filter(pl.col("module_id") == parks)["n_28d"].sum()
    silent = (later - deliv.filter(pl.col("module_id") == parks)["last_received"].max()) / 3600
    assert n_28d / (28 * 24) * silent < 10  # too few records due to call the silence an outage
    assert got.filter(pl.col("kind") == "outage").height == 0
    city = activity.alerts(scope=CITY_SCOPE, as_of=later, rules=RULES)
    assert parks in city.filter(pl.col("kind") == "outage")["module_id"].to_list()  # the city still sees it


def test_a_pool_without_seed_truth_shows_none_and_never_joins_the_records(tmp_path: Path) -> None:
    """A real pool has no generator truth: injected is 0 for every defect, detection still counts, and no
    join over the window's records is run (it is what grew faster than the pool at 35M): the truth is
    read from its daily rollup."""
    from sqlalchemy import delete, event
    from sqlalchemy.engine import Engine

    from queries import engine as eng
    from tests.pools import sqlite_pool_at

    url = sqlite_pool_at(tmp_path / "real.sqlite", demo_users=False).url
    with create_engine(url).begin() as conn:
        conn.execute(delete(seed_defect))
        conn.execute(delete(seed_defect_daily))
    eng.configure(url)
    seen: list[str] = []

    def spy(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        d = meta.pool_status().as_of_day
        f = poolq.detected_vs_injected(scope=CITY_SCOPE, first_day=d - 29, last_day=d)
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    assert f["injected"].to_list() == [0, 0, 0, 0] and int(f["detected"].sum()) > 0
    assert any("FROM seed_defect_daily" in s for s in seen)  # it read the truth's rollup ...
    assert not [s for s in seen if "JOIN record" in s or "FROM record" in s]  # ... and no record
