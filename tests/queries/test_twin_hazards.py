"""Hand-drawn hazard areas: corners parsed and checked (crossing edges, too few corners, no area, outside
the community refused with the reason), saved through the write door on SQLite and PostgreSQL, turned into
the evacuation's hazard, and what they touch counted by hand."""

from __future__ import annotations

import json

import pytest

from queries import audit, meta, twin, twin_hazards
from queries.scope import CITY_SCOPE, Scope

BOUNDS = (0.0, 0.0, 400.0, 300.0)
SQUARE = ((10.0, 10.0), (110.0, 10.0), (110.0, 110.0), (10.0, 110.0))


def test_corners_are_parsed_or_refused_by_name() -> None:
    assert twin_hazards.parse_points("10,10; 110,10；110,110\n10,110;") == SQUARE
    assert twin_hazards.parse_points("  ") == ()
    with pytest.raises(twin_hazards.HazardError, match="'10 10' is not two numbers"):
        twin_hazards.parse_points("10 10; 20,20")
    with pytest.raises(twin_hazards.HazardError, match="finite"):
        twin_hazards.parse_points("nan,1; 2,3; 4,5")
    with pytest.raises(twin_hazards.HazardError, match="More than 100 corners"):
        twin_hazards.parse_points("; ".join(f"{k},{k}" for k in range(101)))


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (((0.0, 0.0), (100.0, 0.0)), "at least 3 different corners"),
        (((0.0, 0.0), (0.0, 0.0), (100.0, 0.0), (100.0, 0.0)), "at least 3 different corners"),
        (((0.0, 0.0), (100.0, 100.0), (100.0, 0.0), (0.0, 100.0)), "edges cross each other"),  # a bow-tie
        (((0.0, 0.0), (5.0, 0.0), (5.0, 5.0)), "too small"),
        (((0.0, 0.0), (50.0, 0.0), (100.0, 0.0)), "edges cross|too small"),  # a line has no area
        (((900.0, 900.0), (950.0, 900.0), (950.0, 950.0)), "outside this community"),
        (((-500.0, 0.0), (100.0, 0.0), (100.0, 100.0)), "more than 200 m beyond"),
    ],
)
def test_bad_areas_are_refused_with_the_reason(points: twin_hazards.Ring, message: str) -> None:
    with pytest.raises(twin_hazards.HazardError, match=message) as err:
        twin_hazards.check_area(points, bounds=BOUNDS)
    assert err.value.zh  # and in Chinese


def test_a_good_area_is_kept_as_drawn() -> None:
    closed = (*SQUARE, SQUARE[0])
    assert twin_hazards.check_area(closed, bounds=BOUNDS) == SQUARE  # the closing corner dropped
    # a concave area (an L) is cut into triangles that cover exactly its area
    ell = ((0.0, 0.0), (200.0, 0.0), (200.0, 50.0), (50.0, 50.0), (50.0, 200.0), (0.0, 200.0))
    xs, ys, i, j, k = twin_hazards.sheet(ell)
    area = sum(
        abs((xs[b] - xs[a]) * (ys[c] - ys[a]) - (xs[c] - xs[a]) * (ys[b] - ys[a])) / 2
        for a, b, c in zip(i, j, k, strict=True)
    )
    assert area == pytest.approx(200 * 50 + 50 * 150)


def test_a_drawn_area_closes_roads_and_counts_who_is_in_it(pool: str) -> None:
    st = meta.pool_status()
    code = int(twin.communities(scope=CITY_SCOPE)["code"][0])
    bld = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)
    first = bld.row(0, named=True)
    ring = json.loads(first["footprint"])
    # a small area inside the first building's footprint touches that building and no other
    (x0, y0), (x1, y1) = ring[0], ring[2]
    inner = ((x0 + 1, y0 + 1), (x1 - 1, y0 + 1), (x1 - 1, y1 - 1), (x0 + 1, y1 - 1))
    hit = twin_hazards.impact(scope=CITY_SCOPE, community_code=code, as_of=st.as_of, area=inner)
    assert hit == {"buildings": 1, "residents": first["residents"], "residents_65": first["residents_65"]}
    # the whole community under water: every building, nobody gets out
    x0, y0, x1, y1 = twin_hazards.extent(community_code=code)
    everything = ((x0 - 50, y0 - 50), (x1 + 50, y0 - 50), (x1 + 50, y1 + 50), (x0 - 50, y1 + 50))
    hit = twin_hazards.impact(scope=CITY_SCOPE, community_code=code, as_of=st.as_of, area=everything)
    assert (hit["buildings"], hit["residents"]) == (bld.height, int(bld["residents"].sum()))
    ev = twin.evacuation(
        scope=CITY_SCOPE, community_code=code, as_of=st.as_of, hazard=twin.Hazard(flood=everything)
    )
    assert ev.no_open_shelter and ev.stranded == bld.height


def test_hazards_are_saved_through_the_door(writable_pool: str) -> None:
    code = int(twin.communities(scope=CITY_SCOPE)["code"][0])
    actor = audit.Actor(1, "admin", "admin")
    before = audit.verify().entries
    hid = twin_hazards.save_hazard(
        actor=actor, scope=CITY_SCOPE, community_code=code, name="南湖片区内涝", kind="flood", points=SQUARE
    )
    drawn = twin_hazards.hazards(scope=CITY_SCOPE, community_code=code)
    assert [(d.id, d.name, d.kind, d.area) for d in drawn] == [(hid, "南湖片区内涝", "flood", SQUARE)]
    log = audit.show(limit=1, offset=0).row(0, named=True)
    assert (log["action"], log["object_id"], audit.verify().entries) == (
        "twin.hazard.save",
        str(hid),
        before + 1,
    )
    got = twin_hazards.resolve(scope=CITY_SCOPE, community_code=code, value=f"h{hid}")
    assert got.hazard == twin.Hazard(flood=SQUARE) and got.kind == "flood" and "南湖片区内涝" in got.label[0]
    # an unknown or foreign id is no hazard; presets still resolve
    assert (
        twin_hazards.resolve(scope=CITY_SCOPE, community_code=code, value="h999999").hazard == twin.Hazard()
    )
    assert twin_hazards.resolve(scope=CITY_SCOPE, community_code=code, value="flood").hazard.flood
    outsider = Scope(532503102, None, 2)
    assert twin_hazards.hazards(scope=outsider, community_code=code) == []
    # refused, nothing written
    bow = ((0.0, 0.0), (100.0, 100.0), (100.0, 0.0), (0.0, 100.0))
    for kwargs, message in (
        (dict(name="南湖片区内涝", kind="flood", points=SQUARE, scope=CITY_SCOPE), "already has a hazard"),
        (dict(name="b", kind="meteor", points=SQUARE, scope=CITY_SCOPE), "Unknown hazard kind"),
        (dict(name="c", kind="fire", points=bow, scope=CITY_SCOPE), "cross each other"),
        (dict(name="d", kind="fire", points=SQUARE, scope=outsider), "outside your scope"),
        (dict(name=" ", kind="fire", points=SQUARE, scope=CITY_SCOPE), "needs a name"),
        (dict(name="x" * 97, kind="fire", points=SQUARE, scope=CITY_SCOPE), "needs a name"),
    ):
        with pytest.raises(twin_hazards.HazardError, match=message):
            twin_hazards.save_hazard(actor=actor, community_code=code, **kwargs)  # type: ignore[arg-type]
    assert len(twin_hazards.hazards(scope=CITY_SCOPE, community_code=code)) == 1
    assert audit.verify().entries == before + 1 and audit.verify().ok
