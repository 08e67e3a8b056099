"""Generator part: the old-city communities of the central sub-districts as a 3D twin.

Each community is a grid of street blocks of uneven size separated by streets; a block is cut into lots
(columns x rows of random widths) and each lot holds one building set back from the lot's edges, so no
two footprints can overlap. Streets form the road network (a node at every crossing and every ~50 m);
each building opens onto the nearest node of its own block's edge. Older, lower, poorer buildings sit
nearer the old core, where more old people live.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, insert

from queries.generate import reference as ref
from queries.generate.parts import BuildContext, Part
from queries.tables import (
    twin_building,
    twin_event,
    twin_facility,
    twin_frame,
    twin_road_edge,
    twin_road_node,
)
from queries.twin import FACILITY_KINDS, STOREY_M, reno_inputs

SUBDISTRICT_KIND = "subdistrict"
STREET_M = 14.0  # street width between blocks
SETBACK_M = 3.0  # a building stands this far inside its lot on every side
NODE_SPACING_M = 50.0
# communities taken per scale (in code order among the central sub-districts) and blocks per side
SCALES: dict[str, tuple[int, int, int]] = {"test": (2, 4, 3), "demo": (8, 5, 4), "full": (29, 7, 6)}
CASE_MODULES = {"community": "case", "energy": "alarm"}
EVENT_DAYS = 90
STREET_NAMES = [
    "文澜",
    "天马",
    "银河",
    "朝阳",
    "红竹",
    "鸡街",
    "桂林",
    "凤凰",
    "东风",
    "人民",
    "建设",
    "团结",
    "胜利",
    "学府",
    "青年",
    "南湖",
    "北门",
    "西城",
    "东城",
    "米轨",
]
STREET_EN = [
    "Wenlan",
    "Tianma",
    "Yinhe",
    "Chaoyang",
    "Hongzhu",
    "Jijie",
    "Guilin",
    "Fenghuang",
    "Dongfeng",
    "Renmin",
    "Jianshe",
    "Tuanjie",
    "Shengli",
    "Xuefu",
    "Qingnian",
    "Nanhu",
    "Beimen",
    "Xicheng",
    "Dongcheng",
    "Migui",
]
# facilities per community: kind -> (how many, capacity low, capacity high)
FACILITY_PLAN: dict[str, tuple[int, int, int]] = {
    "clinic": (1, 40, 120),
    "school": (1, 600, 1500),
    "kindergarten": (2, 90, 240),
    "elderly_care": (1, 20, 60),
    "market": (1, 200, 600),
    "parking": (2, 40, 160),
    "hydrant": (0, 1, 1),  # one per two blocks, set below
    "service_counter": (1, 6, 20),
    "shelter": (2, 400, 1400),
}


def community_codes(scale: str) -> list[tuple[int, int]]:
    """(community code, township code) of the twin's communities at this scale."""
    central = {t.code for t in ref.townships() if t.kind == SUBDISTRICT_KIND}
    comms = sorted(
        (v.code, v.township_code)
        for v in ref.villages()
        if v.kind == "community" and v.township_code in central
    )
    return comms[: SCALES[scale][0]]


@dataclass
class Layout:
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    buildings: list[dict[str, Any]]
    facilities: list[dict[str, Any]]


def _cuts(rng: np.random.Generator, total: float, n: int) -> np.ndarray:
    """n+1 increasing positions from 0 to total, pieces of uneven width."""
    w = rng.uniform(0.6, 1.4, n)
    return np.concatenate([[0.0], np.cumsum(w / w.sum() * total)])


