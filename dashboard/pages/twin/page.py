"""3D community twin: the old-city communities' buildings extruded in 3D, coloured by a chosen attribute,
with each building's record on click, the 15-minute living circle (who is outside each facility's walking
reach) and evacuation routes to the nearest open shelter under a hazard."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import auth, inputs, wall
from dashboard.components import empty_state, graph, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.twin import card
from dashboard.pages.twin.choice import ViewArgs
from dashboard.pages.twin.scene import (
    ATTRIBUTES,
    CAMERA_LABELS,
    CAMERAS,
    FACE_KEYS,
    Overlay,
    colouring,
    drawn_trace,
    faces,
    overlays,
    plan,
    scene,
    subtitle,
)
from dashboard.view import PageParams, acting, as_of_text, guarded, kept, page_layout, page_params
from queries import audit, meta, twin, twin_hazards, twin_view
from queries.errors import PoolError
from queries.scope import Scope, Viewer

dash.register_page(
    __name__,
    path="/twin",
    name="twin",
    title="社区三维孪生 · 3D community twin",
    order=5,
    ready="#twin-view-graph .gl-container canvas",
    roles=("operator", "leader", "department_head", "admin"),
)


def _twin_alert(v: Viewer) -> str | None:
    """Red when a dangerous building raised an alarm in the last day, amber within the week."""
    as_of = meta.pool_status().as_of
    if twin.alert_buildings(scope=v.scope(), as_of=as_of, days=1):
        return "red"
    return "amber" if twin.alert_buildings(scope=v.scope(), as_of=as_of, days=7) else None


wall.register(__name__, _twin_alert)


class ids:
    root = "twin-root"
    params = "twin-params-store"
    content = "twin-content"
    community = "twin-community-dropdown"
    color = "twin-color-dropdown"
    layer = "twin-layer-radio"
    kind = "twin-kind-dropdown"
    hazard = "twin-hazard-dropdown"
    camera = "twin-camera-radio"
    graph = "twin-view-graph"
    card = "twin-building-card"
    summary = "twin-summary-panel"
    kpis = "twin-kpis"
    notice = "twin-notice"
    orbit = "twin-orbit-interval"
    orbit_sink = "twin-orbit-store"
    sc_name = "twin-scenario-name-input"
    sc_renovate = "twin-scenario-renovate-input"
    sc_demolish = "twin-scenario-demolish-input"
    sc_storey = "twin-scenario-storey-input"
    sc_kind = "twin-scenario-kind-dropdown"
    sc_at = "twin-scenario-at-input"
    sc_compare = "twin-scenario-compare-button"
    sc_save = "twin-scenario-save-button"
    sc_saved = "twin-scenario-saved-dropdown"
    sc_result = "twin-scenario-result"
    plan = "twin-plan-graph"
    hz_points = "twin-hazard-points-input"
    hz_kind = "twin-hazard-kind-dropdown"
    hz_name = "twin-hazard-name-input"
    hz_save = "twin-hazard-save-button"
    hz_clear = "twin-hazard-clear-button"
    hz_result = "twin-hazard-result"


LAYERS = {
    "none": ("仅建筑", "Buildings only"),
    "coverage": ("15分钟生活圈", "15-minute living circle"),
    "evacuation": ("应急疏散", "Evacuation"),
}
SRC = "queries.twin"


def layout(**query: Any) -> html.Div:
    return page_layout(ids, lambda v, p: render(v, p, query), page_params(query), "twin")


def _options(pairs: Mapping[str, tuple[Any, ...]], lang: str) -> list[dict[str, str]]:
    return [{"label": both(zh, en, lang, " "), "value": k} for k, (zh, en, *_) in pairs.items()]


def _choice(
    query: dict[str, Any], key: str, allowed: dict[str, Any], default: str, errors: list[tuple[str, str]]
) -> str:
    raw = inputs.query_flat(query).get(key)
    if raw is None or raw == "":
        return default
    if raw in allowed:
        return str(raw)
    errors.append(
        (
            f"参数 {key} 的值 {inputs.quoted(raw)} 无效, 已使用默认值",
            f"Unknown {key} {inputs.quoted(raw)}; showing the default",
        )
    )
    return default


def render(v: Viewer, p: PageParams, query: dict[str, Any] | None = None) -> list[Any]:
    query = query or {}
    lang = p.lang
    comms = twin.communities(scope=v.scope())
    if comms.height == 0:
        return [empty_state(lang, ("您的范围内没有已建模的社区", "No modelled community in your scope"))]
    errors: list[tuple[str, str]] = []
    codes = {str(c): c for c in comms["code"].to_list()}
    community = int(codes[_choice(query, "community", codes, str(comms["code"][0]), errors)])
    color = _choice(query, "color", ATTRIBUTES, "reno_score", errors)
    building = inputs.query_flat(query).get("building")
    controls = html.Div(
        [
            _labelled(
                ("社区", "Community"),
                dcc.Dropdown(
                    id=ids.community,
                    options=[
                        {"label": f"{n} · {t}", "value": c}
                        for c, n, t in comms.select("code", "name_zh", "township_zh").iter_rows()
                    ],
                    value=community,
                    clearable=False,
                ),
                lang,
            ),
            _labelled(
                ("着色", "Colour by"),
                dcc.Dropdown(
                    id=ids.color,
                    options=_options({k: a[:2] for k, a in ATTRIBUTES.items()}, lang),
                    value=color,
                    clearable=False,
                ),
                lang,
            ),
            _labelled(
                ("图层", "Layer"),
                dcc.RadioItems(id=ids.layer, options=_options(LAYERS, lang), value="none", inline=True),
                lang,
            ),
            _dropdown(("设施类型", "Facility kind"), ids.kind, twin.FACILITY_KINDS, "elderly_care", lang),
            _labelled(
                ("灾害情景", "Hazard"),
                dcc.Dropdown(
                    id=ids.hazard, options=hazard_options(v, community, lang), value="flood", clearable=False
                ),
                lang,
            ),
            _labelled(
                ("视角", "Camera"),
                dcc.RadioItems(
                    id=ids.camera, options=_options(CAMERA_LABELS, lang), value="overview", inline=True
                ),
                lang,
            ),
        ],
        className="twin-controls card",
    )
    fig, kpis, summary = view(
        v, p, community=community, color=color, layer="none", kind="elderly_care", hazard="flood"
    )
    selected = None
    if building:
        try:
            selected = card.building_card(v, lang, community=community, building_id=int(building))
        except ValueError:
            errors.append(
                (
                    f"楼栋编号 {inputs.quoted(building)} 无效 (应为整数)",
                    f"Bad building id {inputs.quoted(building)} (a whole number)",
                )
            )
    return [
        notice(errors, lang) or html.Div(id=ids.notice),
        controls,
        html.Div(kpis, id=ids.kpis, className="twin-kpis"),
        html.Div(
            [
                html.Div(graph(ids.graph, fig, "chart twin-chart"), className="card twin-view"),
                html.Div(
                    [
                        html.Div(selected or card.hint(lang), id=ids.card, className="card twin-card"),
                        html.Div(summary, id=ids.summary, className="card twin-summary"),
                        scenario_panel(v, lang, community),
                    ],
                    className="twin-side",
                ),
            ],
            className="twin-row",
        ),
        draw_panel(v, p, community),
        dcc.Interval(id=ids.orbit, interval=200, disabled=p.theme != "wall"),
        dcc.Store(id=ids.orbit_sink),
    ]


def hazard_options(v: Viewer, community: int, lang: str) -> list[dict[str, str]]:
    """The preset hazards, then the community's drawn ones (value "h<id>")."""
    drawn = twin_hazards.hazards(scope=v.scope(), community_code=community)
    return _options(twin.HAZARDS, lang) + [
        {
            "label": f"{d.name} · {pick(*twin_hazards.KINDS[d.kind], lang)}",
            "value": f"{twin_hazards.PREFIX}{d.id}",
        }
        for d in drawn
    ]


