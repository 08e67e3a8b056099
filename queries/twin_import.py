"""`import buildings`: real building footprints (an OSM or Microsoft building-footprint extract) into the
3D twin, or nothing changes.

GeoJSON FeatureCollection, or a GeoPackage layer (read with the standard library: a GeoPackage is SQLite
holding WKB). Coordinates are reprojected to WGS-84 the way queries/boundaries.py does it: a CRS declared in
the file or given by the caller; projected coordinates with none declared are refused, never guessed.
Each building is matched to the twin community whose plane (twin_frame) holds its centroid; with
`community` given, every building goes to that community, and a file lying elsewhere (a test extract) is
moved, shapes and spacing kept, so its centre falls on the community's centre (said in the report).

Attributes from OSM-style tags: `height` (metres), `building:levels`, `start_date`, `building:material`,
`building:flats`; a missing height is 3 m a storey, missing storeys are height / 3 m, neither: the stated
default of DEFAULT_FLOORS. Households are estimated from floor area where no tag gives them; every
assumption is reported and kept in the row's `source`.

Geometry: lines and points are refused; an invalid ring (self-intersection) is repaired with make_valid
when the repair keeps an area, otherwise refused; a footprint overlapping one before it in the file loses
the shared part when at least half of it remains, otherwise it is refused. Any problem refuses the whole
file. A good file replaces the imported buildings of the communities it covers, in one transaction
through the write door. Imported buildings are user data: `seed` keeps them (twin_import_building).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Polygon, mapping, shape
from shapely.validation import explain_validity, make_valid
from sqlalchemy import delete, insert, select

from queries import audit
from queries import engine as eng
from queries.boundaries import WGS84, _crs_name, _map_coords
from queries.tables import twin_frame, twin_import_building
from queries.twin import STRUCTURES

STOREY_M = 3.0
DEFAULT_FLOORS = 2
MIN_HEIGHT_M, MAX_HEIGHT_M = 2.0, 600.0  # a shed's eaves to well past Yunnan's tallest tower
MAX_FLOORS = 150
MAX_BUILDINGS = 50_000
M2_PER_FLAT, PEOPLE_PER_HOUSEHOLD, SHARE_65 = 85.0, 2.8, 0.16
DEFAULT_YEAR, DEFAULT_STRUCTURE, DEFAULT_CONDITION = 1990, "brick_concrete", 2
NO_HOMES = {
    "commercial",
    "industrial",
    "retail",
    "warehouse",
    "garage",
    "garages",
    "shed",
    "office",
    "church",
}
MATERIAL = {"brick": "brick_concrete", "wood": "brick_wood", "timber": "brick_wood", "concrete": "frame"}
MATERIAL |= {"reinforced_concrete": "frame", "steel": "steel", "metal": "steel"}
M_PER_DEG_LAT = 110_574.0


def m_per_deg_lon(lat: float) -> float:
    return 111_320.0 * math.cos(math.radians(lat))


Reason = tuple[str, str]


@dataclass
class Checked:
    rows: list[dict[str, Any]] = field(default_factory=list)  # twin_import_building rows, ready
    problems: list[Reason] = field(default_factory=list)  # refused
    repairs: list[Reason] = field(default_factory=list)  # repaired, reported
    assumed: list[Reason] = field(default_factory=list)  # defaults used, reported
    crs: str = "EPSG:4326"

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def communities(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for r in self.rows:
            out[r["community_code"]] = out.get(r["community_code"], 0) + 1
        return out


@dataclass(frozen=True)
class Frame:
    code: int
    lon0: float
    lat0: float
    width: float
    height: float

    def local(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * m_per_deg_lon(self.lat0), (lat - self.lat0) * M_PER_DEG_LAT

    def holds(self, x: float, y: float) -> bool:
        return 0 <= x <= self.width and 0 <= y <= self.height


def _number(value: object) -> float | None:
    """A tag's number ("12", "12.5 m", 12); None when absent or not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(m|米)?\s*", value)
        return float(m.group(1)) if m else None
    return None