def layout(
    rng: np.random.Generator, code: int, town: int, nbx: int, nby: int, ids: dict[str, int], year: int
) -> Layout:
    bw = rng.uniform(70, 130, nbx)
    bh = rng.uniform(60, 110, nby)
    # street centre lines: x0 = 0, then each block plus a street
    xs = np.concatenate([[0.0], np.cumsum(bw + STREET_M)])
    ys = np.concatenate([[0.0], np.cumsum(bh + STREET_M)])
    nodes: list[dict[str, Any]] = []
    node_at: dict[tuple[float, float], int] = {}
    where: dict[int, tuple[float, float]] = {}

    def node(x: float, y: float) -> int:
        key = (round(x, 1), round(y, 1))
        if key not in node_at:
            ids["node"] += 1
            node_at[key] = ids["node"]
            where[ids["node"]] = key
            nodes.append(dict(id=ids["node"], community_code=code, x=key[0], y=key[1]))
        return node_at[key]

    edges: list[dict[str, Any]] = []

    def street(points: list[tuple[float, float]], name: int, ew: bool) -> None:
        zh = STREET_NAMES[name % len(STREET_NAMES)] + ("路" if ew else "街")
        en = STREET_EN[name % len(STREET_EN)] + (" Road" if ew else " Street")
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            steps = max(1, int(np.ceil(np.hypot(x2 - x1, y2 - y1) / NODE_SPACING_M)))
            prev = node(x1, y1)
            for k in range(1, steps + 1):
                nx, ny = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
                cur = node(nx, ny)
                ids["edge"] += 1
                px, py = where[prev]
                length = float(np.hypot(nx - px, ny - py))
                edges.append(
                    dict(
                        id=ids["edge"],
                        community_code=code,
                        a=prev,
                        b=cur,
                        length_m=length,
                        name_zh=zh,
                        name_en=en,
                    )
                )
                prev = cur

    for j, y in enumerate(ys):
        street([(float(x), float(y)) for x in xs], j, True)
    for i, x in enumerate(xs):
        street([(float(x), float(y)) for y in ys], len(ys) + i, False)

    node_xy = np.array([[n["x"], n["y"]] for n in nodes], dtype=float)
    node_ids = np.array([n["id"] for n in nodes], dtype=np.int64)
    cx_mid, cy_mid = xs[-1] / 2, ys[-1] / 2
    half_diag = float(np.hypot(cx_mid, cy_mid))
    buildings: list[dict[str, Any]] = []
    for i in range(nbx):
        for j in range(nby):
            block = i * nby + j + 1
            x0, x1 = xs[i] + STREET_M / 2, xs[i + 1] - STREET_M / 2
            y0, y1 = ys[j] + STREET_M / 2, ys[j + 1] - STREET_M / 2
            ncol, nrow = int(rng.integers(2, 5)), int(rng.integers(1, 4))
            cols = x0 + _cuts(rng, x1 - x0, ncol)
            rows = y0 + _cuts(rng, y1 - y0, nrow)
            # the block's own edge nodes: a building never "opens" across a block onto another street
            on_edge = (
                (node_xy[:, 0] >= xs[i] - 0.5)
                & (node_xy[:, 0] <= xs[i + 1] + 0.5)
                & (node_xy[:, 1] >= ys[j] - 0.5)
                & (node_xy[:, 1] <= ys[j + 1] + 0.5)
            )
            for c in range(ncol):
                for r in range(nrow):
                    if rng.random() < 0.08:
                        continue  # a courtyard or a lane's garden
                    lx0, lx1 = cols[c] + SETBACK_M, cols[c + 1] - SETBACK_M
                    ly0, ly1 = rows[r] + SETBACK_M, rows[r + 1] - SETBACK_M
                    if lx1 - lx0 < 6 or ly1 - ly0 < 6:
                        continue
                    # not every building fills its lot: shrink towards the street side a little
                    sx, sy = rng.uniform(0.75, 1.0), rng.uniform(0.7, 1.0)
                    w, h = (lx1 - lx0) * sx, (ly1 - ly0) * sy
                    bx0 = lx0 if c == 0 else lx1 - w if c == ncol - 1 else lx0 + ((lx1 - lx0) - w) / 2
                    by0 = ly0 if r == 0 else ly1 - h if r == nrow - 1 else ly0 + ((ly1 - ly0) - h) / 2
                    cx, cy = bx0 + w / 2, by0 + h / 2
                    d = np.hypot(node_xy[on_edge, 0] - cx, node_xy[on_edge, 1] - cy)
                    k = int(np.argmin(d))
                    ids["building"] += 1
                    ring = [[bx0, by0], [bx0 + w, by0], [bx0 + w, by0 + h], [bx0, by0 + h]]
                    core = 1.0 - float(np.hypot(cx - cx_mid, cy - cy_mid)) / half_diag  # 1 at the old core
                    buildings.append(
                        dict(
                            id=ids["building"],
                            community_code=code,
                            township_code=town,
                            block_id=block,
                            cx=round(cx, 2),
                            cy=round(cy, 2),
                            footprint=json.dumps([[round(a, 2), round(b, 2)] for a, b in ring]),
                            node_id=int(node_ids[on_edge][k]),
                            access_m=round(float(d[k]), 2),
                            _area=w * h,
                            _core=core,
                        )
                    )
    _attributes(rng, buildings, year)
    facilities = _facilities(rng, code, nodes, node_xy, node_ids, nbx * nby, ids, buildings)
    return Layout(nodes, edges, buildings, facilities)


