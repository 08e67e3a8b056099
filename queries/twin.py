"""The 3D community twin: buildings, roads and facilities of the old-city communities, who lives there,
who is outside a facility's walking reach (the "15-minute living circle"), and how people get out to a
shelter when a hazard closes part of the road network.

Distances are walked along the road network: a building's entrance to its road node (`access_m`), then
the shortest path over the edges, then the facility's own access leg. Coverage and evacuation are
computed once per community and hazard and cached, never per camera move.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely
from sqlalchemy import func, insert, select

from queries import audit, meta
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope
from queries.tables import (
    community,
    township,
    twin_building,
    twin_event,
    twin_facility,
    twin_import_building,
    twin_road_edge,
    twin_road_node,
    twin_scenario,
)
from queries.timebase import DAY, to_local

WALK_M_PER_MIN = 60.0  # an elderly walking pace, 1 m/s: the 5/10/15-minute circles are 300/600/900 m
STOREY_M = 3.0

# kind -> (zh, en, walking-reach minutes) after GB 50180-2018's 5/10/15-minute living circles; the fire
# hydrant's reach is its 150 m protection radius (GB 50974), walked.
FACILITY_KINDS: dict[str, tuple[str, str, float]] = {
    "clinic": ("社区卫生服务站", "Clinic", 15.0),
    "school": ("小学", "Primary school", 10.0),
    "kindergarten": ("幼儿园", "Kindergarten", 5.0),
    "elderly_care": ("养老服务站", "Elderly-care station", 5.0),
    "market": ("菜市场", "Market", 10.0),
    "parking": ("停车场", "Parking", 5.0),
    "hydrant": ("消防栓", "Fire hydrant", 2.5),
    "service_counter": ("便民服务站", "Service counter", 10.0),
    "shelter": ("应急避难场所", "Emergency shelter", 15.0),
}

STRUCTURES: dict[str, tuple[str, str]] = {
    "brick_wood": ("砖木", "Brick-timber"),
    "brick_concrete": ("砖混", "Brick-concrete"),
    "frame": ("框架", "RC frame"),
    "steel": ("钢结构", "Steel"),
}
CONDITIONS: dict[int, tuple[str, str]] = {
    1: ("完好", "Good"),
    2: ("基本完好", "Fair"),
    3: ("一般损坏", "Poor"),
    4: ("严重损坏/危房", "Dangerous"),
}

# Renovation need, 0-100: a weighted sum of four inputs, each 0-100, all shown on the building's card.
RENO_WEIGHTS = {"age": 0.35, "condition": 0.35, "structure": 0.15, "elderly": 0.15}
STRUCTURE_NEED = {"brick_wood": 100.0, "brick_concrete": 60.0, "steel": 30.0, "frame": 20.0}


def reno_inputs(
    *, year_built: np.ndarray, condition: np.ndarray, structure: np.ndarray, share_65: np.ndarray, year: int
) -> dict[str, np.ndarray]:
    """The four inputs (0-100) and the score. Age counts from 20 years old and is full at 60."""
    age = np.clip((year - year_built - 20) / 40.0, 0.0, 1.0) * 100.0
    cond = (condition.astype(float) - 1.0) / 3.0 * 100.0
    struct = np.array([STRUCTURE_NEED[s] for s in structure], dtype=float)
    elderly = np.clip(share_65 / 0.4, 0.0, 1.0) * 100.0
    w = RENO_WEIGHTS
    score = w["age"] * age + w["condition"] * cond + w["structure"] * struct + w["elderly"] * elderly
    return {"age": age, "condition": cond, "structure": struct, "elderly": elderly, "score": score}


# --- walking over the road network -------------------------------------------------------------------


@dataclass(frozen=True)
class Net:
    """A community's road network as adjacency lists (node id -> [(neighbour, metres, edge id)])."""

    adj: dict[int, list[tuple[int, float, int]]]

    @classmethod
    def of(cls, edges: pl.DataFrame, closed: frozenset[int] = frozenset()) -> Net:
        adj: dict[int, list[tuple[int, float, int]]] = {}
        for eid, a, b, length in edges.select("id", "a", "b", "length_m").iter_rows():
            adj.setdefault(a, [])
            adj.setdefault(b, [])
            if eid in closed:
                continue
            adj[a].append((b, length, eid))
            adj[b].append((a, length, eid))
        return cls(adj)

    def nearest(
        self, sources: dict[int, tuple[float, int]]
    ) -> tuple[dict[int, float], dict[int, int], dict[int, int]]:
        """Multi-source Dijkstra. `sources`: node -> (starting metres, source id). Returns per reached
        node the metres to its nearest source, that source's id, and the predecessor node on the way."""
        dist: dict[int, float] = {}
        owner: dict[int, int] = {}
        prev: dict[int, int] = {}
        heap = [(d, node, sid, -1) for node, (d, sid) in sources.items()]
        heapq.heapify(heap)
        while heap:
            d, node, sid, before = heapq.heappop(heap)
            if node in dist:
                continue
            dist[node], owner[node], prev[node] = d, sid, before
            for nxt, length, _ in self.adj.get(node, ()):
                if nxt not in dist:
                    heapq.heappush(heap, (d + length, nxt, sid, node))
        return dist, owner, prev


