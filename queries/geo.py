"""Outlines every page reuses: the real county outlines of Honghe and the township zones of Mengzi.

A township's zone is its imported boundary (`township_boundary`, real) where one was imported, else the
schematic Voronoi zone shipped in queries/geodata/ (flagged `schematic`, so maps say so). Source and
licence of the shipped files: queries/geodata/SOURCE.md.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy import select

from queries import engine as eng
from queries.cache import cached
from queries.geodata.paths import COUNTIES, SCHEMATIC
from queries.tables import township_boundary

MENGZI = 532503


@functools.cache
def _file(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
        return data


def county_outlines() -> dict[str, Any]:
    """The 13 Honghe counties (WGS-84 FeatureCollection; properties code, name_zh, focus = Mengzi)."""
    fc = _file(str(COUNTIES))
    return {
        "type": "FeatureCollection",
        "features": [
            {**f, "properties": {**f["properties"], "focus": f["properties"]["code"] == MENGZI}}
            for f in fc["features"]
        ],
    }


@cached(domains=())
def township_outlines() -> dict[str, Any]:
    """Mengzi's 13 townships (FeatureCollection; properties code, name_zh, name_en, schematic): the
    imported boundary where there is one, else the schematic zone."""
    b = township_boundary
    with eng.connect() as conn:
        imported = {
            int(r[0]): (json.loads(r[1]), r[2])
            for r in conn.execute(select(b.c.township_code, b.c.geojson, b.c.source))
        }
    feats = []
    for f in _file(str(SCHEMATIC))["features"]:
        code = int(f["properties"]["code"])
        props = {k: f["properties"][k] for k in ("code", "name_zh", "name_en")}
        if code in imported:
            geom, source = imported[code]
            feats.append(
                {
                    "type": "Feature",
                    "properties": {**props, "schematic": False, "source": source},
                    "geometry": geom,
                }
            )
        else:
            feats.append(
                {"type": "Feature", "properties": {**props, "schematic": True}, "geometry": f["geometry"]}
            )
    return {"type": "FeatureCollection", "features": feats}