def _attributes(rng: np.random.Generator, buildings: list[dict[str, Any]], year: int) -> None:
    n = len(buildings)
    if n == 0:
        return
    core = np.array([b.pop("_core") for b in buildings], dtype=float)
    area = np.array([b.pop("_area") for b in buildings], dtype=float)
    age = np.clip(rng.normal(25 + 30 * core, 12), 1, 75)
    year_built = (year - age).astype(int)
    structure = np.where(
        year_built < 1980,
        rng.choice(["brick_wood", "brick_concrete"], n, p=[0.6, 0.4]),
        np.where(
            year_built < 2000,
            rng.choice(["brick_concrete", "frame"], n, p=[0.75, 0.25]),
            rng.choice(["frame", "brick_concrete", "steel"], n, p=[0.8, 0.12, 0.08]),
        ),
    )
    floors = np.where(
        structure == "brick_wood",
        rng.integers(1, 4, n),
        np.where(structure == "brick_concrete", rng.integers(2, 8, n), rng.integers(5, 19, n)),
    )
    floors = np.where((structure == "steel") & (rng.random(n) < 0.6), rng.integers(1, 3, n), floors)
    condition = np.clip(np.round(1 + age / 25 + rng.normal(0, 0.6, n)), 1, 4).astype(int)
    height = floors * STOREY_M + rng.uniform(0.2, 1.2, n)  # a roof or parapet above the top storey
    flats = np.maximum(1, np.round(area * floors / 85.0 * rng.uniform(0.55, 0.95, n))).astype(int)
    households = np.where(structure == "steel", 0, flats)  # steel sheds hold shops and stores, no homes
    residents = np.round(households * rng.uniform(2.0, 3.2, n)).astype(int)
    share = np.clip(rng.beta(2, 6, n) + 0.2 * core + (age > 40) * 0.08, 0, 0.9)
    r65 = np.round(residents * share).astype(int)
    reno = reno_inputs(
        year_built=year_built,
        condition=condition,
        structure=structure,
        share_65=np.where(residents > 0, r65 / np.maximum(residents, 1), 0.0),
        year=year,
    )
    for k, b in enumerate(buildings):
        b.update(
            floors=int(floors[k]),
            height_m=round(float(height[k]), 2),
            year_built=int(year_built[k]),
            structure=str(structure[k]),
            condition=int(condition[k]),
            households=int(households[k]),
            residents=int(residents[k]),
            residents_65=int(r65[k]),
            reno_score=round(float(reno["score"][k]), 2),
            reno_age=round(float(reno["age"][k]), 2),
            reno_condition=round(float(reno["condition"][k]), 2),
            reno_structure=round(float(reno["structure"][k]), 2),
            reno_elderly=round(float(reno["elderly"][k]), 2),
        )