def _attributes(props: dict[str, Any], label: str, year_now: int, out: Checked) -> dict[str, Any] | None:
    """Floors, height, year, structure, condition from a feature's tags; None (and a problem) when a value
    is impossible."""
    height = _number(props.get("height"))
    levels = _number(props.get("building:levels", props.get("levels", props.get("floors"))))
    if height is not None and not MIN_HEIGHT_M <= height <= MAX_HEIGHT_M:
        out.problems.append(
            (
                f"要素 {label}: 高度 {height:g} 米不可能 (应在 {MIN_HEIGHT_M:g}-{MAX_HEIGHT_M:g} 米)",
                f"Feature {label}: height {height:g} m is impossible ({MIN_HEIGHT_M:g}-{MAX_HEIGHT_M:g} m)",
            )
        )
        return None
    if levels is not None and not 1 <= levels <= MAX_FLOORS:
        out.problems.append(
            (
                f"要素 {label}: 层数 {levels:g} 不可能 (应在 1-{MAX_FLOORS})",
                f"Feature {label}: {levels:g} storeys is impossible (1-{MAX_FLOORS})",
            )
        )
        return None
    assumed: list[str] = []
    if levels is None and height is None:
        floors, height = DEFAULT_FLOORS, DEFAULT_FLOORS * STOREY_M
        assumed.append(f"floors={DEFAULT_FLOORS} (default)")
    elif levels is None:
        assert height is not None
        floors = max(1, round(height / STOREY_M))
        assumed.append("floors=height/3m")
    else:
        floors = round(levels)
        if height is None:
            height = floors * STOREY_M
            assumed.append("height=3m/storey")
    year = _number(str(props.get("start_date", props.get("year_built", "")))[:4])
    if year is None or not 1800 <= year <= year_now:
        year = DEFAULT_YEAR
        assumed.append(f"year={DEFAULT_YEAR} (default)")
    structure = props.get("structure")
    if structure not in STRUCTURES:
        structure = MATERIAL.get(str(props.get("building:material", "")).lower())
        if structure is None:
            structure = DEFAULT_STRUCTURE
            assumed.append(f"structure={DEFAULT_STRUCTURE} (default)")
    condition = _number(props.get("condition"))
    if condition is None or condition not in (1, 2, 3, 4):
        condition = DEFAULT_CONDITION
        assumed.append(f"condition={DEFAULT_CONDITION} (default)")
    return {
        "floors": int(floors),
        "height_m": round(float(height), 1),
        "year_built": int(year),
        "structure": str(structure),
        "condition": int(condition),
        "_assumed": assumed,
        "_homes": str(props.get("building", "yes")).lower() not in NO_HOMES,
        "_flats": _number(props.get("building:flats", props.get("households"))),
    }


