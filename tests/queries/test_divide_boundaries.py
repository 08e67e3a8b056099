"""`import boundaries` on SQLite and PostgreSQL: good files replace the schematic zones (a projected one
reprojected, a bow-tie repaired), bad files are refused with reasons and leave the pool as it was."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from shapely import to_wkb
from shapely.geometry import shape
from sqlalchemy import func, select

from queries import audit, cache, geo
from queries import engine as eng
from queries.boundaries import gcj02_to_wgs84
from queries.geodata.paths import SCHEMATIC
from queries.tables import audit_log, township_boundary

ZONES = {f["properties"]["code"]: f for f in json.loads(SCHEMATIC.read_text(encoding="utf-8"))["features"]}
CAOBA, WENLAN = 532503102, 532503001
CLI = audit.Actor.cli()


def _file(tmp_path: Path, features: list[dict[str, Any]], name: str = "b.geojson", **extra: Any) -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features, **extra}), encoding="utf-8"
    )
    return path


def _feature(code: object, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code}, "geometry": geometry}


def _counts() -> tuple[int, int]:
    with eng.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(township_boundary)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one()),
        )


def _import(path: Path, **kw: Any) -> Any:
    from queries.boundaries import import_file

    return import_file(path, CLI, **kw)


@pytest.fixture
def pool_w(writable_pool: str, tmp_path: Path) -> str:
    cache.configure(None)
    return writable_pool


def test_good_file_replaces_the_schematic_zones(pool_w: str, tmp_path: Path) -> None:
    boundaries, entries = _counts()
    got = _import(
        _file(
            tmp_path,
            [_feature(CAOBA, ZONES[CAOBA]["geometry"]), _feature(str(WENLAN), ZONES[WENLAN]["geometry"])],
        )
    )
    assert got.ok and got.problems == [] and sorted(got.geometries) == [WENLAN, CAOBA]
    assert _counts() == (boundaries + 2, entries + 1)
    outlines = {
        f["properties"]["code"]: f["properties"] for f in geo.township_outlines.uncached()["features"]
    }  # type: ignore[attr-defined]
    assert outlines[CAOBA]["schematic"] is False and outlines[532503202]["schematic"] is True
    assert "b.geojson" in outlines[CAOBA]["source"]
    assert audit.verify().ok


def test_projected_file_is_reprojected(pool_w: str, tmp_path: Path) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform
    ring = ZONES[CAOBA]["geometry"]["coordinates"][0]
    projected = {"type": "Polygon", "coordinates": [[list(to_utm(x, y)) for x, y in ring]]}
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}}
    got = _import(_file(tmp_path, [_feature(CAOBA, projected)], crs=crs))
    assert got.ok and got.crs == "EPSG:32648"
    back = shape(got.geometries[CAOBA])
    assert back.symmetric_difference(shape(ZONES[CAOBA]["geometry"])).area < 1e-8
    # the same file without its declaration is refused, not guessed; naming the CRS imports it
    bare = _file(tmp_path, [_feature(CAOBA, projected)], "bare.geojson")
    before = _counts()
    refused = _import(bare)
    assert not refused.ok and "no CRS declared" in refused.problems[0][1] and _counts() == before
    assert _import(bare, crs="EPSG:32648").ok


@pytest.mark.parametrize(
    "features, why",
    [
        ([_feature(CAOBA, {"type": "Point", "coordinates": [103.3, 23.3]})], "geometry Point, not a Polygon"),
        ([_feature(532599999, ZONES[CAOBA]["geometry"])], "no township of Mengzi has this code"),
        ([_feature(None, ZONES[CAOBA]["geometry"])], "no township of Mengzi has this code"),
        ([_feature(CAOBA, ZONES[CAOBA]["geometry"])] * 2, "appears twice"),
        # a zone in Beijing: a wrong CRS or forgotten GCJ-02 lands far away
        (
            [
                _feature(
                    CAOBA,
                    {"type": "Polygon", "coordinates": [[[116, 39], [116.1, 39], [116.1, 39.1], [116, 39]]]},
                )
            ],
            "outside Mengzi",
        ),
        ([], "no features"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(
    pool: str, tmp_path: Path, features: list[Any], why: str
) -> None:
    # the shared read-only pool: a refused file writes nothing, so it stays as every other test expects
    # one good feature beside the bad one: still nothing is written
    good = [_feature(WENLAN, ZONES[WENLAN]["geometry"])] if features else []
    before = _counts()
    got = _import(_file(tmp_path, good + features))
    assert not got.ok and any(why in en for _, en in got.problems), got.problems
    assert _counts() == before


def test_not_geometry_and_geopackage_are_refused(pool: str, tmp_path: Path) -> None:
    before = _counts()
    csv = tmp_path / "b.geojson"
    csv.write_text("code,name\n532503001,文澜街道\n", encoding="utf-8")
    assert "not GeoJSON" in _import(csv).problems[0][1]
    other = tmp_path / "c.geojson"
    other.write_text(json.dumps({"type": "Feature", "geometry": None}), encoding="utf-8")
    assert "not a GeoJSON FeatureCollection" in _import(other).problems[0][1]
    gpkg = tmp_path / "b.gpkg"
    gpkg.write_bytes(b"not a database at all")
    assert "not a GeoPackage (not SQLite)" in _import(gpkg).problems[0][1]
    plain = tmp_path / "plain.gpkg"
    sqlite3.connect(plain).execute("create table t (x)").connection.commit()
    assert "not a GeoPackage (no gpkg_contents" in _import(plain).problems[0][1]
    assert _counts() == before


def test_bow_tie_is_repaired_and_reported(pool_w: str, tmp_path: Path) -> None:
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[103.30, 23.25], [103.36, 23.31], [103.36, 23.25], [103.30, 23.31], [103.30, 23.25]]
        ],
    }
    assert not shape(bow).is_valid
    got = _import(_file(tmp_path, [_feature(CAOBA, bow)]))
    assert got.ok and "repaired (Self-intersection" in got.repairs[0][1]
    fixed = shape(got.geometries[CAOBA])
    assert fixed.is_valid and fixed.area == pytest.approx(0.0018, rel=0.01)  # the two triangles


def test_gcj02_is_converted_when_asked(pool_w: str, tmp_path: Path) -> None:
    lon, lat = gcj02_to_wgs84(103.4, 23.3)
    # GCJ-02 puts places a few hundred metres off in southern China; the inverse moves them back
    assert 0.001 < abs(lon - 103.4) < 0.01 and 0.0005 < abs(lat - 23.3) < 0.01
    got = _import(_file(tmp_path, [_feature(CAOBA, ZONES[CAOBA]["geometry"])]), gcj02=True)
    assert got.ok
    moved = shape(got.geometries[CAOBA]).centroid.distance(shape(ZONES[CAOBA]["geometry"]).centroid)
    assert 0.001 < moved < 0.01


def test_command_line(pool_w: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.cli import main

    bad = _file(
        tmp_path, [_feature(CAOBA, {"type": "LineString", "coordinates": [[103.3, 23.3], [103.4, 23.4]]})]
    )
    before = _counts()
    assert main(["--url", pool_w, "import", "boundaries", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "geometry LineString" in err and "the pool is unchanged" in err and _counts() == before
    good = _file(tmp_path, [_feature(CAOBA, ZONES[CAOBA]["geometry"])], "good.geojson")
    assert main(["--url", pool_w, "import", "boundaries", str(good)]) == 0
    assert "imported 1 township boundaries" in capsys.readouterr().out
    assert main(["--url", pool_w, "import", "boundaries", str(tmp_path / "missing.geojson")]) == 2


# --- GeoPackage: a SQLite file made here with the GeoPackage tables, geometries as GP blobs -------------


def _gpkg(
    tmp_path: Path,
    rows: list[tuple[object, dict[str, Any] | bytes]],
    *,
    srs: tuple[int, str | None, int | None, str] = (4326, "EPSG", 4326, "GEOGCS[...]"),
    name: str = "b.gpkg",
) -> Path:
    """A GeoPackage of one features table `zones` (fid, geom, code) in the CRS `srs` (srs_id,
    organization, its code, definition); a row's geometry is GeoJSON (made a blob here) or raw bytes."""
    path = tmp_path / name
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        create table gpkg_spatial_ref_sys (srs_name text, srs_id integer primary key, organization text,
            organization_coordsys_id integer, definition text, description text);
        create table gpkg_contents (table_name text primary key, data_type text, identifier text,
            srs_id integer);
        create table gpkg_geometry_columns (table_name text, column_name text, geometry_type_name text,
            srs_id integer, z integer, m integer);
        create table zones (fid integer primary key, geom blob, code text);
        """
    )
    srs_id, org, org_id, definition = srs
    conn.execute(
        "insert into gpkg_spatial_ref_sys values ('s', ?, ?, ?, ?, '')", (srs_id, org, org_id, definition)
    )
    conn.execute("insert into gpkg_contents values ('zones', 'features', 'zones', ?)", (srs_id,))
    conn.execute(
        "insert into gpkg_geometry_columns values ('zones', 'geom', 'MULTIPOLYGON', ?, 0, 0)", (srs_id,)
    )
    for code, geom in rows:
        if isinstance(geom, dict):
            # flags 0b011: little-endian header, a 32-byte xy envelope (which the reader must skip)
            g = shape(geom)
            blob = b"GP\x00\x03" + struct.pack("<i4d", srs_id, *g.bounds) + to_wkb(g)
        else:
            blob = geom
        conn.execute("insert into zones (geom, code) values (?, ?)", (blob, code))
    conn.commit()
    conn.close()
    return path


def test_geopackage_is_imported(pool_w: str, tmp_path: Path) -> None:
    before = _counts()
    got = _import(_gpkg(tmp_path, [(str(CAOBA), ZONES[CAOBA]["geometry"])]))
    assert got.ok and got.crs == "EPSG:4326" and list(got.geometries) == [CAOBA], got.problems
    assert shape(got.geometries[CAOBA]).symmetric_difference(shape(ZONES[CAOBA]["geometry"])).area < 1e-12
    assert _counts() == (before[0] + 1, before[1] + 1)
    outline = next(
        f for f in geo.township_outlines.uncached()["features"] if f["properties"]["code"] == CAOBA
    )  # type: ignore[attr-defined]
    assert outline["properties"]["schematic"] is False and "b.gpkg" in outline["properties"]["source"]


def test_projected_geopackage_is_reprojected(pool_w: str, tmp_path: Path) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform
    ring = ZONES[WENLAN]["geometry"]["coordinates"][0]
    projected = {"type": "Polygon", "coordinates": [[list(to_utm(x, y)) for x, y in ring]]}
    got = _import(_gpkg(tmp_path, [(WENLAN, projected)], srs=(32648, "EPSG", 32648, "PROJCS[...]")))
    assert got.ok and got.crs == "EPSG:32648", got.problems
    assert shape(got.geometries[WENLAN]).symmetric_difference(shape(ZONES[WENLAN]["geometry"])).area < 1e-8
    # a CRS given only by its WKT definition (no EPSG organisation) is reprojected as well
    from pyproj import CRS

    wkt = CRS.from_epsg(32648).to_wkt()
    got = _import(_gpkg(tmp_path, [(WENLAN, projected)], srs=(100001, "local", None, wkt), name="wkt.gpkg"))
    assert got.ok, got.problems
    # undefined CRS (srs_id 0) with projected coordinates: refused, not guessed
    bare = _gpkg(tmp_path, [(WENLAN, projected)], srs=(0, "NONE", 0, "undefined"), name="bare.gpkg")
    before = _counts()
    assert "no CRS declared" in _import(bare).problems[0][1] and _counts() == before


def test_geopackage_bad_ring_and_unknown_code_are_refused(pool: str, tmp_path: Path) -> None:
    before = _counts()
    # a bow-tie is repaired and reported, as in GeoJSON
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[103.30, 23.25], [103.36, 23.31], [103.36, 23.25], [103.30, 23.31], [103.30, 23.25]]
        ],
    }
    flat = {
        "type": "Polygon",
        "coordinates": [[[103.30, 23.25], [103.33, 23.28], [103.36, 23.31], [103.30, 23.25]]],
    }
    cases = [
        ([(CAOBA, flat)], "has no area"),  # a collinear ring: valid to shapely, area ~1e-17
        ([(CAOBA, b"GP\x00\x01\x00\x00\x00\x00garbage")], "geometry none"),
        ([(532599999, ZONES[CAOBA]["geometry"])], "no township of Mengzi has this code"),
    ]
    for rows, why in cases:
        got = _import(_gpkg(tmp_path, [(WENLAN, bow), *rows], name=f"{why[:8]}.gpkg"))
        assert not got.ok and any(why in en for _, en in got.problems), (why, got.problems)
        assert any("repaired (Self-intersection" in en for _, en in got.repairs)
    assert _counts() == before


def test_geopackage_blob_header() -> None:
    from queries.gpkg import geometry

    g = shape(ZONES[CAOBA]["geometry"])
    # big-endian header, no envelope
    assert geometry(b"GP\x00\x00" + struct.pack(">i", 4326) + to_wkb(g)).equals(g)
    assert geometry(b"GP\x00\x11" + struct.pack("<i", 4326) + to_wkb(g)) is None  # empty flag
    with pytest.raises(ValueError):
        geometry(b"XX\x00\x00\x00\x00\x00\x00")
