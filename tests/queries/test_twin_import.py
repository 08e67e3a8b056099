"""`import buildings`: footprints made in the test (GeoJSON and a GeoPackage written with sqlite3) matched
to a twin community by centroid, OSM tags read, defaults stated, a bow-tie and an overlap repaired, and
bad files (lines, impossible heights, an empty file, projected coordinates with no CRS, a place in no
community) refused whole with the reason; a good file lands through the write door on SQLite and
PostgreSQL and the twin shows it instead of the generated buildings."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import shapely
from shapely.geometry import Polygon

from queries import audit, meta, twin
from queries import twin_import as ti
from queries.scope import CITY_SCOPE

FRAME = ti.Frame(532503001001, 103.3865, 23.3620, 400.0, 300.0)


def lonlat(x: float, y: float, fr: ti.Frame = FRAME) -> list[float]:
    return [fr.lon0 + x / ti.m_per_deg_lon(fr.lat0), fr.lat0 + y / ti.M_PER_DEG_LAT]


def feature(
    ring: list[tuple[float, float]], fr: ti.Frame = FRAME, kind: str = "Polygon", **tags: Any
) -> dict[str, Any]:
    coords = [lonlat(x, y, fr) for x, y in ring]
    geom: dict[str, Any]
    if kind == "Polygon":
        geom = {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}
    else:
        geom = {"type": kind, "coordinates": coords}
    return {"type": "Feature", "properties": tags, "geometry": geom}


def rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


L_SHAPE = [(100.0, 100.0), (140.0, 100.0), (140.0, 110.0), (110.0, 110.0), (110.0, 140.0), (100.0, 140.0)]


def good_features(fr: ti.Frame = FRAME) -> list[dict[str, Any]]:
    return [
        feature(rect(30, 30, 20, 10), fr, **{"building:levels": "4", "start_date": "1978", "id": "way/1"}),
        feature(L_SHAPE, fr, height="15 m", building="apartments", **{"building:material": "concrete"}),
        feature(rect(200, 50, 12, 12), fr),  # no tags at all: the stated defaults
        feature(rect(45, 30, 20, 10), fr, building="retail", **{"building:levels": 1}),  # overlaps #1 by 5 m
    ]


def test_a_good_file_is_read_with_its_tags_and_stated_defaults() -> None:
    got = ti.check(good_features(), frames=[FRAME], year_now=2026, source="t.geojson")
    assert got.ok, got.problems
    assert got.communities == {FRAME.code: 4}
    a, ell, bare, shop = got.rows
    assert (a["floors"], a["height_m"], a["year_built"], a["structure"]) == (4, 12.0, 1978, "brick_concrete")
    assert (ell["floors"], ell["height_m"], ell["structure"]) == (5, 15.0, "frame")
    assert (bare["floors"], bare["height_m"], bare["year_built"]) == (ti.DEFAULT_FLOORS, 6.0, ti.DEFAULT_YEAR)
    # households from floor area (85 m² a flat), none in a shop; 2.8 people a household, 16% aged 65+
    assert a["households"] == round(20 * 10 * 4 / 85) and shop["households"] == 0
    assert a["residents"] == round(a["households"] * 2.8)
    # the centroid lands where it was drawn, in the community's metres
    assert (a["cx"], a["cy"]) == (pytest.approx(40, abs=0.05), pytest.approx(35, abs=0.05))
    assert Polygon(json.loads(ell["footprint"])).area == pytest.approx(40 * 10 + 10 * 30, rel=1e-3)
    # the overlap with #1 (5 x 10 m) is cut from the later footprint and reported
    assert Polygon(json.loads(shop["footprint"])).area == pytest.approx(15 * 10, rel=1e-3)
    assert any("overlapped #1" in en for _, en in got.repairs)
    said = " ".join(en for _, en in got.assumed)
    assert "floors=2 (default)" in said and "households~area" in said


def test_a_bow_tie_is_repaired_and_reported() -> None:
    bow = [(0.0, 0.0), (40.0, 20.0), (40.0, 0.0), (0.0, 20.0)]  # crosses itself at (20, 10)
    got = ti.check([feature([(x + 100, y + 100) for x, y in bow])], frames=[FRAME], year_now=2026)
    assert got.ok and "Self-intersection" in got.repairs[0][1]
    assert Polygon(json.loads(got.rows[0]["footprint"])).area == pytest.approx(200, rel=1e-2)  # one half


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            [feature(rect(10, 10, 10, 10)[:2], kind="LineString")],
            "geometry LineString, a footprint must be a Polygon",
        ),
        (
            [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": lonlat(5, 5)},
                }
            ],
            "Point",
        ),
        ([feature(rect(10, 10, 10, 10), height=-5)], "height -5 m is impossible"),
        ([feature(rect(10, 10, 10, 10), height="2000")], "height 2000 m is impossible"),
        ([feature(rect(10, 10, 10, 10), **{"building:levels": 0})], "0 storeys is impossible"),
        ([], "holds no features"),
        (
            [feature(rect(10, 10, 10, 10)), feature(rect(12, 12, 8, 8))],
            "overlaps #2 by 64 m², too much to repair",
        ),
        ([feature(rect(5000, 5000, 10, 10))], "lies in no twin community (nearest: 532503001001"),
        (
            [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[500000, 2580000], [500010, 2580000], [500010, 2580010], [500000, 2580000]]
                        ],
                    },
                }
            ],
            "projected coordinates but no CRS declared",
        ),
    ],
)
def test_bad_files_are_refused_whole_with_the_reason(features: list[Any], message: str) -> None:
    good = good_features()[:1]  # a good building beside the bad one is not written either
    got = ti.check(good + features if features else features, frames=[FRAME], year_now=2026)
    assert not got.ok and got.rows == []
    assert any(message in en for _, en in got.problems), got.problems
    assert all(zh for zh, _ in got.problems)


def test_a_declared_projected_crs_is_reprojected() -> None:
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    f = good_features()[0]
    ring = [list(to_utm.transform(lon, lat)) for lon, lat in f["geometry"]["coordinates"][0]]
    f["geometry"]["coordinates"] = [ring]
    got = ti.check([f], frames=[FRAME], declared_crs="EPSG:32648", year_now=2026)
    assert got.ok and got.crs == "EPSG:32648"
    assert (got.rows[0]["cx"], got.rows[0]["cy"]) == (pytest.approx(40, abs=0.2), pytest.approx(35, abs=0.2))
    unknown = ti.check([f], frames=[FRAME], declared_crs="EPSG:0", year_now=2026)
    assert not unknown.ok and "Unknown coordinate system" in unknown.problems[0][1]


def test_a_file_from_elsewhere_is_moved_onto_the_named_community() -> None:
    helsinki = ti.Frame(1, 24.94, 60.17, 1000.0, 1000.0)
    got = ti.check(good_features(helsinki), frames=[FRAME], community=FRAME.code, year_now=2026)
    assert got.ok and got.communities == {FRAME.code: 4}
    assert "moved as a whole onto its centre" in got.assumed[0][1]
    xs = [r["cx"] for r in got.rows]
    assert min(xs) >= 0 and max(xs) <= FRAME.width  # shapes and spacing kept, inside the plane
    assert not ti.check(good_features(), frames=[FRAME], community=999, year_now=2026).ok


def gpkg(path: Path, layers: dict[str, list[dict[str, Any]]]) -> Path:
    """A minimal GeoPackage: each layer a table of (fid, geom, height) with GP-headed WKB in WGS-84."""
    con = sqlite3.connect(path)
    con.executescript(
        "create table gpkg_spatial_ref_sys (srs_name text, srs_id integer primary key, organization text,"
        " organization_coordsys_id integer, definition text, description text);"
        "insert into gpkg_spatial_ref_sys values ('WGS 84', 4326, 'EPSG', 4326, '', '');"
        "create table gpkg_contents (table_name text primary key, data_type text, identifier text);"
        "create table gpkg_geometry_columns (table_name text, column_name text, geometry_type_name text,"
        " srs_id integer, z integer, m integer);"
    )
    for name, feats in layers.items():
        con.execute(f'create table "{name}" (fid integer primary key, geom blob, height text)')
        con.execute("insert into gpkg_contents values (?, 'features', ?)", (name, name))
        con.execute("insert into gpkg_geometry_columns values (?, 'geom', 'POLYGON', 4326, 0, 0)", (name,))
        for f in feats:
            wkb = shapely.to_wkb(shapely.geometry.shape(f["geometry"]))
            blob = b"GP" + bytes([0, 1]) + struct.pack("<i", 4326) + wkb  # no envelope, little-endian
            con.execute(
                f'insert into "{name}" (geom, height) values (?, ?)', (blob, f["properties"].get("height"))
            )
    con.commit()
    con.close()
    return path


def test_a_geopackage_layer_is_read(tmp_path: Path) -> None:
    path = gpkg(tmp_path / "town.gpkg", {"buildings": good_features()[1:2], "roads": []})
    feats, crs = ti.read_gpkg(path, None)  # "buildings" is the obvious layer
    assert crs == "EPSG:4326" and len(feats) == 1 and feats[0]["properties"]["height"] == "15 m"
    got = ti.check(feats, frames=[FRAME], declared_crs=crs, year_now=2026)
    assert got.ok and got.rows[0]["floors"] == 5
    two = gpkg(tmp_path / "two.gpkg", {"plots": [], "houses": []})
    with pytest.raises(ti.FileError, match="Name the layer with --layer; the file holds: houses, plots"):
        ti.read_gpkg(two, None)
    (tmp_path / "not.gpkg").write_bytes(b"hello")
    with pytest.raises(ti.FileError, match="not a GeoPackage"):
        ti.read_gpkg(tmp_path / "not.gpkg", None)


def test_an_import_lands_through_the_door_and_replaces_the_generated_town(
    writable_pool: str, tmp_path: Path
) -> None:
    frames = ti.frames_in_pool()
    assert len(frames) == twin.communities(scope=CITY_SCOPE).height  # every twin community has its plane
    fr = frames[0]
    actor = audit.Actor(1, "admin", "admin")
    before = audit.verify().entries
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [*good_features(fr), feature(rect(1, 1, 5, 5), fr, height=-5)],
            }
        )
    )
    assert not ti.import_file(bad, actor).ok
    assert audit.verify().entries == before  # refused whole: nothing written
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": good_features(fr)}))
    got = ti.import_file(good, actor)
    assert got.ok and got.communities == {fr.code: 4}
    st = meta.pool_status()
    bld = twin.buildings(scope=CITY_SCOPE, community_code=fr.code, as_of=st.as_of)
    assert bld.height == 4 and bld["id"].min() > twin.IMPORT_ID_BASE
    assert sorted(bld["floors"].to_list()) == [1, 2, 4, 5]
    assert bld["node_id"].is_null().sum() == 0 and float(bld["reno_score"].max()) > 0
    comms = twin.communities(scope=CITY_SCOPE)
    assert comms.filter(comms["code"] == fr.code)["buildings"].item() == 4
    log = audit.show(limit=1, offset=0).row(0, named=True)
    assert (log["action"], audit.verify().entries) == ("twin.buildings.import", before + 1)
    # the twin works on it: coverage for every building, evacuation computed
    per, _ = twin.coverage(scope=CITY_SCOPE, community_code=fr.code, as_of=st.as_of)
    assert per["building_id"].n_unique() == 4
    # a second import of the community replaces, not adds
    assert ti.import_file(good, actor).ok
    assert (
        twin.buildings(scope=CITY_SCOPE, community_code=fr.code, as_of=meta.pool_status().as_of).height == 4
    )


def test_the_command_imports_refuses_and_the_import_survives_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import create_engine, func, select

    from dashboard.cli import main
    from queries.tables import twin_import_building

    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    seed = ["seed", "--scale", "test", "--quiet", "--end", "2026-11-20T14:30"]
    assert main(seed) == 0
    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    with create_engine(url).connect() as conn:
        from queries.tables import twin_frame

        row = conn.execute(select(twin_frame).limit(1)).one()
    fr = ti.Frame(int(row.community_code), row.lon0, row.lat0, row.width_m, row.height_m)
    lines = tmp_path / "lines.geojson"
    lines.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [feature(rect(1, 1, 5, 5)[:2], fr, kind="LineString")]}
        )
    )
    capsys.readouterr()
    assert main(["import", "buildings", str(lines)]) == 1
    err = capsys.readouterr().err
    assert "a footprint must be a Polygon" in err and "nothing imported, the pool is unchanged" in err
    assert main(["import", "buildings", str(tmp_path / "missing.geojson")]) == 2
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": good_features(fr)}))
    assert main(["import", "buildings", str(good)]) == 0
    assert "imported 4 buildings" in capsys.readouterr().out

    def count() -> int:
        with create_engine(url).connect() as conn:
            return int(conn.execute(select(func.count()).select_from(twin_import_building)).scalar_one())

    assert count() == 4
    assert main(seed) == 0  # a rebuild keeps people's imports (user data)
    assert count() == 4


def test_cases_and_alarms_move_to_the_nearest_imported_footprint(writable_pool: str, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from queries import engine as eng
    from queries.tables import twin_building, twin_event
    from queries.timebase import DAY

    st = meta.pool_status()
    e = twin_event
    with eng.connect() as conn:  # the twin community with the most events of the last 30 days
        code, n_events = conn.execute(
            select(e.c.community_code, func.count())
            .where(e.c.occurred_at > st.as_of - 30 * DAY, e.c.occurred_at <= st.as_of)
            .group_by(e.c.community_code)
            .order_by(func.count().desc(), e.c.community_code)
            .limit(1)
        ).one()
        gen = conn.execute(
            select(twin_building.c.id, twin_building.c.cx, twin_building.c.cy).where(
                twin_building.c.community_code == code
            )
        ).all()
    assert n_events > 0  # else the test could not fail
    before = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=st.as_of)
    assert int(before["open_cases"].sum()) == n_events
    fr = next(f for f in ti.frames_in_pool() if f.code == code)
    good = tmp_path / "good.geojson"
    feats = good_features(fr)
    for f in feats[:2]:
        f["properties"]["condition"] = 4  # dangerous: an alarm moved onto it raises the wall alert
    good.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    assert ti.import_file(good, audit.Actor(1, "admin", "admin")).ok
    as_of = meta.pool_status().as_of
    homes = twin.event_homes(community_code=code)
    after = twin.buildings(scope=CITY_SCOPE, community_code=code, as_of=as_of)
    # every generated building has a home among the imported footprints: the nearest one, checked by
    # brute force (a point inside a footprint is 0 m from it)
    assert homes.height == len(gen)
    rings = {int(r["id"]): Polygon(json.loads(r["footprint"])) for r in after.iter_rows(named=True)}
    for gid, cx, cy in gen:
        row = homes.filter(homes["generated_id"] == gid).row(0, named=True)
        d = {bid: poly.distance(shapely.Point(cx, cy)) for bid, poly in rings.items()}
        assert row["moved_m"] == pytest.approx(min(d.values()), abs=0.01)
        assert d[row["building_id"]] == pytest.approx(min(d.values()), abs=0.01)
    # no case is lost: the imported buildings count them all, each where its generated building's went
    assert int(after["open_cases"].sum()) == n_events
    by_home = (
        before.join(homes, left_on="id", right_on="generated_id")
        .group_by("building_id")
        .agg(pl.col("open_cases").sum())
    )
    got = dict(zip(after["id"].to_list(), after["open_cases"].to_list(), strict=True))
    for bid, n in by_home.iter_rows():
        assert got[bid] == n
    # the wall alert: dangerous buildings with an alarm; in this community the imported ones it moved to
    b = twin_building
    window = (e.c.kind == "alarm", e.c.occurred_at > as_of - 90 * DAY, e.c.occurred_at <= as_of)
    with eng.connect() as conn:
        elsewhere = conn.execute(
            select(func.count(func.distinct(b.c.id)))
            .select_from(b.join(e, e.c.building_id == b.c.id))
            .where(b.c.condition == 4, e.c.community_code != code, *window)
        ).scalar_one()
        alarmed = set(
            conn.execute(select(e.c.building_id).where(e.c.community_code == code, *window)).scalars()
        )
    moved_to = set(homes.filter(homes["generated_id"].is_in(alarmed))["building_id"])
    dangerous = set(after.filter(after["condition"] == 4)["id"])
    assert alarmed and len(dangerous) == 2
    assert twin.alert_buildings(scope=CITY_SCOPE, as_of=as_of, days=90) == elsewhere + len(
        moved_to & dangerous
    )
    # a community without imports has no homes to move to
    other = next(f.code for f in ti.frames_in_pool() if f.code != code)
    assert twin.event_homes(community_code=other).height == 0