def _hazard_value(value: object) -> str:
    """A hazard dropdown's value as posted: a preset name or "h" and a drawn hazard's id, else no hazard."""
    text = str(value) if isinstance(value, str | int) else ""
    if text in twin.HAZARDS:
        return text
    if text[:1] == twin_hazards.PREFIX and text[1:].isdigit() and len(text) < 11:
        return text
    return "none"


def _dropdown(
    label: tuple[str, str], cid: str, pairs: Mapping[str, tuple[Any, ...]], value: str, lang: str
) -> html.Div:
    """A labelled choice among named kinds, one always chosen."""
    return _labelled(
        label, dcc.Dropdown(id=cid, options=_options(pairs, lang), value=value, clearable=False), lang
    )


def _labelled(label: tuple[str, str], control: Any, lang: str) -> html.Div:
    return html.Div([bi_text(*label, lang, "twin-control-label"), control], className="twin-control")


def view(
    v: Viewer,
    p: PageParams,
    *,
    community: int,
    color: str,
    layer: str,
    kind: str,
    hazard: str,
    camera: str = "overview",
) -> tuple[Any, list[Any], list[Any]]:
    """(figure, KPI cards, side summary) of one community, colour and layer."""
    st = meta.pool_status()
    m = twin_view.mesh(scope=v.scope(), community_code=community, as_of=st.as_of)
    overlay, summary = _overlay(v, p, community=community, layer=layer, kind=kind, hazard=hazard)
    lang, scope = p.lang, v.scope()
    fig = scene(
        m,
        color_by=color,
        overlay=overlay,
        lang=lang,
        theme=p.theme,
        title=_title(community, lang),
        as_of=as_of_text(st.as_of),
        camera=camera if camera in CAMERAS else "overview",
    )
    kpis = card.kpis(twin_view.kpi_numbers(scope=scope, community_code=community, as_of=st.as_of), lang)
    return fig, kpis, summary