def _polygon(geom: Any, label: str, out: Checked) -> Polygon | None:
    """The footprint as one valid polygon (the largest part of a multipolygon), repaired or refused."""
    kind = geom.get("type") if isinstance(geom, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        out.problems.append(
            (
                f"要素 {label}: 几何类型 {kind or '空'}, 建筑轮廓应为面 (Polygon)",
                f"Feature {label}: geometry {kind or 'none'}, a footprint must be a Polygon",
            )
        )
        return None
    try:
        g = shape(geom)
    except Exception as exc:  # shapely raises several kinds for malformed rings
        out.problems.append(
            (f"要素 {label}: 几何无法读取: {exc}", f"Feature {label}: unreadable geometry: {exc}")
        )
        return None
    if not g.is_valid:
        why = explain_validity(g)
        fixed = make_valid(g)
        parts = [p for p in getattr(fixed, "geoms", [fixed]) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            out.problems.append(
                (
                    f"要素 {label}: 无效且无法修复 ({why})",
                    f"Feature {label}: invalid and cannot be repaired ({why})",
                )
            )
            return None
        g = max(parts, key=lambda p: p.area)
        out.repairs.append((f"要素 {label}: 已修复 ({why})", f"Feature {label}: repaired ({why})"))
    if g.geom_type == "MultiPolygon":
        g = max(g.geoms, key=lambda p: p.area)
    if g.is_empty or g.area <= 0:
        out.problems.append((f"要素 {label}: 面积为零", f"Feature {label}: the footprint has no area"))
        return None
    return Polygon(g.exterior)  # courtyards (holes) are not drawn: the roof covers the ring


def check(
    features: list[Any],
    *,
    frames: list[Frame],
    declared_crs: str | None = None,
    community: int | None = None,
    year_now: int | None = None,
    source: str = "",
) -> Checked:
    """Every problem with the features, or the rows to write."""
    out = Checked()
    year_now = year_now or dt.date.today().year
    if not features:
        out.problems.append(("文件中没有要素", "The file holds no features"))
        return out
    if len(features) > MAX_BUILDINGS:
        out.problems.append(
            (f"要素超过 {MAX_BUILDINGS:,} 个", f"More than {MAX_BUILDINGS:,} features in one file")
        )
        return out
    transform = None
    if declared_crs and declared_crs.upper() not in WGS84:
        try:
            from pyproj import CRS, Transformer

            transform = Transformer.from_crs(CRS.from_user_input(declared_crs), "EPSG:4326", always_xy=True)
        except Exception as exc:  # pyproj raises its own CRSError and friends
            out.problems.append(
                (f"无法识别坐标系 {declared_crs}: {exc}", f"Unknown coordinate system {declared_crs}: {exc}")
            )
            return out
        out.crs = declared_crs.upper()
    by_code = {f.code: f for f in frames}
    if community is not None and community not in by_code:
        out.problems.append(
            (f"社区 {community} 不是三维孪生社区", f"Community {community} is not a twin community")
        )
        return out
    polys: list[tuple[str, Polygon, dict[str, Any], dict[str, Any]]] = []  # label, WGS-84, attrs, props
    for n, f in enumerate(features, start=1):
        props = (f.get("properties") if isinstance(f, dict) else None) or {}
        fid = props.get("id", props.get("osm_id", f.get("id") if isinstance(f, dict) else None))
        label = f"#{n}" + (f" ({str(fid)[:24]})" if fid is not None else "")
        geom = f.get("geometry") if isinstance(f, dict) else None
        if isinstance(geom, dict) and transform is None:
            xy = [p for p in _xy(geom.get("coordinates"))]
            if any(abs(x) > 180 or abs(y) > 90 for x, y in xy):
                out.problems.append(
                    (
                        f"要素 {label}: 坐标是投影坐标但文件未声明坐标系; 请用 --crs EPSG:xxxx 指明",
                        f"Feature {label}: projected coordinates but no CRS declared; name it with --crs EPSG:xxxx",
                    )
                )
                continue
        if isinstance(geom, dict) and transform is not None and geom.get("coordinates"):
            geom = {**geom, "coordinates": _map_coords(geom["coordinates"], transform.transform)}
        poly = _polygon(geom, label, out)
        attrs = _attributes(props, label, year_now, out)
        if poly is not None and attrs is not None:
            polys.append((label, poly, attrs, props))
    if out.problems:
        return out
    # where each building goes: the frame that holds its centroid, or the one named (moved onto it)
    shift = (0.0, 0.0)
    if community is not None:
        fr = by_code[community]
        c = shapely.unary_union([p for _, p, _, _ in polys]).envelope.centroid
        cx, cy = fr.local(c.x, c.y)
        if not fr.holds(cx, cy):
            shift = (fr.width / 2 - cx, fr.height / 2 - cy)
            out.assumed.append(
                (
                    f"文件位于社区 {community} 之外 ({math.hypot(*shift) / 1000:.1f} 公里), 已整体平移到社区中心",
                    f"The file lies outside community {community} ({math.hypot(*shift) / 1000:.1f} km away);"
                    " moved as a whole onto its centre",
                )
            )
    placed: dict[int, list[tuple[str, Polygon]]] = {}
    used: set[str] = set()
    for label, poly, attrs, _props in polys:
        c = poly.centroid
        home = by_code.get(community) if community is not None else None
        if home is None:
            home = next((f for f in frames if f.holds(*f.local(c.x, c.y))), None)
        if home is None:
            near = min(frames, key=lambda f: math.hypot(*f.local(c.x, c.y))) if frames else None
            where = f"{near.code}, {math.hypot(*near.local(c.x, c.y)) / 1000:.1f} km" if near else "-"
            out.problems.append(
                (
                    f"要素 {label}: 不在任何三维孪生社区内 (最近: {where}); 可用 --community 指定社区",
                    f"Feature {label}: lies in no twin community (nearest: {where}); name one with --community",
                )
            )
            continue
        frame = home
        local = Polygon(
            [
                (round(x + shift[0], 2), round(y + shift[1], 2))
                for x, y in (frame.local(lon, lat) for lon, lat in poly.exterior.coords[:-1])
            ]
        ).simplify(0.2)
        if not isinstance(local, Polygon) or local.is_empty or not local.is_valid:
            out.problems.append((f"要素 {label}: 轮廓退化", f"Feature {label}: the footprint degenerates"))
            continue
        mine = placed.setdefault(frame.code, [])
        local = _without_overlap(label, local, mine, out)
        if local is None:
            continue
        mine.append((label, local))
        area = local.area
        flats = attrs["_flats"]
        if flats is None:
            flats = round(area * attrs["floors"] / M2_PER_FLAT) if attrs["_homes"] else 0
            attrs["_assumed"].append("households~area")
        households = max(0, int(flats))
        residents = round(households * PEOPLE_PER_HOUSEHOLD)
        used.update(attrs["_assumed"])
        ring = [[round(x, 2), round(y, 2)] for x, y in local.exterior.coords[:-1]]
        out.rows.append(
            {
                "community_code": frame.code,
                "footprint": json.dumps(ring),
                "cx": round(local.centroid.x, 2),
                "cy": round(local.centroid.y, 2),
                "floors": attrs["floors"],
                "height_m": attrs["height_m"],
                "year_built": attrs["year_built"],
                "structure": attrs["structure"],
                "condition": attrs["condition"],
                "households": households,
                "residents": residents,
                "residents_65": round(residents * SHARE_65),
                "source": f"{source} {label} {'; '.join(attrs['_assumed'])}"[:255],
            }
        )
    if out.problems:
        out.rows = []
    assumed = sorted(used)
    if assumed and out.rows:
        out.assumed.append(
            (f"采用的默认或估算: {', '.join(assumed)}", f"defaults or estimates used: {', '.join(assumed)}")
        )
    return out


def _without_overlap(
    label: str, poly: Polygon, before: list[tuple[str, Polygon]], out: Checked
) -> Polygon | None:
    """The footprint less what it shares with earlier ones (when at least half remains), else refused."""
    for other_label, other in before:
        shared = poly.intersection(other).area
        if shared <= 0.5:  # touching walls and rounding slivers are no overlap
            continue
        rest = poly.difference(other)
        parts = [p for p in getattr(rest, "geoms", [rest]) if p.geom_type == "Polygon"]
        best = max(parts, key=lambda p: p.area) if parts else None
        if best is None or best.area < poly.area / 2:
            out.problems.append(
                (
                    f"要素 {label}: 与 {other_label} 大面积重叠 ({shared:.0f} 平方米)",
                    f"Feature {label}: overlaps {other_label} by {shared:.0f} m², too much to repair",
                )
            )
            return None
        out.repairs.append(
            (
                f"要素 {label}: 与 {other_label} 重叠 {shared:.0f} 平方米, 已去除重叠部分",
                f"Feature {label}: overlapped {other_label} by {shared:.0f} m²; the shared part removed",
            )
        )
        poly = Polygon(best.exterior)
    return poly


def _xy(coords: Any) -> list[tuple[float, float]]:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [(float(coords[0]), float(coords[1]))] if len(coords) >= 2 else []
    return [p for c in coords for p in _xy(c)] if isinstance(coords, list | tuple) else []


# --- reading files ------------------------------------------------------------------------------------


class FileError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def read_geojson(raw: bytes) -> tuple[list[Any], str | None]:
    """(features, declared CRS) of a GeoJSON FeatureCollection."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FileError(
            "文件不是 GeoJSON (无法解析为 JSON)", "The file is not GeoJSON (not JSON at all)"
        ) from None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise FileError(
            "文件不是 GeoJSON 要素集合 (FeatureCollection)", "The file is not a GeoJSON FeatureCollection"
        )
    return doc["features"], _crs_name(doc)


def read_gpkg(path: Path, layer: str | None) -> tuple[list[Any], str | None]:
    """(features, CRS) of one feature layer of a GeoPackage: the named one, or the only one, or the one
    called like "buildings"/"multipolygons"; refused naming the layers when that is ambiguous."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            layers = {
                t: (col, srs)
                for t, col, srs in con.execute(
                    "select c.table_name, g.column_name, g.srs_id from gpkg_contents c"
                    " join gpkg_geometry_columns g on g.table_name = c.table_name where c.data_type = 'features'"
                )
            }
            names = sorted(layers)
            if layer is None:
                guess = [n for n in names if n.lower() in ("buildings", "building", "multipolygons")]
                layer = names[0] if len(names) == 1 else guess[0] if len(guess) == 1 else None
            if layer is None or layer not in layers:
                raise FileError(
                    f"请用 --layer 指定图层, 文件中有: {', '.join(names) or '无'}",
                    f"Name the layer with --layer; the file holds: {', '.join(names) or 'none'}",
                )
            col, srs = layers[layer]
            org = con.execute(
                "select organization, organization_coordsys_id from gpkg_spatial_ref_sys where srs_id = ?",
                (srs,),
            ).fetchone()
            crs = f"{org[0]}:{org[1]}".upper() if org and org[1] and int(org[1]) > 0 else None
            cur = con.execute(f'select * from "{layer.replace(chr(34), "")}"')  # a name from gpkg_contents
            cols = [d[0] for d in cur.description]
            feats = []
            for row in cur:
                props = dict(zip(cols, row, strict=True))
                blob = props.pop(col)
                geom = mapping(_gpkg_geometry(blob)) if blob else None
                feats.append({"type": "Feature", "properties": props, "geometry": geom})
            return feats, crs
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise FileError(f"文件不是 GeoPackage ({exc})", f"The file is not a GeoPackage ({exc})") from None


def _gpkg_geometry(blob: bytes) -> Any:
    """A GeoPackage geometry blob: "GP", version, flags (envelope size in bits 1-3), srs id, envelope, WKB."""
    if blob[:2] != b"GP":
        raise sqlite3.DatabaseError("a geometry is not a GeoPackage blob")
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111, 0)
    struct.unpack("<i" if flags & 1 else ">i", blob[4:8])  # the srs id: the layer's, read above
    return shapely.from_wkb(blob[8 + envelope :])


