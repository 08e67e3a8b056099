"""The twin's 3D scene as one plotly figure: buildings extruded from their footprints (one Mesh3d, a face
colour per building), roads, facilities, and the coverage or evacuation overlay. Plotly's WebGL draws it
with no request off the host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from plotly.colors import get_colorscale

from dashboard.figures import THEMES, chart
from dashboard.i18n import both, pick
from queries.twin import FACILITY_KINDS
from queries.twin_hazards import sheet
from queries.twin_view import EvacuationView, Mesh

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
    covered: np.ndarray | None = None  # per building row: within reach (coverage)
    facility_kind: str = ""
    evacuation: EvacuationView | None = None
    area: tuple[tuple[float, float], ...] = ()  # the hazard's area, drawn flat on the ground
    area_kind: str = "flood"


def colouring(m: Mesh, color_by: str, lang: str) -> tuple[dict[str, object], list[str], str]:
    """The buildings' colour by an attribute: (mesh trace properties, vertex hover labels, legend note).
    What a colour change sends as a Patch, so it is one function for the figure and the patch."""
    zh, en, uzh, uen, scale, col = ATTRIBUTES[color_by]
    values = m.values[col]
    face = {
        "intensity": values[m.owner].tolist() if len(m.owner) else [],
        "intensitymode": "cell",
        "colorscale": get_colorscale(scale),
        "cmin": float(values.min()) if len(values) else 0,
        "cmax": float(values.max()) if len(values) else 1,
        "colorbar": _colorbar(pick(uzh, uen, lang)),
        "showscale": True,
    }
    return (
        face,
        _labels(m, values, pick(zh, en, lang), lang),
        both(f"颜色: {zh} ({uzh})", f"colour: {en.lower()} ({uen})", lang),
    )


def _colorbar(title: str) -> dict[str, object]:
    return {"title": {"text": title}, "thickness": 14, "len": 0.6, "x": 1.0}


def _labels(m: Mesh, values: np.ndarray, name: str, lang: str) -> list[str]:
    b, fl = pick("楼栋", "Building", lang), pick("层", "floors", lang)
    per = [
        f"{b} {i}<br>{f} {fl} · {h:.0f} m<br>{name}: {v:g}"
        for i, f, h, v in zip(
            m.ids.tolist(), m.floors.tolist(), m.height.tolist(), values.tolist(), strict=True
        )
    ]
    return [per[k] for k in m.vert_owner.tolist()]


def subtitle(other_title: str, legend_note: str, as_of: str, lang: str) -> str:
    return f"{other_title}<br>{legend_note} · {both('数据截至', 'data as of', lang, ' ')} {as_of}"


FACE_KEYS = ("intensity", "intensitymode", "colorscale", "cmin", "cmax", "colorbar", "showscale", "facecolor")


def faces(m: Mesh, color_by: str, overlay: Overlay, lang: str) -> tuple[dict[str, object], list[str], str]:
    """The buildings' colours under a layer (mesh properties among FACE_KEYS), their hover labels (by the
    colour attribute) and the legend note."""
    face, labels, legend_note = colouring(m, color_by, lang)
    if overlay.kind == "coverage" and overlay.covered is not None:
        inside = overlay.covered
        face = {"facecolor": np.where(inside[m.owner], INSIDE, OUTSIDE).tolist() if len(m.owner) else []}
        face["showscale"] = False
        legend_note = both(
            f"红色: {FACILITY_KINDS[overlay.facility_kind][0]}步行可达范围外",
            f"red: outside walking reach of {FACILITY_KINDS[overlay.facility_kind][1].lower()}",
            lang,
        )
    elif overlay.kind == "evacuation" and overlay.evacuation is not None:
        val = overlay.evacuation.minutes
        face = {
            "intensity": np.where(np.isnan(val), 0.0, val)[m.owner].tolist() if len(m.owner) else [],
            "intensitymode": "cell",
            "colorscale": get_colorscale("Turbo"),
            "cmin": 0,
            "cmax": max(5.0, float(np.nanmax(val)) if np.isfinite(val).any() else 5.0),
            "colorbar": _colorbar(pick("步行分钟", "walking minutes", lang)),
            "showscale": True,
        }
        if np.isnan(val).any() and len(m.owner):
            face = {"facecolor": _stranded_faces(val, m.owner), "showscale": False}
        legend_note = both(
            "颜色: 到最近开放避难场所的步行时间; 深红: 无法撤离",
            "colour: walk to the nearest open shelter; dark red: cannot get out",
            lang,
        )
    return face, labels, legend_note


def overlays(overlay: Overlay, lang: str) -> list[dict[str, object]]:
    """The two overlay traces every scene ends with (routes, hazard area), hidden when the layer has none,
    so a layer change can replace them in place (a Patch) without knowing what was shown before."""
    ev = overlay.evacuation if overlay.kind == "evacuation" else None
    routes = _routes(ev or EvacuationView(np.zeros(0), [], []), lang)
    routes["visible"] = ev is not None
    area = _area(overlay.area, overlay.area_kind, lang)
    area["visible"] = bool(overlay.area)
    return [routes, area]


def scene(
    m: Mesh,
    *,
    color_by: str,
    overlay: Overlay,
    lang: str,
    theme: str,
    title: tuple[str, str],
    as_of: str,
    camera: str = "overview",
) -> dict[str, Any]:
    th = THEMES.get(theme, THEMES["desk"])
    face, labels, legend_note = faces(m, color_by, overlay, lang)
    data: list[dict[str, object]] = [
        {
            "type": "mesh3d",
            "name": pick("建筑", "Buildings", lang),
            "x": m.x,
            "y": m.y,
            "z": m.z,
            "i": m.i,
            "j": m.j,
            "k": m.k,
            "flatshading": True,
            "lighting": {"ambient": 0.55, "diffuse": 0.8, "specular": 0.05, "roughness": 0.9},
            "lightposition": {"x": -2000, "y": -3000, "z": 4000},
            # a plain list, not a typed array: dcc.Graph reads a click's customdata from the input trace,
            # where plotly.js leaves typed arrays encoded
            "customdata": m.ids[m.vert_owner].tolist() if len(m.vert_owner) else [],
            "hovertext": labels,
            "hoverinfo": "text",
            **face,
        },
        _roads(m, lang, th),
        *_facilities(m, lang),
        *overlays(overlay, lang),
    ]
    fs = int(str(th["font"]))
    x_span, y_span, z_max = m.span
    big = max(x_span, y_span, 1.0)
    # the house chart frame (title = the question, subtitle = the other language, legend note, as-of),
    # sent as a plain dict: a go.Figure deep-copies every array on its way to JSON (~20 ms here)
    frame = chart(
        data,
        title=title[0],
        subtitle=subtitle(title[1], legend_note, as_of, lang),
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
    return {"data": data, "layout": frame.layout.to_plotly_json()}


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


def _roads(m: Mesh, lang: str, th: dict[str, object]) -> dict[str, object]:
    return {
        "type": "scatter3d",
        "mode": "lines",
        "name": pick("道路", "Roads", lang),
        "x": m.road_x,
        "y": m.road_y,
        "z": [0.0 if x is not None else None for x in m.road_x],
        "line": {"color": "#94a3b8" if th is THEMES["desk"] else "#475569", "width": 5},
        "hoverinfo": "skip",
    }


def _facilities(m: Mesh, lang: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for kind, f in m.facilities.items():
        zh, en, minutes = FACILITY_KINDS[kind]
        out.append(
            {
                "type": "scatter3d",
                "mode": "markers",
                "name": pick(zh, en, lang),
                "x": f.x,
                "y": f.y,
                "z": np.full(len(f.x), 4.0),
                "marker": {
                    "size": 5 if kind == "hydrant" else 8,
                    "color": FACILITY_COLOURS[kind],
                    "symbol": "diamond" if kind == "shelter" else "circle",
                    "line": {"color": "#ffffff", "width": 1},
                },
                "hovertext": [
                    f"{n}<br>{pick('容量', 'capacity', lang)} {c} · {pick('步行圈', 'reach', lang)} {minutes:g} {pick('分钟', 'min', lang)}"
                    for n, c in zip(f.names, f.capacity, strict=True)
                ],
                "hoverinfo": "text",
            }
        )
    return out


def _routes(ev: EvacuationView, lang: str) -> dict[str, object]:
    return {
        "type": "scatter3d",
        "mode": "lines",
        "name": pick("疏散路线", "Evacuation routes", lang),
        "x": ev.route_x,
        "y": ev.route_y,
        "z": [1.5 if x is not None else None for x in ev.route_x],
        "line": {"color": "#0ea5e9", "width": 3},
        "opacity": 0.7,
        "hoverinfo": "skip",
    }


AREA_STYLE = {
    "flood": ("#38bdf8", ("淹没区", "Flooded area")),
    "fire": ("#f97316", ("火灾区", "Fire area")),
    "landslide": ("#a16207", ("滑坡区", "Landslide area")),
}


def _area(poly: tuple[tuple[float, float], ...], kind: str, lang: str) -> dict[str, object]:
    """The hazard's area as a flat translucent sheet just above the ground (triangulated in queries:
    a drawn area may be concave)."""
    colour, name = AREA_STYLE.get(kind, AREA_STYLE["flood"])
    xs, ys, i, j, k = sheet(poly)
    return {
        "type": "mesh3d",
        "name": pick(*name, lang),
        "x": xs,
        "y": ys,
        "z": [0.5] * len(xs),
        "i": i,
        "j": j,
        "k": k,
        "color": colour,
        "opacity": 0.45,
        "showlegend": True,
        "hoverinfo": "name",
    }


def plan(
    m: Mesh,
    drawn: tuple[tuple[float, float], ...],
    bounds: tuple[float, float, float, float],
    *,
    lang: str,
    theme: str,
    as_of: str,
) -> dict[str, Any]:
    """The community seen from above, to draw a hazard area on: footprints, roads, the corners clicked so
    far (the last trace, patched as corners come), and an invisible grid that turns a click anywhere into
    metres (plotly reports clicks on data only)."""
    th = THEMES.get(theme, THEMES["desk"])
    x0, y0, x1, y1 = bounds
    step = max(4.0, max(x1 - x0, y1 - y0) / 120)
    gx = np.arange(x0 - 40, x1 + 40 + step, step)
    gy = np.arange(y0 - 40, y1 + 40 + step, step)
    data: list[dict[str, object]] = [
        {
            "type": "heatmap",
            "x": np.round(gx, 1),
            "y": np.round(gy, 1),
            "z": np.zeros((len(gy), len(gx)), dtype=np.int8),
            "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            "showscale": False,
            "hovertemplate": "%{x:.0f} m, %{y:.0f} m<extra></extra>",
            "name": "grid",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": m.road_x,
            "y": m.road_y,
            "line": {"color": "#94a3b8" if th is THEMES["desk"] else "#475569", "width": 3},
            "name": pick("道路", "Roads", lang),
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": m.outline_x,
            "y": m.outline_y,
            "fill": "toself",
            "fillcolor": "rgba(100,116,139,0.35)",
            "line": {"color": "#64748b", "width": 1},
            "name": pick("建筑", "Buildings", lang),
            "hoverinfo": "skip",
        },
        drawn_trace(drawn, lang),
    ]
    frame = chart(
        data,
        title=pick(
            "灾害区域在哪里? 在平面图上依次点击顶点",
            "Where is the hazard? Click its corners on the plan",
            lang,
        ),
        subtitle=(
            f"{pick('Where is the hazard? Click its corners on the plan', '灾害区域在哪里? 在平面图上依次点击顶点', lang)}"
            f"<br>{both('坐标: 米 (东, 北)', 'coordinates: metres (east, north)', lang, ' ')}"
            f" · {both('数据截至', 'data as of', lang, ' ')} {as_of}"
        ),
        theme=theme,
        # metres are metres both ways; the plot narrows to the community rather than widening the range
        xaxis={
            "title": {"text": pick("东 (米)", "east (m)", lang)},
            "range": [x0 - 40, x1 + 40],
            "scaleanchor": "y",
            "constrain": "domain",
            "showgrid": False,
        },
        yaxis={
            "title": {"text": pick("北 (米)", "north (m)", lang)},
            "range": [y0 - 40, y1 + 40],
            "constrain": "domain",
            "showgrid": False,
        },
        height=560,
        uirevision="twin-plan",
        hovermode="closest",
        dragmode=False,
    )
    return {"data": data, "layout": frame.layout.to_plotly_json()}


def drawn_trace(drawn: tuple[tuple[float, float], ...], lang: str) -> dict[str, object]:
    """The corners clicked so far, closed back to the first when there are three or more."""
    pts = list(drawn) + ([drawn[0]] if len(drawn) >= 3 else [])
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [p[0] for p in pts],
        "y": [p[1] for p in pts],
        "fill": "toself" if len(drawn) >= 3 else "none",
        "fillcolor": "rgba(249,115,22,0.3)",
        "line": {"color": "#f97316", "width": 3},
        "marker": {"size": 9, "color": "#f97316"},
        "name": pick("手绘区域", "Drawn area", lang),
        "hoverinfo": "skip",
    }