def _overlay(
    v: Viewer, p: PageParams, *, community: int, layer: str, kind: str, hazard: str
) -> tuple[Overlay, list[Any]]:
    """What a layer lays over the town, and the side summary that goes with it."""
    st = meta.pool_status()
    lang, scope = p.lang, v.scope()
    _, cov = twin.coverage(scope=scope, community_code=community, as_of=st.as_of)
    if layer == "coverage":
        inside = twin_view.covered(scope=scope, community_code=community, as_of=st.as_of, kind=kind)
        return Overlay("coverage", covered=inside, facility_kind=kind), card.coverage_table(cov, lang)
    if layer == "evacuation":
        res = twin_hazards.resolve(scope=scope, community_code=community, value=hazard)
        hz = res.hazard
        ev = twin.evacuation(scope=scope, community_code=community, as_of=st.as_of, hazard=hz)
        evv = twin_view.evacuation_view(scope=scope, community_code=community, as_of=st.as_of, hazard=hz)
        hit = (
            twin_hazards.impact(scope=scope, community_code=community, as_of=st.as_of, area=hz.flood)
            if hz.flood
            else None
        )
        overlay = Overlay("evacuation", evacuation=evv, area=hz.flood, area_kind=res.kind)
        return overlay, card.evacuation_summary(ev, res.label, hit, lang)
    return Overlay(), card.coverage_table(cov, lang)