def frames_in_pool() -> list[Frame]:
    with eng.connect() as conn:
        rows = conn.execute(select(twin_frame).order_by(twin_frame.c.community_code)).all()
    return [Frame(int(r.community_code), r.lon0, r.lat0, r.width_m, r.height_m) for r in rows]


def import_file(
    path: Path,
    actor: audit.Actor,
    *,
    layer: str | None = None,
    crs: str | None = None,
    community: int | None = None,
) -> Checked:
    """Check the file, then replace the imported buildings of the communities it covers and write one log
    entry, in one transaction; on any problem write nothing."""
    try:
        if path.suffix.lower() == ".gpkg":
            feats, declared = read_gpkg(path, layer)
        else:
            feats, declared = read_geojson(path.read_bytes())
    except FileError as exc:
        out = Checked()
        out.problems.append((exc.zh, exc.en))
        return out
    got = check(
        feats,
        frames=frames_in_pool(),
        declared_crs=crs or declared,
        community=community,
        source=f"{path.name[:120]}{':' + layer if layer else ''}",
    )
    if not got.ok:
        return got
    now = int(time.time())
    codes = sorted(got.communities)
    with audit.write(actor) as tx:
        t = twin_import_building
        tx.conn.execute(delete(t).where(t.c.community_code.in_(codes)))
        rows = [{**r, "imported_at": now, "imported_by": actor.username[:96]} for r in got.rows]
        for start in range(0, len(rows), 5000):
            tx.conn.execute(insert(t), rows[start : start + 5000])
        from queries.divide_io import move_version

        move_version(tx.conn)  # the twin's cached town, events and alert key on it
        tx.log(
            "twin.buildings.import",
            "twin_import_building",
            path.name[:128],
            after={"communities": {str(c): n for c, n in got.communities.items()}},
            detail={
                "buildings": len(rows),
                "crs": got.crs,
                "repaired": len(got.repairs),
                "layer": layer or "",
            },
        )
    return got
