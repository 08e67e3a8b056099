"""3D community twin: the old-city communities' buildings extruded in 3D, coloured by a chosen attribute,
with each building's record on click, the 15-minute living circle (who is outside each facility's walking
reach) and evacuation routes to the nearest open shelter under a hazard."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import auth, inputs, wall
from dashboard.components import empty_state, graph, notice
from dashboard.i18n import pick
from dashboard.pages.twin import card, drawing, scenarios  # noqa: F401  (their callbacks)
from dashboard.pages.twin.choice import ViewArgs
from dashboard.pages.twin.controls import (
    community_code,
    dropdown,
    hazard_options,
    hazard_value,
    labelled,
    options_of,
)
from dashboard.pages.twin.drawing import draw_panel
from dashboard.pages.twin.ids import ids
from dashboard.pages.twin.scenarios import scenario_panel
from dashboard.pages.twin.scene import (
    ATTRIBUTES,
    CAMERA_LABELS,
    CAMERAS,
    FACE_KEYS,
    Overlay,
    colouring,
    faces,
    overlays,
    scene,
    subtitle,
)
from dashboard.view import PageParams, as_of_text, guarded, kept, page_layout, page_params
from queries import meta, twin, twin_hazards, twin_view
from queries.errors import PoolError
from queries.scope import Viewer

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


LAYERS = {
    "none": ("仅建筑", "Buildings only"),
    "coverage": ("15分钟生活圈", "15-minute living circle"),
    "evacuation": ("应急疏散", "Evacuation"),
}
SRC = "queries.twin"


def layout(**query: Any) -> html.Div:
    return page_layout(ids, lambda v, p: render(v, p, query), page_params(query), "twin")


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
            labelled(
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
            labelled(
                ("着色", "Colour by"),
                dcc.Dropdown(
                    id=ids.color,
                    options=options_of({k: a[:2] for k, a in ATTRIBUTES.items()}, lang),
                    value=color,
                    clearable=False,
                ),
                lang,
            ),
            labelled(
                ("图层", "Layer"),
                dcc.RadioItems(id=ids.layer, options=options_of(LAYERS, lang), value="none", inline=True),
                lang,
            ),
            dropdown(("设施类型", "Facility kind"), ids.kind, twin.FACILITY_KINDS, "elderly_care", lang),
            labelled(
                ("灾害情景", "Hazard"),
                dcc.Dropdown(
                    id=ids.hazard, options=hazard_options(v, community, lang), value="flood", clearable=False
                ),
                lang,
            ),
            labelled(
                ("视角", "Camera"),
                dcc.RadioItems(
                    id=ids.camera, options=options_of(CAMERA_LABELS, lang), value="overview", inline=True
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
    code = community_code(community)
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
                hazard=hazard_value(hazard),
            ),
            p.lang,
            p,
        )
        return (re[0], no_update, re[1]) if isinstance(re, tuple) else (no_update, no_update, [re])
    kind_ = inputs.one_of(kind, tuple(twin.FACILITY_KINDS), "elderly_care")
    args = ViewArgs(code, color_, layer_, kind_, hazard_value(hazard), str(camera)).essential()
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
    code = community_code(community)
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
