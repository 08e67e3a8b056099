"""Hazard areas drawn by hand on the twin (a flood, a fire, a landslide): checked, saved through the write
door, and turned into the evacuation's hazard (roads with an end in the area closed, shelters in it closed)
and the buildings, residents and residents 65+ it touches.

An area is a ring of points in the community's metres, as clicked on the page's plan or typed. A ring that
crosses itself, has fewer than three distinct corners or no area, or lies outside the community is refused
with the reason; nothing is written then.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.validation import explain_validity
from sqlalchemy import insert, select

from queries import audit, meta, twin
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope
from queries.tables import twin_hazard

KINDS: dict[str, tuple[str, str]] = {
    "flood": ("洪涝淹没", "Flood"),
    "fire": ("火灾", "Fire"),
    "landslide": ("滑坡", "Landslide"),
}
MAX_POINTS = 100
MIN_AREA_M2 = 50.0
MARGIN_M = 200.0  # how far beyond the community's roads a drawn corner may lie
PREFIX = "h"  # the hazard dropdown's value of a drawn hazard: "h" + its id


class HazardError(twin.ScenarioError):
    """A hazard area or name that cannot be saved, with the reason in both languages."""


Ring = tuple[tuple[float, float], ...]


def parse_points(text: object) -> Ring:
    """Corners typed or clicked as "x,y; x,y; ..." (metres); anything else is refused by name."""
    if not isinstance(text, str) or not text.strip():
        return ()
    out: list[tuple[float, float]] = []
    for part in text.replace("；", ";").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        bits = part.replace("，", ",").split(",")
        try:
            x, y = (float(b) for b in bits)
        except ValueError:
            shown = part.strip()[:24]
            raise HazardError(
                f"顶点 {shown!r} 不是 x,y 两个数", f"Corner {shown!r} is not two numbers x,y"
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise HazardError("顶点坐标必须是有限的数", "Corner coordinates must be finite numbers")
        out.append((round(x, 1), round(y, 1)))
        if len(out) > MAX_POINTS:
            raise HazardError(f"顶点超过 {MAX_POINTS} 个", f"More than {MAX_POINTS} corners")
    return tuple(out)


@cached(domains=())
def extent(*, community_code: int) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a community's road network, metres; zeros when it has none."""
    nodes, _ = twin.roads(community_code=community_code)
    if nodes.height == 0:
        return 0.0, 0.0, 0.0, 0.0
    x, y = nodes["x"].to_numpy(), nodes["y"].to_numpy()
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def check_area(points: Ring, *, bounds: tuple[float, float, float, float]) -> Ring:
    """The ring as it will be saved (repeated corners and a closing corner dropped), or HazardError."""
    ring: list[tuple[float, float]] = []
    for p in points:
        if not ring or ring[-1] != p:
            ring.append(p)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    if len(set(ring)) < 3:
        raise HazardError(
            "灾害区域至少需要3个不同的顶点 (在平面图上点击或输入 x,y)",
            "A hazard area needs at least 3 different corners (click them on the plan or type x,y)",
        )
    poly = Polygon(ring)
    if not poly.is_valid:
        why = explain_validity(poly)
        raise HazardError(
            f"灾害区域的边相互交叉, 无法使用 ({why}); 请按顺序绕一圈点击顶点",
            f"The area's edges cross each other ({why}); click the corners in order around it",
        )
    if poly.area < MIN_AREA_M2:
        raise HazardError(
            f"灾害区域太小 ({poly.area:.0f} 平方米, 至少 {MIN_AREA_M2:.0f})",
            f"The area is too small ({poly.area:.0f} m², at least {MIN_AREA_M2:.0f})",
        )
    x0, y0, x1, y1 = bounds
    if not poly.intersects(box(x0, y0, x1, y1)):
        raise HazardError("灾害区域不在本社区范围内", "The area lies outside this community")
    if not box(x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M).contains(poly):
        raise HazardError(
            f"灾害区域超出本社区 {MARGIN_M:.0f} 米以上",
            f"The area reaches more than {MARGIN_M:.0f} m beyond this community",
        )
    return tuple(ring)


def _held(scope: Scope, community_code: int) -> bool:
    return community_code in twin.communities(scope=scope)["code"].to_list()


