"""The twin's 3D scene as one plotly figure: buildings extruded from their footprints (one Mesh3d, a face
colour per building), roads, facilities, and the coverage or evacuation overlay. Plotly's WebGL draws it
with no request off the host."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.colors import get_colorscale

from dashboard.figures import THEMES, chart
from dashboard.i18n import both, pick
from queries.twin import FACILITY_KINDS, Evacuation

# attribute -> (zh, en, unit zh, unit en, colour scale, building frame column)
ATTRIBUTES: dict[str, tuple[str, str, str, str, str, str]] = {
    "reno_score": ("改造需求", "Renovation need", "分 (0-100)", "score 0-100", "YlOrRd", "reno_score"),
    "age": ("楼龄", "Building age", "年", "years", "Viridis", "age"),
    "condition": (
        "房屋状况",
        "Condition",
        "级 (1 完好-4 危房)",
        "grade 1 good - 4 dangerous",
        "RdYlGn_r",
        "condition",
    ),
    "residents": ("居住人口", "Residents", "人", "people", "Blues", "residents"),
    "share_65": ("65岁以上占比", "Share aged 65+", "%", "%", "Purples", "share_65_pct"),
    "open_cases": (
        "近30日事件与告警",
        "Cases and alarms, last 30 days",
        "件",
        "events",
        "Reds",
        "open_cases",
    ),
}
FACILITY_COLOURS = {
    "clinic": "#e11d48",
    "school": "#2563eb",
    "kindergarten": "#f59e0b",
    "elderly_care": "#7c3aed",
    "market": "#16a34a",
    "parking": "#64748b",
    "hydrant": "#dc2626",
    "service_counter": "#0891b2",
    "shelter": "#059669",
}
CAMERAS: dict[str, dict[str, object]] = {
    "overview": {"eye": {"x": 1.25, "y": -1.25, "z": 0.9}, "up": {"x": 0, "y": 0, "z": 1}},
    "street": {"eye": {"x": 0.55, "y": -0.75, "z": 0.12}, "up": {"x": 0, "y": 0, "z": 1}},
    "north": {"eye": {"x": 0.0, "y": -0.001, "z": 2.1}, "up": {"x": 0, "y": 1, "z": 0}},
}
CAMERA_LABELS = {
    "overview": ("总览", "Overview"),
    "street": ("街景", "Street level"),
    "north": ("正北俯视", "North up"),
}
OUTSIDE, INSIDE, STRANDED = "#dc2626", "#cbd5e1", "#7f1d1d"


@dataclass(frozen=True)
class Overlay:
    """What the scene shows on top of the town: nothing, one facility kind's reach, or an evacuation."""

    kind: str = "none"  # none | coverage | evacuation
    covered: dict[int, bool] | None = None  # building id -> within reach (coverage)
    facility_kind: str = ""
    evacuation: Evacuation | None = None
    flood: tuple[tuple[float, float], ...] = ()


def with_derived(bld: pl.DataFrame, year: int) -> pl.DataFrame:
    return bld.with_columns(
        (pl.lit(year) - pl.col("year_built")).alias("age"),
        (pl.col("share_65") * 100).round(1).alias("share_65_pct"),
    )


