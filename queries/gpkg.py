"""Read a GeoPackage's polygon features with the standard library: a GeoPackage is a SQLite file, each
geometry a GeoPackage binary blob (a small header, then ordinary WKB), so sqlite3 + shapely read it
without GDAL.

The header (OGC 12-128r18, 2.1.3): "GP", a version byte, a flags byte (bit 0: byte order of the header,
bits 1-3: which envelope follows, bit 4: empty geometry, bit 5: extended type), the srs_id (int32), the
envelope (0, 32, 48, 48 or 64 bytes), then the WKB. The first features table of gpkg_contents is read
(or the one named); its CRS comes from gpkg_spatial_ref_sys: an EPSG code when the organisation is EPSG,
else its WKT definition; srs_id 0 / -1 ("undefined") declares nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


class NotGeoPackage(ValueError):
    """The file cannot be read as a GeoPackage of features; zh and en say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def geometry(blob: bytes) -> Any:
    """A GeoPackage binary geometry as a shapely geometry (None for an empty one)."""
    from shapely import wkb

    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob (no GP magic)")
    flags = blob[3]
    if flags & 0b100000:
        raise ValueError("extended GeoPackage geometry types are not read")
    env = (flags >> 1) & 0b111
    if env not in ENVELOPE_BYTES:
        raise ValueError(f"unknown envelope indicator {env}")
    if flags & 0b10000:
        return None
    return wkb.loads(bytes(blob[8 + ENVELOPE_BYTES[env] :]))


def _crs(conn: sqlite3.Connection, srs_id: int) -> str | None:
    if srs_id in (0, -1):
        return None
    row = conn.execute(
        "select organization, organization_coordsys_id, definition from gpkg_spatial_ref_sys where srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        raise NotGeoPackage(
            f"坐标系 srs_id {srs_id} 未在 gpkg_spatial_ref_sys 中定义",
            f"srs_id {srs_id} is not defined in gpkg_spatial_ref_sys",
        )
    org, code, definition = row
    if isinstance(org, str) and org.upper() == "EPSG" and isinstance(code, int):
        return f"EPSG:{code}"
    if isinstance(definition, str) and definition.strip() and definition.strip().lower() != "undefined":
        return definition
    return None


def read(path: Path, *, table: str | None = None) -> dict[str, Any]:
    """The features table as a GeoJSON FeatureCollection (its CRS, when declared, in the 2008 `crs`
    member; geometry None where a blob cannot be read, so the check names the feature)."""
    from shapely.geometry import mapping

    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise NotGeoPackage(
                "文件不是 GeoPackage (不是 SQLite 文件)", "The file is not a GeoPackage (not SQLite)"
            )
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            rows = conn.execute(
                "select c.table_name, g.column_name, g.srs_id from gpkg_contents c "
                "join gpkg_geometry_columns g on g.table_name = c.table_name "
                "where c.data_type = 'features' order by c.table_name"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise NotGeoPackage(
                f"文件不是 GeoPackage (缺少 gpkg_contents / gpkg_geometry_columns: {exc})",
                f"The file is not a GeoPackage (no gpkg_contents / gpkg_geometry_columns: {exc})",
            ) from exc
        if table is not None:
            rows = [r for r in rows if r[0] == table]
        if not rows:
            raise NotGeoPackage("GeoPackage 中没有要素表", "The GeoPackage holds no features table")
        name, column, srs_id = rows[0]
        crs = _crs(conn, int(srs_id))
        cur = conn.execute(f'select * from "{name.replace(chr(34), "")}"')  # name from gpkg_contents
        cols = [d[0] for d in cur.description]
        features = []
        for row in cur:
            rec = dict(zip(cols, row, strict=True))
            blob = rec.pop(column)
            try:
                g = geometry(blob) if isinstance(blob, bytes) else None
                geom = None if g is None else mapping(g)
            except Exception:  # shapely raises several kinds on bad WKB; the check names the feature
                geom = None
            props = {k: v for k, v in rec.items() if isinstance(v, int | float | str) or v is None}
            features.append({"type": "Feature", "properties": props, "geometry": geom})
    except sqlite3.DatabaseError as exc:
        raise NotGeoPackage(f"GeoPackage 无法读取: {exc}", f"The GeoPackage cannot be read: {exc}") from exc
    finally:
        conn.close()
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc
