"""Where the shipped outline files are (kept apart from make.py, which needs the source package)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
COUNTIES = HERE / "honghe_counties.geojson"
SCHEMATIC = HERE / "mengzi_townships_schematic.geojson"