def _prism(
    bld: pl.DataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (x, y, z) and triangles (i, j, k) of every footprint extruded to its height: a roof fan
    and two triangles per wall; and the building index (row) of every triangle and every vertex."""
    xs: list[float] = []
    ys: list[float] = []
    zs: list[float] = []
    tri: list[tuple[int, int, int]] = []
    owner: list[int] = []
    vown: list[int] = []
    for n, (ring_json, h) in enumerate(bld.select("footprint", "height_m").iter_rows()):
        ring = json.loads(ring_json)
        if ring[0] == ring[-1]:
            ring = ring[:-1]
        m, base = len(ring), len(xs)
        vown += [n] * (2 * m)
        for x, y in ring:
            xs += [x, x]
            ys += [y, y]
            zs += [0.0, h]
        for k in range(1, m - 1):  # roof: footprints are convex rectangles from the generator
            tri.append((base + 1, base + 2 * k + 1, base + 2 * (k + 1) + 1))
            owner.append(n)
        for k in range(m):
            a, b = base + 2 * k, base + 2 * ((k + 1) % m)
            tri += [(a, b, b + 1), (a, b + 1, a + 1)]
            owner += [n, n]
    t = np.asarray(tri, dtype=np.int32).reshape(-1, 3)
    own = np.asarray(owner, dtype=np.int32)
    return np.asarray(xs), np.asarray(ys), np.asarray(zs), t, own, np.asarray(vown, dtype=np.int32)


def scene(
    bld: pl.DataFrame,
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    fac: pl.DataFrame,
    *,
    color_by: str,
    overlay: Overlay,
    lang: str,
    theme: str,
    title: tuple[str, str],
    as_of: str,
    camera: str = "overview",
) -> go.Figure:
    th = THEMES.get(theme, THEMES["desk"])
    zh, en, uzh, uen, scale, col = ATTRIBUTES[color_by]
    xs, ys, zs, t, owner, vert_owner = _prism(bld)
    ids = bld["id"].to_numpy()
    data: list[dict[str, object]] = []
    colorbar = {"title": {"text": pick(uzh, uen, lang)}, "thickness": 14, "len": 0.6, "x": 1.0}
    if overlay.kind == "coverage" and overlay.covered is not None:
        inside = np.array([overlay.covered.get(int(i), False) for i in ids])
        face = {"facecolor": np.where(inside[owner], INSIDE, OUTSIDE).tolist()} if len(owner) else {}
        legend_note = both(
            f"红色: {FACILITY_KINDS[overlay.facility_kind][0]}步行可达范围外",
            f"red: outside walking reach of {FACILITY_KINDS[overlay.facility_kind][1].lower()}",
            lang,
        )
    elif overlay.kind == "evacuation" and overlay.evacuation is not None:
        minutes = dict(overlay.evacuation.routes.select("building_id", "minutes").iter_rows())
        val = np.array([minutes.get(int(i)) if minutes.get(int(i)) is not None else np.nan for i in ids])
        face = {
            "intensity": np.where(np.isnan(val), 0.0, val)[owner] if len(owner) else [],
            "intensitymode": "cell",
            "colorscale": get_colorscale("Turbo"),
            "cmin": 0,
            "cmax": max(5.0, float(np.nanmax(val)) if np.isfinite(val).any() else 5.0),
            "colorbar": {**colorbar, "title": {"text": pick("步行分钟", "walking minutes", lang)}},
        }
        stranded = np.isnan(val)
        if stranded.any() and len(owner):
            face = {"facecolor": _stranded_faces(val, owner)}
        legend_note = both(
            "颜色: 到最近开放避难场所的步行时间; 深红: 无法撤离",
            "colour: walk to the nearest open shelter; dark red: cannot get out",
            lang,
        )
    else:
        values = bld[col].to_numpy().astype(float)
        face = {
            "intensity": values[owner] if len(owner) else [],
            "intensitymode": "cell",
            "colorscale": get_colorscale(scale),
            "cmin": float(values.min()) if len(values) else 0,
            "cmax": float(values.max()) if len(values) else 1,
            "colorbar": colorbar,
        }
        legend_note = both(f"颜色: {zh} ({uzh})", f"colour: {en.lower()} ({uen})", lang)
    labels = [
        f"{pick('楼栋', 'Building', lang)} {i}<br>{f} {pick('层', 'floors', lang)} · {h:.0f} m<br>{pick(zh, en, lang)}: {v}"
        for i, f, h, v in bld.select("id", "floors", "height_m", col).iter_rows()
    ]
    data.append(
        {
            "type": "mesh3d",
            "name": pick("建筑", "Buildings", lang),
            "x": xs,
            "y": ys,
            "z": zs,
            "i": t[:, 0],
            "j": t[:, 1],
            "k": t[:, 2],
            "flatshading": True,
            "lighting": {"ambient": 0.55, "diffuse": 0.8, "specular": 0.05, "roughness": 0.9},
            "lightposition": {"x": -2000, "y": -3000, "z": 4000},
            # a plain list, not a typed array: dcc.Graph reads a click's customdata from the input trace,
            # where plotly.js leaves typed arrays encoded
            "customdata": ids[vert_owner].tolist() if len(vert_owner) else [],
            "hovertext": [labels[k] for k in vert_owner],
            "hoverinfo": "text",
            "showscale": "facecolor" not in face,
            **face,
        }
    )
    data.append(_roads(nodes, edges, lang, th))
    data += _facilities(fac, lang, theme)
    if overlay.kind == "evacuation" and overlay.evacuation is not None:
        data.append(_routes(overlay.evacuation, bld, nodes, fac, lang))
    if overlay.flood:
        data.append(_flood(overlay.flood, lang))
    fs = int(str(th["font"]))
    x_span = float(xs.max() - xs.min()) if len(xs) else 1.0
    y_span = float(ys.max() - ys.min()) if len(ys) else 1.0
    z_max = float(zs.max()) if len(zs) else 1.0
    big = max(x_span, y_span, 1.0)
    # the house chart frame (title = the question, subtitle = the other language, legend note, as-of)
    return chart(
        data,
        title=title[0],
        subtitle=f"{title[1]}<br>{legend_note} · {both('数据截至', 'data as of', lang, ' ')} {as_of}",
        theme=theme,
        margin={"l": 0, "r": 0, "t": int(str(th["title"])) + 30 + 2 * (fs + 2), "b": 0},
        showlegend=True,
        legend={"orientation": "h", "y": 0.0, "x": 0.0, "yanchor": "bottom", "font": {"size": fs - 1}},
        uirevision="twin",
        scene={
            "aspectmode": "manual",
            # true proportions: metres are metres on every axis, so the town looks like a town
            "aspectratio": {
                "x": x_span / big * 1.6,
                "y": y_span / big * 1.6,
                "z": max(z_max / big * 1.6, 0.05),
            },
            "xaxis": _axis(pick("东 (米)", "east (m)", lang), th),
            "yaxis": _axis(pick("北 (米)", "north (m)", lang), th),
            "zaxis": _axis(pick("高 (米)", "height (m)", lang), th),
            "camera": CAMERAS.get(camera, CAMERAS["overview"]),
            "bgcolor": th["bg"],
        },
    )


def _stranded_faces(val: np.ndarray, owner: np.ndarray) -> list[str]:
    """Face colours when some buildings cannot get out: those dark red, the others by walking time."""
    finite = val[np.isfinite(val)]
    top = max(5.0, float(finite.max())) if len(finite) else 5.0
    steps = ["#1d4ed8", "#0891b2", "#16a34a", "#ca8a04", "#ea580c"]
    colours = [
        STRANDED if not np.isfinite(v) else steps[min(len(steps) - 1, int(v / top * len(steps)))] for v in val
    ]
    return [colours[k] for k in owner]


def _axis(title: str, th: dict[str, object]) -> dict[str, object]:
    return {
        "title": {"text": title},
        "showbackground": False,
        "gridcolor": th["grid"],
        "zerolinecolor": th["grid"],
        "color": th["muted"],
    }


def _roads(nodes: pl.DataFrame, edges: pl.DataFrame, lang: str, th: dict[str, object]) -> dict[str, object]:
    xy = {i: (x, y) for i, x, y in nodes.select("id", "x", "y").iter_rows()}
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in edges.select("a", "b").iter_rows():
        xs += [xy[a][0], xy[b][0], None]
        ys += [xy[a][1], xy[b][1], None]
    return {
        "type": "scatter3d",
        "mode": "lines",
        "name": pick("道路", "Roads", lang),
        "x": xs,
        "y": ys,
        "z": [0.0 if x is not None else None for x in xs],
        "line": {"color": "#94a3b8" if th is THEMES["desk"] else "#475569", "width": 5},
        "hoverinfo": "skip",
    }


def _facilities(fac: pl.DataFrame, lang: str, theme: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for kind, (zh, en, minutes) in FACILITY_KINDS.items():
        f = fac.filter(pl.col("kind") == kind)
        if f.height == 0:
            continue
        out.append(
            {
                "type": "scatter3d",
                "mode": "markers",
                "name": pick(zh, en, lang),
                "x": f["x"].to_numpy(),
                "y": f["y"].to_numpy(),
                "z": np.full(f.height, 4.0),
                "marker": {
                    "size": 5 if kind == "hydrant" else 8,
                    "color": FACILITY_COLOURS[kind],
                    "symbol": "diamond" if kind == "shelter" else "circle",
                    "line": {"color": "#ffffff", "width": 1},
                },
                "hovertext": [
                    f"{n}<br>{pick('容量', 'capacity', lang)} {c} · {pick('步行圈', 'reach', lang)} {minutes:g} {pick('分钟', 'min', lang)}"
                    for n, c in f.select("name_zh", "capacity").iter_rows()
                ],
                "hoverinfo": "text",
            }
        )
    return out


def _routes(
    ev: Evacuation, bld: pl.DataFrame, nodes: pl.DataFrame, fac: pl.DataFrame, lang: str
) -> dict[str, object]:
    xy = {i: (x, y) for i, x, y in nodes.select("id", "x", "y").iter_rows()}
    centre = {i: (x, y) for i, x, y in bld.select("id", "cx", "cy").iter_rows()}
    shelter = {i: (x, y) for i, x, y in fac.select("id", "x", "y").iter_rows()}
    xs: list[float | None] = []
    ys: list[float | None] = []
    for bid, sid, path in (
        ev.routes.drop_nulls("shelter_id").select("building_id", "shelter_id", "path").iter_rows()
    ):
        pts = [centre[bid], *(xy[n] for n in path), shelter[sid]]
        xs += [p[0] for p in pts] + [None]
        ys += [p[1] for p in pts] + [None]
    return {
        "type": "scatter3d",
        "mode": "lines",
        "name": pick("疏散路线", "Evacuation routes", lang),
        "x": xs,
        "y": ys,
        "z": [1.5 if x is not None else None for x in xs],
        "line": {"color": "#0ea5e9", "width": 3},
        "opacity": 0.7,
        "hoverinfo": "skip",
    }


def _flood(poly: tuple[tuple[float, float], ...], lang: str) -> dict[str, object]:
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    n = len(poly)
    return {
        "type": "mesh3d",
        "name": pick("淹没区", "Flooded area", lang),
        "x": xs,
        "y": ys,
        "z": [0.5] * n,
        "i": [0] * (n - 2),
        "j": list(range(1, n - 1)),
        "k": list(range(2, n)),
        "color": "#38bdf8",
        "opacity": 0.45,
        "showlegend": True,
        "hoverinfo": "name",
    }