def _facilities(
    rng: np.random.Generator,
    code: int,
    nodes: list[dict[str, Any]],
    node_xy: np.ndarray,
    node_ids: np.ndarray,
    blocks: int,
    ids: dict[str, int],
    buildings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    residents = sum(int(b["residents"]) for b in buildings)
    for kind, (count, lo, hi) in FACILITY_PLAN.items():
        if kind == "hydrant":
            count = max(1, blocks // 2)
        for k in range(count):
            at = int(rng.integers(0, len(nodes)))
            dx, dy = rng.uniform(-6, 6, 2)
            ids["facility"] += 1
            cap = int(rng.integers(lo, hi + 1))
            if kind == "shelter":  # shelters hold about a third of the community between them, not all
                cap = max(50, int(residents * rng.uniform(0.12, 0.22)))
            out.append(
                dict(
                    id=ids["facility"],
                    community_code=code,
                    kind=kind,
                    name_zh=f"{FACILITY_KINDS[kind][0]}{k + 1}",
                    x=round(float(node_xy[at, 0] + dx), 2),
                    y=round(float(node_xy[at, 1] + dy), 2),
                    node_id=int(node_ids[at]),
                    access_m=round(float(np.hypot(dx, dy)), 2),
                    capacity=cap,
                )
            )
    return out


def _events(ctx: BuildContext, layouts: dict[int, Layout]) -> list[dict[str, Any]]:
    """The pool's cases and alarms of the last EVENT_DAYS days in the twin's communities, each put at one
    of its community's buildings (people-weighted: more residents, more cases)."""
    by_code = ref.module_by_code()
    kind_of = {by_code[m].id: k for m, k in CASE_MODULES.items()}
    recs = ctx.records.filter(
        pl.col("community_code").is_in(list(layouts)),
        pl.col("module_id").is_in(list(kind_of)),
        pl.col("occurred_at") > ctx.end_ts - EVENT_DAYS * 86400,
    )
    out: list[dict[str, Any]] = []
    for code, lay in layouts.items():
        part = recs.filter(pl.col("community_code") == code)
        if part.height == 0 or not lay.buildings:
            continue
        weight = np.array([int(b["residents"]) + 1 for b in lay.buildings], dtype=float)
        pick = ctx.rng.choice(len(lay.buildings), size=part.height, p=weight / weight.sum())
        for row, k in zip(part.iter_rows(named=True), pick, strict=True):
            out.append(
                dict(
                    record_id=int(row["id"]),
                    building_id=int(lay.buildings[k]["id"]),
                    community_code=code,
                    township_code=int(row["township_code"]),
                    dept_id=int(row["dept_id"]),
                    classification=int(row["classification"]),
                    kind=kind_of[int(row["module_id"])],
                    occurred_at=int(row["occurred_at"]),
                )
            )
    return out


# Mengzi's old town (WGS-84): the communities' planes are laid side by side around it, FRAME_GAP_M apart,
# FRAMES_PER_ROW to a row, so a real footprint falls into at most one of them (twin_frame).
OLD_TOWN = (103.3865, 23.3620)
FRAME_GAP_M, FRAMES_PER_ROW = 60.0, 6
M_PER_DEG_LAT = 110_574.0


def m_per_deg_lon(lat: float) -> float:
    return 111_320.0 * float(np.cos(np.radians(lat)))


def frames(layouts: dict[int, Layout]) -> list[dict[str, Any]]:
    """Each community's local origin in WGS-84 and its plane's extent, laid out in rows from OLD_TOWN."""
    out: list[dict[str, Any]] = []
    ox = oy = row_h = 0.0
    for n, (code, lay) in enumerate(layouts.items()):
        if n and n % FRAMES_PER_ROW == 0:
            ox, oy, row_h = 0.0, oy + row_h + FRAME_GAP_M, 0.0
        w = max(float(nd["x"]) for nd in lay.nodes)
        h = max(float(nd["y"]) for nd in lay.nodes)
        lat0 = OLD_TOWN[1] + oy / M_PER_DEG_LAT
        out.append(
            dict(
                community_code=code,
                lon0=round(OLD_TOWN[0] + ox / m_per_deg_lon(lat0), 7),
                lat0=round(lat0, 7),
                width_m=w,
                height_m=h,
            )
        )
        ox += w + FRAME_GAP_M
        row_h = max(row_h, h)
    return out


def build(conn: Connection, ctx: BuildContext) -> None:
    _, nbx, nby = SCALES[ctx.scale]
    year = dt.datetime.fromtimestamp(ctx.end_ts, dt.UTC).year
    ids = {"node": 0, "edge": 0, "building": 0, "facility": 0}
    layouts: dict[int, Layout] = {}
    for code, town in community_codes(ctx.scale):
        # blocks per side vary a little: communities are not all one size
        layouts[code] = layout(
            ctx.rng,
            code,
            town,
            nbx + int(ctx.rng.integers(-1, 2)),
            nby + int(ctx.rng.integers(-1, 2)),
            ids,
            year,
        )
    for table, key in (
        (twin_road_node, "nodes"),
        (twin_road_edge, "edges"),
        (twin_building, "buildings"),
        (twin_facility, "facilities"),
    ):
        rows = [r for lay in layouts.values() for r in getattr(lay, key)]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(table), rows[start : start + 5000])
    conn.execute(insert(twin_frame), frames(layouts))
    events = _events(ctx, layouts)
    for start in range(0, len(events), 5000):
        conn.execute(insert(twin_event), events[start : start + 5000])
    ctx.meta["twin_buildings"] = str(ids["building"])


PART = Part(
    name="twin",
    tables=(twin_building, twin_road_node, twin_road_edge, twin_facility, twin_event, twin_frame),
    build=build,
)
