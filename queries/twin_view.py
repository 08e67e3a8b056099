"""What the twin page draws and shows, ready to send: the extruded mesh of a community's buildings, its road
and facility marks, each building's colour values, the overlays' per-building values and lines, and the
panels' numbers. Everything is keyword-only and cached per community, scope and pool version, so a colour
change or a camera move rebuilds nothing, and the page holds no polars logic (house rule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import shapely
from shapely.geometry import Polygon

from queries import twin
from queries.cache import cached
from queries.scope import CITY_SCOPE, Scope
from queries.timebase import to_local

# the building attributes a colour can show; the frame columns `mesh` carries their values from
COLOUR_COLUMNS = ("reno_score", "age", "condition", "residents", "share_65_pct", "open_cases")


@dataclass(frozen=True)
class Marks:
    """One facility kind's points: where, what they are called, how many they take."""

    x: np.ndarray
    y: np.ndarray
    names: list[str]
    capacity: list[int]


@dataclass(frozen=True)
class Mesh:
    """A community's buildings as one triangle mesh plus the marks drawn with it (numpy, no Dash)."""

    ids: np.ndarray  # building id per building row
    x: np.ndarray  # vertices, metres
    y: np.ndarray
    z: np.ndarray
    i: np.ndarray  # triangles (vertex indexes)
    j: np.ndarray
    k: np.ndarray
    owner: np.ndarray  # building row of each triangle
    vert_owner: np.ndarray  # building row of each vertex
    floors: np.ndarray
    height: np.ndarray
    values: dict[str, np.ndarray]  # COLOUR_COLUMNS -> value per building row
    road_x: list[float | None]  # road segments, None between them
    road_y: list[float | None]
    outline_x: list[float | None]  # footprints seen from above, closed rings, None between them
    outline_y: list[float | None]
    facilities: dict[str, Marks] = field(default_factory=dict)

    @property
    def span(self) -> tuple[float, float, float]:
        """(east-west metres, north-south metres, tallest roof metres); 1 when empty."""
        if not len(self.x):
            return 1.0, 1.0, 1.0
        return (
            float(self.x.max() - self.x.min()),
            float(self.y.max() - self.y.min()),
            float(self.z.max()),
        )