def save_hazard(
    *, actor: audit.Actor, scope: Scope, community_code: int, name: str, kind: str, points: Ring
) -> int:
    """Save a drawn hazard through the write door (its log entry in the same transaction); refused, with
    nothing written, for a blank or taken name, an unknown kind, a bad area or a community not the scope's."""
    name = name.strip()
    if not name or len(name) > 96:
        raise HazardError("灾害名称不能为空且不超过96字", "A hazard needs a name of 1-96 characters")
    if kind not in KINDS:
        raise HazardError("未知灾害类型", "Unknown hazard kind")
    if not _held(scope, community_code):
        raise HazardError("该社区不在您的范围内", "That community is outside your scope")
    ring = check_area(points, bounds=extent(community_code=community_code))
    h = twin_hazard
    area = json.dumps([list(p) for p in ring])
    with audit.write(actor) as tx:
        taken = tx.conn.execute(
            select(h.c.id).where(h.c.community_code == community_code, h.c.name == name)
        ).first()
        if taken is not None:
            raise HazardError(
                f"本社区已有名为 {name!r} 的灾害区域", f"This community already has a hazard named {name!r}"
            )
        new_id = tx.conn.execute(
            insert(h)
            .values(
                community_code=community_code,
                name=name,
                kind=kind,
                area=area,
                created_by=actor.username[:96],
                created_at=int(time.time()),
            )
            .returning(h.c.id)
        ).scalar_one()
        meta.move_now(tx.conn, domain="staff")  # the twin's kept views key on it
        tx.log(
            "twin.hazard.save",
            "twin_hazard",
            new_id,
            after={"community_code": community_code, "name": name, "kind": kind, "area": area},
            detail={"community": community_code, "kind": kind, "corners": len(ring)},
        )
    return int(new_id)


@dataclass(frozen=True)
class Drawn:
    id: int
    name: str
    kind: str
    area: Ring


def hazards(*, scope: Scope, community_code: int) -> list[Drawn]:
    """A community's drawn hazards, newest first; none when the community is not the scope's (staff data:
    not cached itself; a save moves the "staff" and data versions)."""
    if not _held(scope, community_code):
        return []
    h = twin_hazard
    q = (
        select(h.c.id, h.c.name, h.c.kind, h.c.area)
        .where(h.c.community_code == community_code)
        .order_by(h.c.created_at.desc(), h.c.id.desc())
    )
    with eng.connect() as conn:
        rows = conn.execute(q).all()
    return [
        Drawn(int(i), str(n), str(k), tuple((float(x), float(y)) for x, y in json.loads(a)))
        for i, n, k, a in rows
    ]


@dataclass(frozen=True)
class Resolved:
    """A hazard dropdown's value made concrete: the evacuation's hazard, its kind and its name."""

    hazard: twin.Hazard
    kind: str
    label: tuple[str, str]


def resolve(*, scope: Scope, community_code: int, value: str) -> Resolved:
    """A preset ("flood", "road", "none") or a drawn hazard ("h<id>"); anything unknown is no hazard."""
    if value.startswith(PREFIX) and value[1:].isdigit():
        found = next(
            (d for d in hazards(scope=scope, community_code=community_code) if d.id == int(value[1:])), None
        )
        if found is not None:
            zh, en = KINDS[found.kind]
            return Resolved(
                twin.Hazard(flood=found.area), found.kind, (f"{found.name} ({zh})", f"{found.name} ({en})")
            )
    name = value if value in twin.HAZARDS else "none"
    return Resolved(twin.preset_hazard(community_code=community_code, name=name), "flood", twin.HAZARDS[name])


@cached(domains=())
def impact(*, scope: Scope, community_code: int, as_of: int, area: Ring) -> dict[str, int]:
    """Buildings whose footprint the area touches, their residents and residents 65+."""
    if len(area) < 3:
        return {"buildings": 0, "residents": 0, "residents_65": 0}
    bld = twin.buildings(scope=scope, community_code=community_code, as_of=as_of)
    poly = Polygon(area)
    rings = [Polygon(json.loads(f)) for f in bld["footprint"].to_list()]
    hit = np.asarray(shapely.intersects(np.asarray(rings, dtype=object), poly), dtype=bool)
    return {
        "buildings": int(hit.sum()),
        "residents": int(bld["residents"].to_numpy()[hit].sum()),
        "residents_65": int(bld["residents_65"].to_numpy()[hit].sum()),
    }


def sheet(area: Ring) -> tuple[list[float], list[float], list[int], list[int], list[int]]:
    """The area as triangles (x, y, i, j, k) for a flat mesh: a drawn area may be concave, so it is cut
    by a constrained Delaunay triangulation rather than fanned from one corner."""
    if len(area) < 3:
        return [], [], [], [], []
    tris = shapely.constrained_delaunay_triangles(Polygon(area))
    xs: list[float] = []
    ys: list[float] = []
    index: dict[tuple[float, float], int] = {}
    out: list[list[int]] = []
    for t in getattr(tris, "geoms", []):
        corner = []
        for x, y in list(t.exterior.coords)[:3]:
            key = (round(x, 3), round(y, 3))
            if key not in index:
                index[key] = len(xs)
                xs.append(key[0])
                ys.append(key[1])
            corner.append(index[key])
        out.append(corner)
    return xs, ys, [c[0] for c in out], [c[1] for c in out], [c[2] for c in out]
