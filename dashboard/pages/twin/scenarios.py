"""The twin page's renovation scenarios: before and after, compared and saved through the write door."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import auth
from dashboard.components import notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.twin import card
from dashboard.pages.twin.controls import (
    community_code,
    labelled,
    options_of,
)
from dashboard.pages.twin.ids import ids
from dashboard.view import PageParams, acting
from queries import audit, meta, twin, twin_view
from queries.errors import PoolError
from queries.scope import Scope, Viewer


def scenario_panel(v: Viewer, lang: str, community: int) -> html.Div:
    def box(cid: str, zh: str, en: str, placeholder: str = "12, 15") -> Any:
        return labelled(
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
                    labelled(
                        ("新增设施", "Add a facility"),
                        dcc.Dropdown(
                            id=ids.sc_kind, options=options_of(twin.FACILITY_KINDS, lang), value=None
                        ),
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
            labelled(
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
    code = community_code(community)
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
                sid = community_code(saved_id)  # any small positive whole number
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