def _starts(facilities: pl.DataFrame) -> dict[int, tuple[float, int]]:
    """Node -> (access metres, facility id) of the closest facility at each node."""
    out: dict[int, tuple[float, int]] = {}
    for fid, node, access in facilities.select("id", "node_id", "access_m").iter_rows():
        if node not in out or access < out[node][0]:
            out[node] = (float(access), int(fid))
    return out


def walk_to(buildings: pl.DataFrame, facilities: pl.DataFrame, net: Net) -> pl.DataFrame:
    """Per building: metres walked to the nearest of `facilities` and which one (null when unreachable)."""
    dist, owner, _ = net.nearest(_starts(facilities))
    nodes = buildings["node_id"].to_list()
    access = buildings["access_m"].to_numpy()
    metres = [dist.get(n) for n in nodes]
    return pl.DataFrame(
        {
            "building_id": buildings["id"],
            "metres": [None if m is None else m + a for m, a in zip(metres, access, strict=True)],
            "facility_id": [owner.get(n) for n in nodes],
        },
        schema={"building_id": pl.Int64, "metres": pl.Float64, "facility_id": pl.Int64},
    )


def inside(xs: np.ndarray, ys: np.ndarray, polygon: Sequence[tuple[float, float]]) -> np.ndarray:
    """Even-odd rule: which points lie inside the polygon (vertices in order, not closed)."""
    res = np.zeros(len(xs), dtype=bool)
    if len(polygon) < 3:
        return res
    pts = list(polygon)
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
        crosses = (y1 > ys) != (y2 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            xcross = (x2 - x1) * (ys - y1) / (y2 - y1) + x1
        res ^= crosses & (xs < xcross)
    return res


# --- reads ---------------------------------------------------------------------------------------------


@cached(domains=())
def communities(*, scope: Scope) -> pl.DataFrame:
    """The twin's communities the scope holds, with their sub-district and building count, by code."""
    b, c, t = twin_building, community, township
    q = (
        select(
            c.c.code,
            c.c.name_zh,
            t.c.name_zh.label("township_zh"),
            t.c.name_en.label("township_en"),
            func.count(b.c.id).label("buildings"),
            func.sum(b.c.residents).label("residents"),
        )
        .select_from(b.join(c, c.c.code == b.c.community_code).join(t, t.c.code == c.c.township_code))
        .group_by(c.c.code, c.c.name_zh, t.c.name_zh, t.c.name_en)
        .order_by(c.c.code)
    )
    if scope.township_code is not None:
        q = q.where(b.c.township_code == scope.township_code)
    comms = eng.read_frame(
        q,
        schema={"code": pl.Int64, "buildings": pl.Int64, "residents": pl.Int64},
    )
    i = twin_import_building
    imported = eng.read_frame(
        select(
            i.c.community_code.label("code"), func.count().label("n"), func.sum(i.c.residents).label("r")
        ).group_by(i.c.community_code),
        schema={"code": pl.Int64, "n": pl.Int64, "r": pl.Int64},
    )
    if imported.height == 0:
        return comms
    # a community with imported buildings counts those (they stand in for its generated ones)
    return (
        comms.join(imported, on="code", how="left")
        .with_columns(
            pl.coalesce("n", "buildings").alias("buildings"), pl.coalesce("r", "residents").alias("residents")
        )
        .drop("n", "r")
    )


BUILDING_SCHEMA = {
    "id": pl.Int64,
    "block_id": pl.Int64,
    "floors": pl.Int64,
    "year_built": pl.Int64,
    "condition": pl.Int64,
    "households": pl.Int64,
    "residents": pl.Int64,
    "residents_65": pl.Int64,
    "node_id": pl.Int64,
}


@cached(domains=())
def buildings(*, scope: Scope, community_code: int, as_of: int) -> pl.DataFrame:
    """Every building of a community the scope holds, with its cases and alarms of the 30 days to
    `as_of` that the scope may count (`open_cases`); empty when the community is not the scope's."""
    b, e = twin_building, twin_event
    q = select(b).where(b.c.community_code == community_code).order_by(b.c.id)
    if scope.township_code is not None:
        q = q.where(b.c.township_code == scope.township_code)
    frame = eng.read_frame(q, schema=BUILDING_SCHEMA)
    if frame.height:
        imported = _imported(community_code=community_code, as_of=as_of, like=frame)
        frame = imported if imported is not None else frame
    ev = eng.read_frame(
        select(e.c.building_id.label("id"), func.count().label("open_cases"))
        .where(
            e.c.community_code == community_code,
            scope.where(e),
            e.c.occurred_at > as_of - 30 * DAY,
            e.c.occurred_at <= as_of,
        )
        .group_by(e.c.building_id),
        schema={"id": pl.Int64, "open_cases": pl.Int64},
    )
    if frame.height and bool((frame["id"] > IMPORT_ID_BASE).all()):
        # imported buildings stand in for the generated ones: each event moves to the imported
        # footprint nearest the generated building it was placed at
        ev = (
            ev.join(event_homes(community_code=community_code), left_on="id", right_on="generated_id")
            .group_by("building_id")
            .agg(pl.col("open_cases").sum())
            .rename({"building_id": "id"})
        )
    out = frame.join(ev, on="id", how="left").with_columns(pl.col("open_cases").fill_null(0))
    return out.with_columns(
        (pl.col("residents_65") / pl.col("residents").clip(lower_bound=1)).alias("share_65"),
        (pl.col("floors") * pl.col("footprint").map_elements(_area, return_dtype=pl.Float64)).alias(
            "floor_area_m2"
        ),
    )


IMPORT_ID_BASE = 10_000_000  # imported buildings' ids on the page: clear of the generator's


def _imported(*, community_code: int, as_of: int, like: pl.DataFrame) -> pl.DataFrame | None:
    """The community's imported buildings shaped like its generated ones (which they stand in for): each
    opens onto its nearest road node, renovation need scored the same way; None when it has none."""
    t = twin_import_building
    imp = eng.read_frame(
        select(t).where(t.c.community_code == community_code).order_by(t.c.id),
        schema={"id": pl.Int64, "floors": pl.Int64, "year_built": pl.Int64, "condition": pl.Int64},
    )
    if imp.height == 0:
        return None
    nodes, _ = roads(community_code=community_code)
    cx, cy = imp["cx"].to_numpy(), imp["cy"].to_numpy()
    if nodes.height:
        d = np.hypot(
            cx[:, None] - nodes["x"].to_numpy()[None, :], cy[:, None] - nodes["y"].to_numpy()[None, :]
        )
        at = d.argmin(axis=1)
        node_id, access = nodes["id"].to_numpy()[at], d[np.arange(len(at)), at]
    else:
        node_id, access = np.full(len(cx), -1), np.zeros(len(cx))
    r = reno_inputs(
        year_built=imp["year_built"].to_numpy(),
        condition=imp["condition"].to_numpy(),
        structure=imp["structure"].to_numpy(),
        share_65=imp["residents_65"].to_numpy() / np.maximum(imp["residents"].to_numpy(), 1),
        year=to_local(as_of).year,
    )
    out = imp.with_columns(
        (pl.col("id") + IMPORT_ID_BASE).alias("id"),
        pl.lit(int(like["township_code"][0])).alias("township_code"),
        pl.lit(0).alias("block_id"),
        pl.Series("node_id", node_id.astype(np.int64)),
        pl.Series("access_m", np.round(access, 2)),
        pl.Series("reno_score", np.round(r["score"], 2)),
        pl.Series("reno_age", np.round(r["age"], 2)),
        pl.Series("reno_condition", np.round(r["condition"], 2)),
        pl.Series("reno_structure", np.round(r["structure"], 2)),
        pl.Series("reno_elderly", np.round(r["elderly"], 2)),
    )
    return out.select([pl.col(c).cast(like.schema[c]) for c in like.columns])


@cached(domains=())
def event_homes(*, community_code: int) -> pl.DataFrame:
    """Where the pool's cases and alarms of a community with imported buildings stand: for every
    generated building (`generated_id`), the imported building (`building_id`, its page id) whose
    footprint is nearest the generated building's position (0 m when inside it) and that distance
    (`moved_m`). Empty when the community has no imported buildings. Cached per pool version, so an
    import (which moves the version) recomputes it once."""
    b, t = twin_building, twin_import_building
    schema = {"generated_id": pl.Int64, "building_id": pl.Int64, "moved_m": pl.Float64}
    gen = eng.read_frame(
        select(b.c.id, b.c.cx, b.c.cy).where(b.c.community_code == community_code).order_by(b.c.id),
        schema={"id": pl.Int64},
    )
    imp = eng.read_frame(
        select(t.c.id, t.c.footprint).where(t.c.community_code == community_code).order_by(t.c.id),
        schema={"id": pl.Int64},
    )
    if gen.height == 0 or imp.height == 0:
        return pl.DataFrame(schema=schema)
    polys = [shapely.Polygon(json.loads(f)) for f in imp["footprint"].to_list()]
    points = shapely.points(gen["cx"].to_numpy(), gen["cy"].to_numpy())
    tree = shapely.STRtree(polys)
    (at_point, at_poly), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return pl.DataFrame(
        {
            "generated_id": gen["id"].to_numpy()[at_point],
            "building_id": imp["id"].to_numpy()[at_poly] + IMPORT_ID_BASE,
            "moved_m": np.round(dist, 2),
        },
        schema=schema,
    ).sort("generated_id")


def _area(ring_json: str) -> float:
    """Shoelace area of a JSON ring, square metres."""
    ring = np.asarray(json.loads(ring_json), dtype=float)
    x, y = ring[:, 0], ring[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


@cached(domains=())
def roads(*, community_code: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(nodes, edges) of a community's road network."""
    n, e = twin_road_node, twin_road_edge
    nodes = eng.read_frame(
        select(n.c.id, n.c.x, n.c.y).where(n.c.community_code == community_code).order_by(n.c.id),
        schema={"id": pl.Int64},
    )
    edges = eng.read_frame(
        select(e.c.id, e.c.a, e.c.b, e.c.length_m, e.c.name_zh, e.c.name_en)
        .where(e.c.community_code == community_code)
        .order_by(e.c.id),
        schema={"id": pl.Int64, "a": pl.Int64, "b": pl.Int64},
    )
    return nodes, edges


@cached(domains=())
def facilities(*, community_code: int) -> pl.DataFrame:
    f = twin_facility
    return eng.read_frame(
        select(f).where(f.c.community_code == community_code).order_by(f.c.id),
        schema={"id": pl.Int64, "node_id": pl.Int64, "capacity": pl.Int64},
    )


# --- coverage: the 15-minute living circle ------------------------------------------------------------


def coverage_of(
    bld: pl.DataFrame, fac: pl.DataFrame, edges: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per building and facility kind: metres walked to the nearest one and whether that is within the
    kind's reach; per kind: facilities, buildings, residents and residents 65+ outside its reach)."""
    net = Net.of(edges)
    per: list[pl.DataFrame] = []
    summary: list[dict[str, object]] = []
    for kind, (_, _, minutes) in FACILITY_KINDS.items():
        mine = fac.filter(pl.col("kind") == kind)
        reach = minutes * WALK_M_PER_MIN
        walk = walk_to(bld, mine, net).with_columns(
            pl.lit(kind).alias("kind"),
            (pl.col("metres").is_not_null() & (pl.col("metres") <= reach)).alias("covered"),
        )
        per.append(walk)
        out = bld.select("id", "residents", "residents_65").join(
            walk.filter(~pl.col("covered")), left_on="id", right_on="building_id", how="semi"
        )
        summary.append(
            {
                "kind": kind,
                "reach_min": minutes,
                "reach_m": reach,
                "facilities": mine.height,
                "buildings": bld.height,
                "buildings_outside": out.height,
                "residents_outside": int(out["residents"].sum()),
                "residents_65_outside": int(out["residents_65"].sum()),
            }
        )
    return pl.concat(per), pl.DataFrame(summary)


@cached(domains=())
def coverage(*, scope: Scope, community_code: int, as_of: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`coverage_of` a community the scope holds (computed once per pool version, then cached)."""
    bld = buildings(scope=scope, community_code=community_code, as_of=as_of)
    _, edges = roads(community_code=community_code)
    return coverage_of(bld, facilities(community_code=community_code), edges)


# --- evacuation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hazard:
    """A flooded area (polygon in the community's metres, may be empty) and roads closed by id."""

    flood: tuple[tuple[float, float], ...] = ()
    closed: tuple[int, ...] = ()

    def cache_key(self) -> str:
        return json.dumps([[list(p) for p in self.flood], sorted(self.closed)])


@dataclass(frozen=True)
class Evacuation:
    routes: pl.DataFrame  # building_id, shelter_id, metres, minutes, path (node ids, building first)
    shelters: pl.DataFrame  # id, name_zh, capacity, open, assigned (residents), over
    closed_edges: tuple[int, ...]
    stranded: int  # buildings with no way out on foot
    stranded_residents: int

    @property
    def no_open_shelter(self) -> bool:
        return not bool(self.shelters["open"].any()) if self.shelters.height else True


def evacuate(
    bld: pl.DataFrame, fac: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame, hazard: Hazard
) -> Evacuation:
    """Every building's walk to its nearest open shelter over the roads the hazard leaves open. A road is
    closed when named or when either end lies in the flood; a shelter in the flood is closed."""
    closed = set(hazard.closed)
    if hazard.flood:
        wet = inside(nodes["x"].to_numpy(), nodes["y"].to_numpy(), hazard.flood)
        wet_ids = set(nodes.filter(pl.Series(wet))["id"].to_list())
        closed |= {e for e, a, b in edges.select("id", "a", "b").iter_rows() if a in wet_ids or b in wet_ids}
    shelters = fac.filter(pl.col("kind") == "shelter")
    open_ = ~pl.Series(inside(shelters["x"].to_numpy(), shelters["y"].to_numpy(), hazard.flood))
    shelters = shelters.with_columns(open_.alias("open"))
    net = Net.of(edges, frozenset(closed))
    dist, owner, prev = net.nearest(_starts(shelters.filter(pl.col("open"))))
    rows: list[tuple[int, int | None, float | None, list[int]]] = []
    for bid, node, access in bld.select("id", "node_id", "access_m").iter_rows():
        if node not in dist:
            rows.append((bid, None, None, []))
            continue
        path, at = [node], node
        while prev.get(at, -1) != -1:
            at = prev[at]
            path.append(at)
        rows.append((bid, owner[node], dist[node] + access, path))
    routes = pl.DataFrame(
        rows,
        schema={
            "building_id": pl.Int64,
            "shelter_id": pl.Int64,
            "metres": pl.Float64,
            "path": pl.List(pl.Int64),
        },
        orient="row",
    ).with_columns((pl.col("metres") / WALK_M_PER_MIN).alias("minutes"))
    load = (
        routes.join(bld.select(pl.col("id").alias("building_id"), "residents"), on="building_id")
        .group_by("shelter_id")
        .agg(pl.col("residents").sum().alias("assigned"))
    )
    shelters = (
        shelters.select("id", "name_zh", "x", "y", "capacity", "open")
        .join(load, left_on="id", right_on="shelter_id", how="left")
        .with_columns(pl.col("assigned").fill_null(0))
        .with_columns((pl.col("assigned") > pl.col("capacity")).alias("over"))
        .sort("id")
    )
    stuck = routes.filter(pl.col("shelter_id").is_null())["building_id"]
    stranded_res = int(bld.filter(pl.col("id").is_in(stuck.implode()))["residents"].sum())
    return Evacuation(routes, shelters, tuple(sorted(closed)), stuck.len(), stranded_res)


@cached(domains=())
def evacuation(*, scope: Scope, community_code: int, as_of: int, hazard: Hazard) -> Evacuation:
    """`evacuate` a community the scope holds under a hazard (cached per community, hazard, pool version)."""
    bld = buildings(scope=scope, community_code=community_code, as_of=as_of)
    nodes, edges = roads(community_code=community_code)
    return evacuate(bld, facilities(community_code=community_code), nodes, edges, hazard)


HAZARDS: dict[str, tuple[str, str]] = {
    "none": ("无灾害", "No hazard"),
    "flood": ("西南低洼片区内涝", "South-west low ground flooded"),
    "road": ("中部干道封闭", "Central road closed"),
}


@cached(domains=())
def preset_hazard(*, community_code: int, name: str) -> Hazard:
    """A named hazard laid on a community: its south-west third under water, or its middle east-west road
    closed along its whole length. Unknown names are no hazard."""
    nodes, edges = roads(community_code=community_code)
    if nodes.height == 0 or name not in HAZARDS or name == "none":
        return Hazard()
    x1, y1 = float(nodes["x"].to_numpy().max()), float(nodes["y"].to_numpy().max())
    if name == "flood":
        return Hazard(flood=((-20.0, -20.0), (x1 * 0.45, -20.0), (x1 * 0.3, y1 * 0.45), (-20.0, y1 * 0.4)))
    ys = nodes["y"].unique().sort()
    mid = float(ys[len(ys) // 2])
    on_row = set(nodes.filter(pl.col("y") == mid)["id"].to_list())
    closed = edges.filter(pl.col("a").is_in(list(on_row)) & pl.col("b").is_in(list(on_row)))["id"]
    return Hazard(closed=tuple(int(i) for i in closed))


@cached(domains=())
def alert_buildings(*, scope: Scope, as_of: int, days: int) -> int:
    """Dangerous buildings (condition 4) with an alarm the scope may see in the `days` to `as_of`; in a
    community with imported buildings, the imported footprint the alarm moved to (event_homes) and its
    condition count instead of the generated building's."""
    b, e, t = twin_building, twin_event, twin_import_building
    alarms = eng.read_frame(
        select(e.c.building_id, e.c.community_code, b.c.condition)
        .distinct()
        .select_from(e.join(b, e.c.building_id == b.c.id))
        .where(
            e.c.kind == "alarm",
            scope.where(e),
            e.c.occurred_at > as_of - days * DAY,
            e.c.occurred_at <= as_of,
        ),
        schema={"building_id": pl.Int64, "community_code": pl.Int64, "condition": pl.Int64},
    )
    with eng.connect() as conn:
        codes = {int(c) for c in conn.execute(select(t.c.community_code).distinct()).scalars()}
    hit = set(alarms.filter(~pl.col("community_code").is_in(codes), pl.col("condition") == 4)["building_id"])
    for code in sorted(codes & set(alarms["community_code"].to_list())):
        dangerous = eng.read_frame(
            select((t.c.id + IMPORT_ID_BASE).label("building_id")).where(
                t.c.community_code == code, t.c.condition == 4
            ),
            schema={"building_id": pl.Int64},
        )
        moved = alarms.filter(pl.col("community_code") == code).join(
            event_homes(community_code=code), left_on="building_id", right_on="generated_id"
        )
        hit |= set(
            moved.filter(pl.col("building_id_right").is_in(dangerous["building_id"].to_list()))[
                "building_id_right"
            ]
        )
    return len(hit)


# --- renovation scenarios: before and after, saved through the write door ------------------------------


class ScenarioError(ValueError):
    """A scenario that cannot be applied or saved, with a message in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Scenario:
    """Buildings to renovate (condition back to good), demolish or raise by a storey, and facilities
    to add as (kind, x, y) in the community's metres (each opens onto the nearest road node)."""

    renovate: tuple[int, ...] = ()
    demolish: tuple[int, ...] = ()
    add_storey: tuple[int, ...] = ()
    facilities: tuple[tuple[str, float, float], ...] = ()

    def cache_key(self) -> str:
        return self.to_json()

    def to_json(self) -> str:
        return json.dumps(
            {
                "renovate": sorted(self.renovate),
                "demolish": sorted(self.demolish),
                "add_storey": sorted(self.add_storey),
                "facilities": [list(f) for f in self.facilities],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        d = json.loads(text)
        return cls(
            tuple(int(i) for i in d.get("renovate", ())),
            tuple(int(i) for i in d.get("demolish", ())),
            tuple(int(i) for i in d.get("add_storey", ())),
            tuple((str(k), float(x), float(y)) for k, x, y in d.get("facilities", ())),
        )


NEW_CAPACITY = {"shelter": 800, "elderly_care": 40, "clinic": 80, "kindergarten": 150, "school": 900}


def apply(
    bld: pl.DataFrame, fac: pl.DataFrame, nodes: pl.DataFrame, sc: Scenario, *, year: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The community after the scenario. Unknown buildings or facility kinds are refused, naming them."""
    known = set(bld["id"].to_list())
    unknown = sorted({*sc.renovate, *sc.demolish, *sc.add_storey} - known)
    if unknown:
        shown = ", ".join(map(str, unknown[:10]))
        raise ScenarioError(f"本社区没有这些楼栋: {shown}", f"No such building in this community: {shown}")
    bad = sorted({k for k, _, _ in sc.facilities} - set(FACILITY_KINDS))
    if bad:
        raise ScenarioError(f"未知设施类型: {', '.join(bad)}", f"Unknown facility kind: {', '.join(bad)}")
    if nodes.height == 0 and sc.facilities:
        raise ScenarioError(
            "本社区没有道路, 无法新增设施", "This community has no roads to put a facility on"
        )
    after = bld.filter(~pl.col("id").is_in(list(sc.demolish)))
    up = pl.col("id").is_in(list(sc.add_storey))
    per_floor = pl.col("households") / pl.col("floors")
    after = after.with_columns(
        pl.when(up).then(pl.col("floors") + 1).otherwise(pl.col("floors")).alias("floors"),
        pl.when(up).then(pl.col("height_m") + STOREY_M).otherwise(pl.col("height_m")).alias("height_m"),
        pl.when(up)
        .then((pl.col("households") + per_floor).round().cast(pl.Int64))
        .otherwise(pl.col("households"))
        .alias("households"),
        pl.when(up)
        .then((pl.col("residents") * (pl.col("floors") + 1) / pl.col("floors")).round().cast(pl.Int64))
        .otherwise(pl.col("residents"))
        .alias("residents"),
        pl.when(pl.col("id").is_in(list(sc.renovate)))
        .then(1)
        .otherwise(pl.col("condition"))
        .alias("condition"),
    )
    after = after.with_columns(
        pl.when(up)
        .then((pl.col("residents") * pl.col("share_65")).round().cast(pl.Int64))
        .otherwise(pl.col("residents_65"))
        .alias("residents_65"),
        (pl.col("floors") * pl.col("footprint").map_elements(_area, return_dtype=pl.Float64)).alias(
            "floor_area_m2"
        ),
    )
    if after.height:
        r = reno_inputs(
            year_built=after["year_built"].to_numpy(),
            condition=after["condition"].to_numpy(),
            structure=after["structure"].to_numpy(),
            share_65=after["share_65"].to_numpy(),
            year=year,
        )
        after = after.with_columns(
            pl.Series("reno_condition", r["condition"]), pl.Series("reno_score", np.round(r["score"], 2))
        )
    added = []
    nx, ny, nid = nodes["x"].to_numpy(), nodes["y"].to_numpy(), nodes["id"].to_numpy()
    for k, (kind, x, y) in enumerate(sc.facilities):
        d = np.hypot(nx - x, ny - y)
        at = int(np.argmin(d))
        added.append(
            dict(
                id=-(k + 1),
                community_code=fac["community_code"][0] if fac.height else 0,
                kind=kind,
                name_zh=f"新增{FACILITY_KINDS[kind][0]}{k + 1}",
                x=x,
                y=y,
                node_id=int(nid[at]),
                access_m=float(d[at]),
                capacity=NEW_CAPACITY.get(kind, 50),
            )
        )
    fac_after = pl.concat([fac, pl.DataFrame(added, schema=fac.schema)]) if added else fac
    return after, fac_after


def compare(
    bld: pl.DataFrame, fac: pl.DataFrame, nodes: pl.DataFrame, edges: pl.DataFrame, sc: Scenario, *, year: int
) -> pl.DataFrame:
    """Before and after, side by side: one row a measure (metric, before, after, change)."""
    after, fac_after = apply(bld, fac, nodes, sc, year=year)
    touched = {*sc.renovate, *sc.demolish, *sc.add_storey}

    def measures(b: pl.DataFrame, f: pl.DataFrame, affected: int) -> dict[str, float]:
        _, cov = coverage_of(b, f, edges)
        ev = evacuate(b, f, nodes, edges, Hazard())
        mins = ev.routes["minutes"].drop_nulls().to_numpy()
        out = {
            "floor_area_m2": float(b["floor_area_m2"].sum()),
            "residents": float(b["residents"].sum()),
            "residents_affected": float(affected),
            "reno_need_total": float(b["reno_score"].sum()),
            "buildings_need_60": float((b["reno_score"] >= 60).sum()),
            "evac_minutes_median": float(np.median(mins)) if len(mins) else float("nan"),
            "evac_minutes_max": float(mins.max()) if len(mins) else float("nan"),
            "evac_stranded_residents": float(ev.stranded_residents),
        }
        for kind, outside in cov.select("kind", "residents_outside").iter_rows():
            out[f"outside:{kind}"] = float(outside)
        return out

    affected = int(bld.filter(pl.col("id").is_in(list(touched)))["residents"].sum())
    before_m, after_m = measures(bld, fac, 0), measures(after, fac_after, affected)
    return pl.DataFrame(
        {
            "metric": list(before_m),
            "before": list(before_m.values()),
            "after": [after_m[k] for k in before_m],
        }
    ).with_columns((pl.col("after") - pl.col("before")).alias("change"))


def save_scenario(
    *, actor: audit.Actor, scope: Scope, community_code: int, name: str, scenario: Scenario, as_of: int
) -> int:
    """Save a named scenario through the write door (its log entry in the same transaction); refused,
    with nothing written, for a blank or taken name, a community outside the scope, or unknown buildings."""
    name = name.strip()
    if not name or len(name) > 96:
        raise ScenarioError("方案名称不能为空且不超过96字", "A scenario needs a name of 1-96 characters")
    bld = buildings(scope=scope, community_code=community_code, as_of=as_of)
    if bld.height == 0:
        raise ScenarioError("该社区不在您的范围内", "That community is outside your scope")
    nodes, _ = roads(community_code=community_code)
    apply(
        bld, facilities(community_code=community_code), nodes, scenario, year=2000
    )  # validates, writes nothing
    s = twin_scenario
    with audit.write(actor) as tx:
        taken = tx.conn.execute(
            select(s.c.id).where(s.c.community_code == community_code, s.c.name == name)
        ).first()
        if taken is not None:
            raise ScenarioError(
                f"本社区已有名为 {name!r} 的方案", f"This community already has a scenario named {name!r}"
            )
        new_id = tx.conn.execute(
            insert(s)
            .values(
                community_code=community_code,
                name=name,
                spec=scenario.to_json(),
                created_by=actor.username[:96],
                created_at=int(time.time()),
            )
            .returning(s.c.id)
        ).scalar_one()
        meta.move_now(tx.conn, domain="staff")
        tx.log(
            "twin.scenario.save",
            "twin_scenario",
            new_id,
            after={"community_code": community_code, "name": name, "spec": scenario.to_json()},
            detail={
                "community": community_code,
                "buildings": len({*scenario.renovate, *scenario.demolish, *scenario.add_storey}),
                "facilities": len(scenario.facilities),
            },
        )
    return int(new_id)


def scenarios(*, scope: Scope, community_code: int) -> pl.DataFrame:
    """Saved scenarios of a community the scope holds, newest first (staff data: not cached itself; a save
    moves the "staff" and data versions)."""
    s, b = twin_scenario, twin_building
    held = select(b.c.id).where(b.c.community_code == community_code)
    if scope.township_code is not None:
        held = held.where(b.c.township_code == scope.township_code)
    q = (
        select(s.c.id, s.c.name, s.c.spec, s.c.created_by, s.c.created_at)
        .where(s.c.community_code == community_code, held.exists())
        .order_by(s.c.created_at.desc(), s.c.id.desc())
    )
    return eng.read_frame(q, schema={"id": pl.Int64, "created_at": pl.Int64})