def relayer(
    v: Viewer, p: PageParams, *, community: int, color: str, layer: str, kind: str, hazard: str
) -> tuple[Patch, list[Any]]:
    """A layer, facility kind or hazard change on the same town: a Patch of the buildings' colours, the
    two overlay traces and the legend note (the geometry and hover labels stay), and the side summary."""
    st = meta.pool_status()
    m = twin_view.mesh(scope=v.scope(), community_code=community, as_of=st.as_of)
    overlay, summary = _overlay(v, p, community=community, layer=layer, kind=kind, hazard=hazard)
    face, _, note = faces(m, color, overlay, p.lang)
    patch = Patch()
    for key in FACE_KEYS:
        if key in face:
            patch["data"][0][key] = face[key]
        else:
            del patch["data"][0][key]
    first = 2 + len(m.facilities)  # mesh, roads, one trace a facility kind, then the two overlays
    for n, trace in enumerate(overlays(overlay, p.lang)):
        patch["data"][first + n] = trace
    title = _title(community, p.lang)
    patch["layout"]["title"]["subtitle"]["text"] = subtitle(title[1], note, as_of_text(st.as_of), p.lang)
    return patch, summary


def _title(community: int, lang: str) -> tuple[str, str]:
    """(the question in the chosen language, the other language)."""
    name = twin_view.community_name(community_code=community)
    zh = f"{name}: 哪些楼栋最需要改造, 谁在服务范围之外?"
    en = f"{name}: which buildings need renovation most, and who is outside services' reach?"
    return pick(zh, en, lang), pick(en, zh, lang)


def recolour(v: Viewer, p: PageParams, *, community: int, color: str) -> Patch:
    """A colour change on the plain buildings layer: only the mesh's colours, hover labels and the legend
    note travel (a Patch), not the geometry."""
    st = meta.pool_status()
    m = twin_view.mesh(scope=v.scope(), community_code=community, as_of=st.as_of)
    face, labels, note = colouring(m, color, p.lang)
    patch = Patch()
    for key, value in face.items():
        patch["data"][0][key] = value
    patch["data"][0]["hovertext"] = labels
    title = _title(community, p.lang)
    patch["layout"]["title"]["subtitle"]["text"] = subtitle(title[1], note, as_of_text(st.as_of), p.lang)
    return patch