def prism(footprints: list[str], heights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Vertices (x, y, z), triangles (i, j, k), the building row of every triangle and of every vertex: a
    roof fan and two triangles per wall for every footprint extruded to its height."""
    xs: list[float] = []
    ys: list[float] = []
    zs: list[float] = []
    tri: list[tuple[int, int, int]] = []
    owner: list[int] = []
    vown: list[int] = []
    for n, (ring_json, h) in enumerate(zip(footprints, heights.tolist(), strict=True)):
        ring = json.loads(ring_json)
        if ring[0] == ring[-1]:
            ring = ring[:-1]
        m, base = len(ring), len(xs)
        vown += [n] * (2 * m)
        for x, y in ring:
            xs += [x, x]
            ys += [y, y]
            zs += [0.0, h]
        for a, b, c in _roof(ring):
            tri.append((base + 2 * a + 1, base + 2 * b + 1, base + 2 * c + 1))
            owner.append(n)
        for k in range(m):
            a, b = base + 2 * k, base + 2 * ((k + 1) % m)
            tri += [(a, b, b + 1), (a, b + 1, a + 1)]
            owner += [n, n]
    t = np.asarray(tri, dtype=np.int32).reshape(-1, 3)
    return (
        np.round(np.asarray(xs, dtype=float), 2),
        np.round(np.asarray(ys, dtype=float), 2),
        np.round(np.asarray(zs, dtype=float), 2),
        t[:, 0].copy(),
        t[:, 1].copy(),
        t[:, 2].copy(),
        np.asarray(owner, dtype=np.int32),
        np.asarray(vown, dtype=np.int32),
    )


def _roof(ring: list[list[float]]) -> list[tuple[int, int, int]]:
    """Triangles of a flat roof over a ring, as corner indexes: a fan for the generator's rectangles, a
    constrained Delaunay cut for an imported footprint, which may be concave (an L, a U)."""
    m = len(ring)
    if m <= 4:
        return [(0, k, k + 1) for k in range(1, m - 1)]
    at = {(round(x, 3), round(y, 3)): k for k, (x, y) in enumerate(ring)}
    out = []
    for t in getattr(shapely.constrained_delaunay_triangles(Polygon(ring)), "geoms", []):
        corners = [at.get((round(x, 3), round(y, 3))) for x, y in list(t.exterior.coords)[:3]]
        if None not in corners:
            a, b, c = corners
            out.append((int(a), int(b), int(c)))  # type: ignore[arg-type]
    return out


@cached
def mesh(*, scope: Scope, community_code: int, as_of: int) -> Mesh:
    """The community's buildings extruded, its roads and facilities (cached: built once per pool version)."""
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    bld = bld.with_columns(
        (pl.lit(to_local(as_of).year) - pl.col("year_built")).alias("age"),
        (pl.col("share_65") * 100).round(1).alias("share_65_pct"),
    )
    x, y, z, i, j, k, owner, vown = prism(bld["footprint"].to_list(), bld["height_m"].to_numpy())
    nodes, edges = twin.roads(community_code=community_code)
    xy = {n: (px, py) for n, px, py in nodes.select("id", "x", "y").iter_rows()}
    rx: list[float | None] = []
    ry: list[float | None] = []
    for a, b in edges.select("a", "b").iter_rows():
        rx += [xy[a][0], xy[b][0], None]
        ry += [xy[a][1], xy[b][1], None]
    ox: list[float | None] = []
    oy: list[float | None] = []
    for ring_json in bld["footprint"].to_list():
        ring = json.loads(ring_json)
        ring = ring if ring[0] == ring[-1] else [*ring, ring[0]]
        ox += [round(p[0], 1) for p in ring] + [None]
        oy += [round(p[1], 1) for p in ring] + [None]
    fac = twin.facilities(community_code=community_code)
    marks = {
        kind: Marks(f["x"].to_numpy(), f["y"].to_numpy(), f["name_zh"].to_list(), f["capacity"].to_list())
        for kind in twin.FACILITY_KINDS
        if (f := fac.filter(pl.col("kind") == kind)).height
    }
    return Mesh(
        ids=bld["id"].to_numpy(),
        x=x,
        y=y,
        z=z,
        i=i,
        j=j,
        k=k,
        owner=owner,
        vert_owner=vown,
        floors=bld["floors"].to_numpy(),
        height=bld["height_m"].to_numpy(),
        values={c: bld[c].to_numpy().astype(float) for c in COLOUR_COLUMNS},
        road_x=rx,
        road_y=ry,
        outline_x=ox,
        outline_y=oy,
        facilities=marks,
    )


@cached
def covered(*, scope: Scope, community_code: int, as_of: int, kind: str) -> np.ndarray:
    """Per building row of `mesh`: within walking reach of the nearest facility of `kind`."""
    per, _ = twin.coverage(scope=scope, community_code=community_code, as_of=as_of)
    ids = mesh(scope=scope, community_code=community_code, as_of=as_of).ids
    flags = dict(per.filter(pl.col("kind") == kind).select("building_id", "covered").iter_rows())
    return np.array([bool(flags.get(int(b), False)) for b in ids], dtype=bool)


@dataclass(frozen=True)
class EvacuationView:
    """An evacuation as the page draws it: minutes per building row (NaN: cannot get out), route lines."""

    minutes: np.ndarray
    route_x: list[float | None]
    route_y: list[float | None]


@cached
def evacuation_view(*, scope: Scope, community_code: int, as_of: int, hazard: twin.Hazard) -> EvacuationView:
    """Walking minutes per building and the routes (building, road nodes, shelter) of an evacuation."""
    ev = twin.evacuation(scope=scope, community_code=community_code, as_of=as_of, hazard=hazard)
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    nodes, _ = twin.roads(community_code=community_code)
    fac = twin.facilities(community_code=community_code)
    mins = dict(ev.routes.select("building_id", "minutes").iter_rows())
    minutes = np.array(
        [np.nan if mins.get(int(b)) is None else float(mins[int(b)]) for b in bld["id"].to_list()],
        dtype=float,
    )
    xy = {i: (x, y) for i, x, y in nodes.select("id", "x", "y").iter_rows()}
    centre = {i: (x, y) for i, x, y in bld.select("id", "cx", "cy").iter_rows()}
    shelter = {i: (x, y) for i, x, y in fac.select("id", "x", "y").iter_rows()}
    xs: list[float | None] = []
    ys: list[float | None] = []
    for bid, sid, path in (
        ev.routes.drop_nulls("shelter_id").select("building_id", "shelter_id", "path").iter_rows()
    ):
        pts = [centre[bid], *(xy[n] for n in path), shelter[sid]]
        xs += [round(p[0], 1) for p in pts] + [None]
        ys += [round(p[1], 1) for p in pts] + [None]
    return EvacuationView(minutes, xs, ys)


def evacuation_minutes(ev: twin.Evacuation) -> tuple[float, float] | None:
    """(median, longest) walking minutes of those who get out, or None when nobody does."""
    mins = ev.routes["minutes"].drop_nulls().to_numpy()
    return (float(np.median(mins)), float(mins.max())) if len(mins) else None


@cached
def community_name(*, community_code: int) -> str:
    """A twin community's Chinese name (its code when unknown)."""
    comms = twin.communities(scope=CITY_SCOPE)
    row = comms.filter(pl.col("code") == community_code)
    return str(row["name_zh"][0]) if row.height else str(community_code)


@cached
def kpi_numbers(*, scope: Scope, community_code: int, as_of: int) -> dict[str, int]:
    """The KPI row: buildings, residents, residents 65+, buildings scoring >= 60, 65+ outside elderly care."""
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    _, cov = twin.coverage(scope=scope, community_code=community_code, as_of=as_of)
    care = cov.filter(pl.col("kind") == "elderly_care")
    return {
        "buildings": bld.height,
        "residents": int(bld["residents"].sum()),
        "residents_65": int(bld["residents_65"].sum()),
        "need_60": int((bld["reno_score"] >= 60).sum()),
        "care_65_outside": int(care["residents_65_outside"][0]) if care.height else 0,
    }


@cached
def building_record(
    *, scope: Scope, community_code: int, as_of: int, building_id: int
) -> dict[str, Any] | None:
    """One building's row (None when not in the community or not the scope's) and its walk to the nearest
    facility of each kind under "walks" as (kind, metres or None, covered)."""
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    row = bld.filter(pl.col("id") == building_id)
    if row.height == 0:
        return None
    per, _ = twin.coverage(scope=scope, community_code=community_code, as_of=as_of)
    mine = per.filter(pl.col("building_id") == building_id)
    walks = [
        (kind, m, bool(ok))
        for kind in twin.FACILITY_KINDS
        for m, ok in mine.filter(pl.col("kind") == kind).select("metres", "covered").iter_rows()
    ]
    return {**row.drop("footprint").row(0, named=True), "walks": walks}


@cached
def building_spot(
    *, scope: Scope, community_code: int, as_of: int, building_id: int
) -> tuple[float, float] | None:
    """Where a building stands (its footprint's centre, metres), None when not the scope's."""
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    row = bld.filter(pl.col("id") == building_id)
    return (float(row["cx"][0]), float(row["cy"][0])) if row.height else None


def scenario_spec(*, scope: Scope, community_code: int, scenario_id: int) -> twin.Scenario | None:
    """A saved scenario of a community the scope holds (user data: never cached), None when unknown."""
    rows = twin.scenarios(scope=scope, community_code=community_code).filter(pl.col("id") == scenario_id)
    return twin.Scenario.from_json(str(rows["spec"][0])) if rows.height else None


@cached
def comparison(*, scope: Scope, community_code: int, as_of: int, scenario: twin.Scenario) -> pl.DataFrame:
    """Before and after a scenario (`twin.compare`), computed once per scenario and pool version."""
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    nodes, edges = twin.roads(community_code=community_code)
    fac = twin.facilities(community_code=community_code)
    return twin.compare(bld, fac, nodes, edges, scenario, year=to_local(as_of).year)


def scenario_names(*, scope: Scope, community_code: int) -> list[tuple[int, str]]:
    """(id, name) of a community's saved scenarios, newest first."""
    s = twin.scenarios(scope=scope, community_code=community_code)
    return [(int(i), str(n)) for i, n in s.select("id", "name").iter_rows()]
