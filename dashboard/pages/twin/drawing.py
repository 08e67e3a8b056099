"""The twin page's hazard drawing: corners clicked or typed on the plan, named and saved through the write
door; the plan follows the chosen community."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, Patch, State, callback, dcc, html, no_update

from dashboard import auth
from dashboard.components import graph
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.twin.controls import (
    community_code,
    dropdown,
    hazard_options,
    labelled,
)
from dashboard.pages.twin.ids import ids
from dashboard.pages.twin.scene import (
    drawn_trace,
    plan,
)
from dashboard.view import PageParams, acting, as_of_text
from queries import audit, meta, twin, twin_hazards, twin_view
from queries.errors import PoolError
from queries.scope import Viewer


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
                    labelled(
                        ("顶点 (米)", "Corners (metres)"),
                        dcc.Textarea(id=ids.hz_points, value="", placeholder="120,40; 260,40; 200,160"),
                        lang,
                    ),
                    html.Div(
                        [
                            dropdown(
                                ("灾害类型", "Hazard kind"), ids.hz_kind, twin_hazards.KINDS, "flood", lang
                            ),
                            labelled(
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
    code = community_code(community)
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
    code = community_code(community)
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