@callback(
    Output(ids.graph, "figure"),
    Output(ids.kpis, "children"),
    Output(ids.summary, "children"),
    Input(ids.community, "value"),
    Input(ids.color, "value"),
    Input(ids.layer, "value"),
    Input(ids.kind, "value"),
    Input(ids.hazard, "value"),
    State(ids.camera, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def update_view(
    community: object,
    color: object,
    layer: object,
    kind: object,
    hazard: object,
    camera: object,
    params: object,
) -> Any:
    p = PageParams.from_store(params)
    try:
        v = auth.current_viewer()
    except PoolError:
        return no_update, no_update, no_update
    if v is None:
        return no_update, no_update, no_update
    code = _community_code(community)
    if code is None:
        return no_update, no_update, no_update
    held = twin.communities(scope=v.scope())
    if code not in held["code"].to_list():  # a callback is its own request: the scope is checked again
        return (
            no_update,
            no_update,
            [notice([("无权查看该社区", "That community is outside your scope")], p.lang)],
        )
    color_ = inputs.one_of(color, tuple(ATTRIBUTES), "reno_score")
    layer_ = inputs.one_of(layer, tuple(LAYERS), "none")
    changed = dash.ctx.triggered_id
    if (changed == ids.kind and layer_ != "coverage") or (changed == ids.hazard and layer_ != "evacuation"):
        return no_update, no_update, no_update  # a choice the shown layer does not use
    if changed == ids.color and layer_ == "none":
        patch = guarded(lambda vv, pp: recolour(vv, pp, community=code, color=color_), p.lang, p)
        return (patch, no_update, no_update) if isinstance(patch, Patch) else (no_update, no_update, [patch])
    same_town = changed in (ids.color, ids.layer, ids.kind, ids.hazard)
    if changed in (ids.layer, ids.kind, ids.hazard):
        re = guarded(
            lambda vv, pp: relayer(
                vv,
                pp,
                community=code,
                color=color_,
                layer=layer_,
                kind=inputs.one_of(kind, tuple(twin.FACILITY_KINDS), "elderly_care"),
                hazard=_hazard_value(hazard),
            ),
            p.lang,
            p,
        )
        return (re[0], no_update, re[1]) if isinstance(re, tuple) else (no_update, no_update, [re])
    kind_ = inputs.one_of(kind, tuple(twin.FACILITY_KINDS), "elderly_care")
    args = ViewArgs(code, color_, layer_, kind_, _hazard_value(hazard), str(camera)).essential()
    out = guarded(
        lambda vv, pp: tuple(kept(view_of, vv, pp, args)),
        p.lang,
        p,
    )
    if not isinstance(out, tuple):
        return no_update, no_update, [out]
    fig, kpis, summary = out
    return fig, no_update if same_town else kpis, summary  # the KPIs are the community's, not the layer's


def view_of(v: Viewer, p: PageParams, a: ViewArgs) -> tuple[Any, list[Any], list[Any]]:
    """`view` of these choices, kept per data version (`view.kept`; a drawn hazard's save moves it): every
    read is cached on the version or is staff data that moves it, and the viewer counts through the scope
    alone."""
    return view(
        v,
        p,
        community=a.community,
        color=a.color,
        layer=a.layer,
        kind=a.kind,
        hazard=a.hazard,
        camera=a.camera,
    )


@callback(
    Output(ids.graph, "figure", allow_duplicate=True), Input(ids.camera, "value"), prevent_initial_call=True
)
def move_camera(camera: object) -> Any:
    patch = Patch()
    patch["layout"]["scene"]["camera"] = CAMERAS.get(str(camera), CAMERAS["overview"])
    return patch


@callback(
    Output(ids.card, "children"),
    Input(ids.graph, "clickData"),
    State(ids.community, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def show_building(click: object, community: object, params: object) -> Any:
    p = PageParams.from_store(params)
    bid = card.clicked_building(click)
    if bid is None:
        return no_update
    code = _community_code(community)
    if code is None:
        return no_update
    return guarded(lambda v, pp: card.building_card(v, pp.lang, community=code, building_id=bid), p.lang, p)


# the wall's slow orbit: the camera turns a little every tick, in the browser, with no server round trip
dash.clientside_callback(
    """function(n, fig) {
        if (!fig || !fig.layout || !fig.layout.scene) { return window.dash_clientside.no_update; }
        const gd = document.querySelector('#twin-view-graph .js-plotly-plot');
        if (!gd || !gd._fullLayout || !gd._fullLayout.scene) { return window.dash_clientside.no_update; }
        const cam = gd._fullLayout.scene.camera;
        const a = Math.atan2(cam.eye.y, cam.eye.x) + 0.01, r = Math.hypot(cam.eye.x, cam.eye.y);
        window.Plotly.relayout(gd, {'scene.camera.eye': {x: r * Math.cos(a), y: r * Math.sin(a), z: cam.eye.z}});
        return window.dash_clientside.no_update;
    }""",
    Output(ids.orbit_sink, "data"),
    Input(ids.orbit, "n_intervals"),
    State(ids.graph, "figure"),
    prevent_initial_call=True,
)


def _community_code(value: object) -> int | None:
    """A community code from a callback's input: a 12-digit NBS code, or None (anyone can post anything
    to a callback, and a number past 64 bits would reach the database as an overflow)."""
    try:
        code = int(str(value))
    except ValueError:
        return None
    return code if 0 < code < 10**12 else None


def draw_panel(v: Viewer, p: PageParams, community: int) -> html.Div:
    """Draw a hazard area on the plan (click its corners, or type them), name it, save it: it joins the
    hazard list and the 3D view shows its evacuation."""
    lang, st = p.lang, meta.pool_status()
    m = twin_view.mesh(scope=v.scope(), community_code=community, as_of=st.as_of)
    bounds = twin_hazards.extent(community_code=community)
    fig = plan(m, (), bounds, lang=lang, theme=p.theme, as_of=as_of_text(st.as_of))
    return html.Div(
        [
            html.Div(graph(ids.plan, fig, "chart twin-plan-chart"), className="card"),
            html.Div(
                [
                    bi_text("手绘灾害区域", "Draw a hazard area", lang, "card-title"),
                    html.P(
                        both(
                            "在左侧平面图上依次点击区域的顶点 (或输入 x,y; x,y ...), 选择类型并命名后保存",
                            "Click the area's corners in order on the plan (or type x,y; x,y ...), pick a kind,"
                            " name it and save",
                            lang,
                            " / ",
                        ),
                        className="twin-sub",
                    ),
                    _labelled(
                        ("顶点 (米)", "Corners (metres)"),
                        dcc.Textarea(id=ids.hz_points, value="", placeholder="120,40; 260,40; 200,160"),
                        lang,
                    ),
                    html.Div(
                        [
                            _dropdown(
                                ("灾害类型", "Hazard kind"), ids.hz_kind, twin_hazards.KINDS, "flood", lang
                            ),
                            _labelled(
                                ("名称", "Name"),
                                dcc.Input(
                                    id=ids.hz_name,
                                    type="text",
                                    placeholder=pick("例: 南湖片区内涝", "e.g. Nanhu waterlogging", lang),
                                ),
                                lang,
                            ),
                        ],
                        className="twin-controls",
                    ),
                    html.Button(
                        both("保存灾害区域", "Save hazard", lang, " "),
                        id=ids.hz_save,
                        className="panel-action",
                    ),
                    html.Button(
                        both("清除顶点", "Clear corners", lang, " "),
                        id=ids.hz_clear,
                        className="panel-action",
                    ),
                    html.Div(id=ids.hz_result),
                ],
                className="card",
            ),
        ],
        className="twin-draw",
    )


@callback(
    Output(ids.hz_points, "value"),
    Input(ids.plan, "clickData"),
    Input(ids.hz_clear, "n_clicks"),
    State(ids.hz_points, "value"),
    prevent_initial_call=True,
)
def add_corner(click: object, _clear: object, text: object) -> Any:
    """A click on the plan adds a corner (metres, rounded to 1 m); "Clear" empties the list."""
    if dash.ctx.triggered_id == ids.hz_clear:
        return ""
    spot = clicked_spot(click)
    if spot is None:
        return no_update
    before = text.strip().rstrip(";") if isinstance(text, str) else ""
    if before.count(";") >= twin_hazards.MAX_POINTS:
        return no_update
    return f"{before}; {spot[0]:.0f},{spot[1]:.0f}" if before else f"{spot[0]:.0f},{spot[1]:.0f}"


@callback(
    Output(ids.plan, "figure", allow_duplicate=True),
    Output(ids.hazard, "options", allow_duplicate=True),
    Output(ids.hz_points, "value", allow_duplicate=True),
    Output(ids.sc_saved, "options", allow_duplicate=True),
    Input(ids.community, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def switch_community(community: object, params: object) -> Any:
    """Another community: its plan, its drawn hazards and saved scenarios, no corners."""
    p = PageParams.from_store(params)
    code = _community_code(community)
    try:
        v = auth.current_viewer()
    except PoolError:
        v = None
    if v is None or code is None or code not in twin.communities(scope=v.scope())["code"].to_list():
        return no_update, no_update, no_update, no_update
    st = meta.pool_status()
    m = twin_view.mesh(scope=v.scope(), community_code=code, as_of=st.as_of)
    fig = plan(
        m,
        (),
        twin_hazards.extent(community_code=code),
        lang=p.lang,
        theme=p.theme,
        as_of=as_of_text(st.as_of),
    )
    saved = [
        {"label": n, "value": i} for i, n in twin_view.scenario_names(scope=v.scope(), community_code=code)
    ]
    return fig, hazard_options(v, code, p.lang), "", saved


def clicked_spot(click: object) -> tuple[float, float] | None:
    """(x, y) metres a click on the plan carries, or None."""
    if not isinstance(click, dict) or not isinstance(click.get("points"), list) or not click["points"]:
        return None
    pt = click["points"][0]
    try:
        return float(pt["x"]), float(pt["y"])
    except (KeyError, TypeError, ValueError):
        return None


@callback(
    Output(ids.plan, "figure"),
    Input(ids.hz_points, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def show_corners(text: object, params: object) -> Any:
    """Redraw only the drawn-area trace (a Patch of the plan's last trace); unreadable text draws nothing."""
    p = PageParams.from_store(params)
    try:
        pts = twin_hazards.parse_points(text)
    except twin.ScenarioError:
        pts = ()
    patch = Patch()
    patch["data"][3] = drawn_trace(pts, p.lang)
    return patch


@callback(
    Output(ids.hz_result, "children"),
    Output(ids.hazard, "options"),
    Output(ids.hazard, "value"),
    Output(ids.layer, "value"),
    Input(ids.hz_save, "n_clicks"),
    State(ids.community, "value"),
    State(ids.hz_name, "value"),
    State(ids.hz_kind, "value"),
    State(ids.hz_points, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def save_hazard(
    _n: object, community: object, name: object, kind: object, text: object, params: object
) -> Any:
    """Save the drawn area through the write door, then show its evacuation in 3D; a bad area or name is
    refused with the reason and nothing written."""
    p = PageParams.from_store(params)
    none = (no_update, no_update, no_update)
    try:
        v = auth.current_viewer()
    except PoolError:
        return (no_update, *none)
    code = _community_code(community)
    if v is None or code is None:
        return (no_update, *none)

    def run(vv: Viewer, pp: PageParams) -> Any:
        try:
            new_id = twin_hazards.save_hazard(
                actor=audit.Actor.of(vv),
                scope=vv.scope(),
                community_code=code,
                name=name if isinstance(name, str) else "",
                kind=kind if isinstance(kind, str) else "",
                points=twin_hazards.parse_points(
                    text if isinstance(text, str) and len(text) < 20_000 else "x"
                ),
            )
        except twin.ScenarioError as exc:
            return (
                html.P(
                    both(exc.zh, exc.en, pp.lang, " / "),
                    className="alert alert-amber",
                    id="twin-hazard-error",
                ),
                *none,
            )
        said = html.P(
            both(
                "灾害区域已保存, 三维视图显示其疏散情况",
                "Hazard saved; the 3D view shows its evacuation",
                pp.lang,
                " / ",
            ),
            className="alert alert-ok",
            id="twin-hazard-saved",
        )
        value = f"{twin_hazards.PREFIX}{new_id}"
        return said, hazard_options(vv, code, pp.lang), value, "evacuation"

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (out, *none)


def scenario_panel(v: Viewer, lang: str, community: int) -> html.Div:
    def box(cid: str, zh: str, en: str, placeholder: str = "12, 15") -> Any:
        return _labelled(
            (zh, en), dcc.Input(id=cid, type="text", placeholder=placeholder, debounce=True), lang
        )

    saved = twin_view.scenario_names(scope=v.scope(), community_code=community)
    return html.Div(
        [
            bi_text("改造方案: 改造前后对比", "Renovation scenario: before and after", lang, "card-title"),
            html.Div(
                [
                    box(ids.sc_renovate, "改造楼栋", "Renovate buildings"),
                    box(ids.sc_demolish, "拆除楼栋", "Demolish buildings"),
                    box(ids.sc_storey, "加层楼栋", "Add a storey"),
                    _labelled(
                        ("新增设施", "Add a facility"),
                        dcc.Dropdown(id=ids.sc_kind, options=_options(twin.FACILITY_KINDS, lang), value=None),
                        lang,
                    ),
                    box(ids.sc_at, "设施位于楼栋旁", "Facility next to building", "34"),
                    box(
                        ids.sc_name,
                        "方案名称",
                        "Scenario name",
                        pick("例: 老城一期", "e.g. old town phase 1", lang),
                    ),
                ],
                className="twin-controls",
            ),
            html.Button(both("对比", "Compare", lang, " "), id=ids.sc_compare, className="panel-action"),
            html.Button(both("保存方案", "Save", lang, " "), id=ids.sc_save, className="panel-action"),
            _labelled(
                ("已保存方案", "Saved scenarios"),
                dcc.Dropdown(
                    id=ids.sc_saved,
                    options=[{"label": n, "value": i} for i, n in saved],
                    value=None,
                ),
                lang,
            ),
            html.Div(id=ids.sc_result),
        ],
        className="card twin-scenario",
    )


@callback(
    Output(ids.sc_result, "children"),
    Output(ids.sc_saved, "options"),
    Input(ids.sc_compare, "n_clicks"),
    Input(ids.sc_save, "n_clicks"),
    Input(ids.sc_saved, "value"),
    State(ids.community, "value"),
    State(ids.sc_name, "value"),
    State(ids.sc_renovate, "value"),
    State(ids.sc_demolish, "value"),
    State(ids.sc_storey, "value"),
    State(ids.sc_kind, "value"),
    State(ids.sc_at, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def scenario(
    _c: object,
    _s: object,
    saved_id: object,
    community: object,
    name: object,
    renovate: object,
    demolish: object,
    storey: object,
    kind: object,
    at: object,
    params: object,
) -> Any:
    p = PageParams.from_store(params)
    try:
        v = auth.current_viewer()
    except PoolError:
        return no_update, no_update
    code = _community_code(community)
    if v is None or code is None:
        return no_update, no_update
    action = dash.ctx.triggered_id

    def run(vv: Viewer, pp: PageParams) -> Any:
        st = meta.pool_status()
        scope = vv.scope()
        if code not in twin.communities(scope=scope)["code"].to_list():  # its own request: check again
            return notice([("无权查看该社区", "That community is outside your scope")], pp.lang), no_update
        try:
            if action == ids.sc_saved:
                sid = _community_code(saved_id)  # any small positive whole number
                found = (
                    None
                    if sid is None
                    else twin_view.scenario_spec(scope=scope, community_code=code, scenario_id=sid)
                )
                if found is None:
                    return notice([("没有这个方案", "No such scenario")], pp.lang), no_update
                plan = found
            else:
                plan = _plan(scope, code, st.as_of, renovate, demolish, storey, kind, at)
            cmp = twin_view.comparison(scope=scope, community_code=code, as_of=st.as_of, scenario=plan)
            options: Any = no_update
            said: Any = None
            if action == ids.sc_save:
                twin.save_scenario(
                    actor=audit.Actor.of(vv),
                    scope=scope,
                    community_code=code,
                    name=str(name or ""),
                    scenario=plan,
                    as_of=st.as_of,
                )
                options = [
                    {"label": n, "value": i}
                    for i, n in twin_view.scenario_names(scope=scope, community_code=code)
                ]
                said = html.P(
                    both("方案已保存", "Scenario saved", pp.lang, " / "),
                    className="alert alert-ok",
                    id="twin-scenario-saved",
                )
        except twin.ScenarioError as exc:
            return html.P(
                both(exc.zh, exc.en, pp.lang, " / "), className="alert alert-amber", id="twin-scenario-error"
            ), no_update
        return [said, card.comparison_table(cmp, pp.lang)], options

    out = acting(run, p.lang, p)
    return out if isinstance(out, tuple) else (out, no_update)


def _plan(
    scope: Scope,
    code: int,
    as_of: int,
    renovate: object,
    demolish: object,
    storey: object,
    kind: object,
    at: object,
) -> twin.Scenario:
    facilities: tuple[tuple[str, float, float], ...] = ()
    if kind:
        spot = card.parse_ids(at)
        where = (
            twin_view.building_spot(scope=scope, community_code=code, as_of=as_of, building_id=spot[0])
            if spot and spot[0] < 2**31
            else None
        )
        if where is None:
            raise twin.ScenarioError(
                "请填写新设施旁的楼栋编号", "Give the building the new facility stands next to"
            )
        facilities = ((str(kind), where[0], where[1]),)
    return twin.Scenario(
        card.parse_ids(renovate), card.parse_ids(demolish), card.parse_ids(storey), facilities
    )
