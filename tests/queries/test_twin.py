"""The 3D community twin: the generator's town (no overlapping footprints, plausible attributes, >= 5,000
buildings at full scale), and coverage and evacuation worked by hand on a five-node community, then the
same reads on the real test pools (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import polars as pl
import pytest
from sqlalchemy import create_engine, func, select

from queries import meta, twin
from queries.generate import twin as gen
from queries.scope import CITY_SCOPE, Scope
from queries.tables import twin_building, twin_event

# --- a community small enough to work by hand ---------------------------------------------------------
#   4 (0,100) --e5-- 5 (100,100)
#   |e3              |e4
#   1 (0,0) ---e1--- 2 (100,0) ---e2--- 3 (200,0)
NODES = pl.DataFrame({"id": [1, 2, 3, 4, 5], "x": [0.0, 100, 200, 0, 100], "y": [0.0, 0, 0, 100, 100]})
EDGES = pl.DataFrame(
    {"id": [1, 2, 3, 4, 5], "a": [1, 2, 1, 2, 4], "b": [2, 3, 4, 5, 5], "length_m": [100.0] * 5}
)
BLD = pl.DataFrame(
    {
        "id": [11, 12, 13],
        "node_id": [1, 3, 5],
        "access_m": [10.0, 20.0, 5.0],
        "residents": [10, 20, 30],
        "residents_65": [5, 2, 10],
    }
)


def facility(fid: int, kind: str, node: int, access: float = 0.0, capacity: int = 100) -> dict[str, object]:
    x, y = NODES.filter(pl.col("id") == node).select("x", "y").row(0)
    return dict(
        id=fid, kind=kind, name_zh=f"{kind}{fid}", x=x, y=y, node_id=node, access_m=access, capacity=capacity
    )


FAC = pl.DataFrame(
    [
        facility(1, "clinic", 2),
        facility(2, "elderly_care", 4, access=10.0),
        facility(3, "shelter", 3, capacity=25),
        facility(4, "shelter", 4, capacity=100),
    ]
)


def test_coverage_by_hand() -> None:
    per, summary = twin.coverage_of(BLD, FAC, EDGES)
    care = per.filter(pl.col("kind") == "elderly_care").sort("building_id")
    # 11: 10 + 100 (1-4) + 10; 12: 20 + 300 (3-2-1-4) + 10, beyond the 300 m of a 5-minute walk; 13: 5 + 100 + 10
    assert care["metres"].to_list() == [120.0, 330.0, 115.0]
    assert care["covered"].to_list() == [True, False, True]
    row = summary.filter(pl.col("kind") == "elderly_care").row(0, named=True)
    assert (row["buildings_outside"], row["residents_outside"], row["residents_65_outside"]) == (1, 20, 2)
    assert row["reach_m"] == 300.0
    clinic = summary.filter(pl.col("kind") == "clinic").row(0, named=True)
    assert clinic["buildings_outside"] == 0
    # a kind the community lacks leaves everyone outside
    market = summary.filter(pl.col("kind") == "market").row(0, named=True)
    assert (market["facilities"], market["residents_outside"], market["residents_65_outside"]) == (0, 60, 17)
    assert per.filter(pl.col("kind") == "market")["metres"].null_count() == 3


def test_evacuation_by_hand() -> None:
    ev = twin.evacuate(BLD, FAC, NODES, EDGES, twin.Hazard())
    r = ev.routes.sort("building_id")
    assert r["shelter_id"].to_list() == [4, 3, 4]
    assert r["metres"].to_list() == [110.0, 20.0, 105.0]
    assert r["minutes"].to_list() == pytest.approx([110 / 60, 20 / 60, 105 / 60])
    assert ev.shelters["assigned"].to_list() == [20, 40] and not ev.shelters["over"].any()
    assert ev.stranded == 0

    # road 1-4 closed: building 11 walks 1-2-3 to shelter 3 (10 + 200 m), which then holds 30 > 25
    ev = twin.evacuate(BLD, FAC, NODES, EDGES, twin.Hazard(closed=(3,)))
    r = ev.routes.sort("building_id")
    assert r["shelter_id"].to_list() == [3, 3, 4]
    assert r["metres"][0] == 210.0 and r["path"][0].to_list() == [1, 2, 3]
    assert ev.shelters.filter(pl.col("id") == 3)["over"].item() is True

    # a flood around node 3 closes shelter 3 and road 2-3: building 12 stands in the water, cut off
    flood = ((150.0, -50.0), (250.0, -50.0), (250.0, 50.0), (150.0, 50.0))
    ev = twin.evacuate(BLD, FAC, NODES, EDGES, twin.Hazard(flood=flood))
    assert ev.closed_edges == (2,)
    assert ev.shelters["open"].to_list() == [False, True]
    assert (ev.stranded, ev.stranded_residents) == (1, 20)
    assert not ev.no_open_shelter

    # a flood over everything leaves no open shelter: every building is stranded, and it says so
    everything = ((-10.0, -10.0), (300.0, -10.0), (300.0, 300.0), (-10.0, 300.0))
    ev = twin.evacuate(BLD, FAC, NODES, EDGES, twin.Hazard(flood=everything))
    assert ev.no_open_shelter and ev.stranded == 3 and ev.stranded_residents == 60


def test_point_in_polygon() -> None:
    tri = ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))
    got = twin.inside(np.array([1.0, 6.0, -1.0]), np.array([1.0, 6.0, 1.0]), tri)
    assert got.tolist() == [True, False, False]


def test_renovation_score_by_hand() -> None:
    got = twin.reno_inputs(
        year_built=np.array([1966, 2016]),
        condition=np.array([4, 1]),
        structure=np.array(["brick_wood", "frame"]),
        share_65=np.array([0.4, 0.1]),
        year=2026,
    )
    assert got["score"].tolist() == pytest.approx([100.0, 0.15 * 20 + 0.15 * 25])
    assert got["elderly"].tolist() == pytest.approx([100.0, 25.0])


# --- the generator ------------------------------------------------------------------------------------


def _rects(footprints: list[str]) -> np.ndarray:
    rings = [np.asarray(json.loads(f)) for f in footprints]
    return np.array([[r[:, 0].min(), r[:, 1].min(), r[:, 0].max(), r[:, 1].max()] for r in rings])


def test_full_scale_lays_out_at_least_5000_buildings_without_overlap() -> None:
    rng = np.random.default_rng(7)
    ids = {"node": 0, "edge": 0, "building": 0, "facility": 0}
    _, nbx, nby = gen.SCALES["full"]
    codes = gen.community_codes("full")
    assert len(codes) == 29  # every community of the five central sub-districts
    sizes = []
    for code, town in codes:
        lay = gen.layout(rng, code, town, nbx, nby, ids, 2026)
        sizes.append(len(lay.buildings))
        if code == codes[0][0]:
            r = _rects([b["footprint"] for b in lay.buildings])
            for a, b in itertools.combinations(range(len(r)), 2):
                apart = r[a, 2] <= r[b, 0] or r[b, 2] <= r[a, 0] or r[a, 3] <= r[b, 1] or r[b, 3] <= r[a, 1]
                assert apart, (a, b)
    assert sum(sizes) >= 5000


def test_pool_buildings_are_a_town(pool: str) -> None:
    st = meta.pool_status()
    comms = twin.communities(scope=CITY_SCOPE)
    assert comms.height == len(gen.community_codes("test")) == 2
    code = int(comms["code"][0])
    b = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)
    assert b.height == comms["buildings"][0] and b.height > 30
    for col, dtype in (
        ("id", pl.Int64),
        ("floors", pl.Int64),
        ("height_m", pl.Float64),
        ("open_cases", pl.Int64),
    ):
        assert b[col].dtype == dtype
    # height follows floors at ~3 m a storey plus a roof; nobody counted twice
    assert ((b["height_m"] - b["floors"] * 3.0).is_between(0.19, 1.21)).all()
    assert (b["residents_65"] <= b["residents"]).all()
    assert b["structure"].is_in(list(twin.STRUCTURES)).all() and b["condition"].is_between(1, 4).all()
    r = _rects(b["footprint"].to_list())
    for x, y in itertools.combinations(range(len(r)), 2):
        assert r[x, 2] <= r[y, 0] or r[y, 2] <= r[x, 0] or r[x, 3] <= r[y, 1] or r[y, 3] <= r[x, 1]
    # the score is its inputs weighted, as the card shows it
    w = twin.RENO_WEIGHTS
    again = (
        w["age"] * b["reno_age"]
        + w["condition"] * b["reno_condition"]
        + w["structure"] * b["reno_structure"]
        + w["elderly"] * b["reno_elderly"]
    )
    assert np.allclose(again.to_numpy(), b["reno_score"].to_numpy(), atol=0.02)


def test_pool_events_are_counted_per_scope(pool: str) -> None:
    st = meta.pool_status()
    code = int(twin.communities(scope=CITY_SCOPE)["code"][0])
    admin = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)["open_cases"].sum()
    with create_engine(pool).connect() as conn:
        raw = conn.execute(
            select(func.count())
            .select_from(twin_event)
            .where(twin_event.c.community_code == code, twin_event.c.occurred_at > st.as_of - 30 * 86400)
        ).scalar_one()
        n = conn.execute(select(func.count()).select_from(twin_building)).scalar_one()
    assert admin == raw > 0
    operator = twin.buildings(scope=Scope(None, None, 1), community_code=code, as_of=st.as_of)
    assert operator.height > 0 and operator["open_cases"].sum() < admin  # core-classified ones are not theirs
    other = twin.buildings(scope=Scope(532503102, None, 2), community_code=code, as_of=st.as_of)
    assert other.height == 0 and twin.communities(scope=Scope(532503102, None, 2)).height == 0
    assert n == twin.communities(scope=CITY_SCOPE)["buildings"].sum()


def test_pool_coverage_and_evacuation(pool: str) -> None:
    st = meta.pool_status()
    code = int(twin.communities(scope=CITY_SCOPE)["code"][0])
    b = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)
    nodes, edges = twin.roads(community_code=code)
    fac = twin.facilities(community_code=code)
    per, summary = twin.coverage(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)
    assert summary.height == len(twin.FACILITY_KINDS) and per.height == b.height * summary.height
    # a walk is never shorter than the straight line between the two road nodes
    xy = {i: (x, y) for i, x, y in nodes.iter_rows()}
    fnode = dict(fac.select("id", "node_id").iter_rows())
    bnode = dict(b.select("id", "node_id").iter_rows())
    for bid, metres, fid in (
        per.drop_nulls("metres").select("building_id", "metres", "facility_id").iter_rows()
    ):
        (x1, y1), (x2, y2) = xy[bnode[bid]], xy[fnode[fid]]
        assert metres >= np.hypot(x2 - x1, y2 - y1) - 1e-6
    outside = per.filter(~pl.col("covered"))
    for row in summary.iter_rows(named=True):
        ids_out = outside.filter(pl.col("kind") == row["kind"])["building_id"]
        assert row["residents_outside"] == b.filter(pl.col("id").is_in(ids_out.implode()))["residents"].sum()
    ev = twin.evacuation(scope=CITY_SCOPE, community_code=code, as_of=st.as_of, hazard=twin.Hazard())
    assert ev.routes.height == b.height and ev.stranded == 0
    assert ev.shelters["assigned"].sum() == b["residents"].sum()
    # closing every road strands everyone but the buildings opening onto a shelter's own node
    shut = twin.Hazard(closed=tuple(edges["id"].to_list()))
    ev2 = twin.evacuation(scope=CITY_SCOPE, community_code=code, as_of=st.as_of, hazard=shut)
    at_shelter = b.filter(
        pl.col("node_id").is_in(fac.filter(pl.col("kind") == "shelter")["node_id"].implode())
    )
    assert ev2.stranded == b.height - at_shelter.height


# --- renovation scenarios -------------------------------------------------------------------------------


def _sq(x: float, y: float, w: float, h: float) -> str:
    return json.dumps([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


SC_BLD = BLD.with_columns(
    pl.Series("footprint", [_sq(0, 5, 10, 10), _sq(190, 5, 20, 10), _sq(95, 105, 10, 10)]),
    pl.Series("floors", [2, 3, 5]),
    pl.Series("height_m", [6.5, 9.5, 15.5]),
    pl.Series("households", [4, 6, 10]),
    pl.Series("year_built", [1966, 2016, 1996]),
    pl.Series("condition", [4, 1, 2]),
    pl.Series("structure", ["brick_wood", "frame", "brick_concrete"]),
).with_columns(
    (pl.col("residents_65") / pl.col("residents")).alias("share_65"),
    (pl.col("floors") * pl.Series([100.0, 200.0, 100.0])).alias("floor_area_m2"),
)
SC_BLD = SC_BLD.with_columns(
    pl.Series(
        "reno_score",
        twin.reno_inputs(
            year_built=SC_BLD["year_built"].to_numpy(),
            condition=SC_BLD["condition"].to_numpy(),
            structure=SC_BLD["structure"].to_numpy(),
            share_65=SC_BLD["share_65"].to_numpy(),
            year=2026,
        )["score"],
    )
)
PLAN = twin.Scenario(
    renovate=(11,), demolish=(12,), add_storey=(13,), facilities=(("elderly_care", 195.0, 3.0),)
)


def test_scenario_arithmetic_by_hand() -> None:
    assert SC_BLD["reno_score"].to_list() == pytest.approx([100.0, 6.75, 8.75 + 35 / 3 + 9 + 12.5])
    after, fac = twin.apply(
        SC_BLD, FAC.with_columns(pl.lit(1).alias("community_code")), NODES, PLAN, year=2026
    )
    assert after["id"].to_list() == [11, 13]
    b13 = after.filter(pl.col("id") == 13).row(0, named=True)
    # a storey more: 6 floors, 3 m higher, 10 + 10/5 households, residents and 65+ grown in proportion
    assert (b13["floors"], b13["height_m"], b13["households"], b13["residents"], b13["residents_65"]) == (
        6,
        18.5,
        12,
        36,
        12,
    )
    assert after.filter(pl.col("id") == 11)["reno_score"].item() == pytest.approx(
        65.0
    )  # condition back to good
    new = fac.filter(pl.col("id") < 0).row(0, named=True)
    assert (new["kind"], new["node_id"], new["access_m"]) == (
        "elderly_care",
        3,
        pytest.approx(np.hypot(5, 3)),
    )

    cmp = twin.compare(
        SC_BLD, FAC.with_columns(pl.lit(1).alias("community_code")), NODES, EDGES, PLAN, year=2026
    )
    got = {m: (b, a) for m, b, a, _ in cmp.iter_rows()}
    assert got["floor_area_m2"] == (1300.0, 800.0)
    assert got["residents"] == (60.0, 46.0)
    assert got["residents_affected"] == (0.0, 60.0)
    assert got["reno_need_total"] == pytest.approx(
        (106.75 + 8.75 + 35 / 3 + 9 + 12.5, 65 + 8.75 + 35 / 3 + 9 + 12.5), abs=0.01
    )
    assert got["outside:elderly_care"] == (20.0, 0.0)
    assert got["evac_minutes_median"] == pytest.approx((105 / 60, 107.5 / 60))
    assert cmp["change"].to_list()[0] == -500.0


def test_a_scenario_naming_what_is_not_there_is_refused() -> None:
    with pytest.raises(twin.ScenarioError) as err:
        twin.apply(SC_BLD, FAC, NODES, twin.Scenario(demolish=(12, 99, 98)), year=2026)
    assert "98, 99" in err.value.en and "98, 99" in err.value.zh
    with pytest.raises(twin.ScenarioError, match="Unknown facility kind: spa"):
        twin.apply(SC_BLD, FAC, NODES, twin.Scenario(facilities=(("spa", 0.0, 0.0),)), year=2026)
    assert twin.Scenario.from_json(PLAN.to_json()) == PLAN


def test_scenarios_are_saved_through_the_door(writable_pool: str) -> None:
    from queries import audit

    st = meta.pool_status()
    code = int(twin.communities(scope=CITY_SCOPE)["code"][0])
    ids = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)["id"].to_list()
    plan = twin.Scenario(renovate=(ids[0],), add_storey=(ids[1],), facilities=(("shelter", 50.0, 50.0),))
    actor = audit.Actor(1, "admin", "admin")
    before = audit.verify().entries
    sid = twin.save_scenario(
        actor=actor, scope=CITY_SCOPE, community_code=code, name="老城片区一期", scenario=plan, as_of=st.as_of
    )
    saved = twin.scenarios(scope=CITY_SCOPE, community_code=code)
    assert saved.filter(pl.col("id") == sid)["name"].item() == "老城片区一期"
    assert twin.Scenario.from_json(saved.filter(pl.col("id") == sid)["spec"].item()) == plan
    log = audit.show(limit=1, offset=0).row(0, named=True)
    assert (log["action"], log["object_id"], audit.verify().entries) == (
        "twin.scenario.save",
        str(sid),
        before + 1,
    )
    # refused, nothing written: a taken name, an unknown building, a community outside the scope
    for kwargs, message in (
        (dict(name="老城片区一期", scenario=plan, scope=CITY_SCOPE), "already has a scenario"),
        (dict(name="b", scenario=twin.Scenario(demolish=(10**8,)), scope=CITY_SCOPE), "No such building"),
        (dict(name="c", scenario=plan, scope=Scope(532503102, None, 2)), "outside your scope"),
        (dict(name="  ", scenario=plan, scope=CITY_SCOPE), "needs a name"),
    ):
        with pytest.raises(twin.ScenarioError, match=message):
            twin.save_scenario(actor=actor, community_code=code, as_of=st.as_of, **kwargs)  # type: ignore[arg-type]
    assert twin.scenarios(scope=CITY_SCOPE, community_code=code).height == saved.height
    assert audit.verify().entries == before + 1 and audit.verify().ok
    assert twin.scenarios(scope=Scope(532503102, None, 2), community_code=code).height == 0
