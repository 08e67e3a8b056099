"""Urban-rural digital divide: townships on Mengzi's real outline, the divide index and its two parts,
the national benchmarks, offline counters, and where to invest first."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import dash
import polars as pl
from dash import Input, Output, State, callback, dcc, html
from plotly.io.json import to_json_plotly

from dashboard import inputs, wall
from dashboard.app import settings
from dashboard.components import empty_state, graph, notice
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.divide import charts
from dashboard.pages.divide import components as dc
from dashboard.view import PageParams, as_of_text, guarded, page_params, viewer
from queries import audit, divide, geo, meta
from queries.errors import PoolError
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/divide",
    name="divide",
    title="数字鸿沟 · Digital divide",
    order=5,
    ready="#divide-map .leaflet-townships-pane path",
    roles=("operator", "leader", "department_head", "admin"),
)


class ids:
    root = "divide-root"
    params = "divide-params-store"
    content = "divide-content"
    metric = "divide-metric-dropdown"
    period = "divide-period-dropdown"
    map = "divide-map"
    geojson = "divide-map-geojson"
    legend = "divide-legend"
    panel = "divide-panel"
    trend = "divide-trend-graph"
    bench = "divide-bench-graph"
    rank = "divide-rank-table"
    csv = "divide-export-csv-button"
    xlsx = "divide-export-xlsx-button"
    download = "divide-download"
    notice = "divide-notice"


def _alert(v: Viewer) -> str | None:
    """Amber when a township's platform use fell by 40 % or more in the last week."""
    drops = divide.use_drops(scope=v.scope(), as_of_day=meta.pool_status().as_of_day)
    return "amber" if drops.height else None


wall.register(__name__, _alert)


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    flat = inputs.query_flat(query)
    try:
        per = divide.periods()
    except PoolError:
        per = []
    ch = dc.choose(flat, per)
    opts = [{"label": both(m.zh, m.en, p.lang, " · "), "value": k} for k, m in dc.METRICS.items()]
    controls = html.Div(
        [
            bi_text("数字鸿沟", "Digital divide", p.lang, "divide-title"),
            dcc.Dropdown(
                id=ids.metric, options=opts, value=ch.metric, clearable=False, className="divide-dd"
            ),
            dcc.Dropdown(
                id=ids.period, options=per, value=ch.period, clearable=False, className="divide-dd-period"
            ),
            html.Button(both("导出 CSV", "Export CSV", p.lang), id=ids.csv, className="btn"),
            html.Button(both("导出 Excel", "Export Excel", p.lang), id=ids.xlsx, className="btn"),
            dcc.Download(id=ids.download),
        ],
        className="divide-controls card-tools-row",
    )
    store = {**p.store(), "township": ch.township}
    return html.Div(
        [
            dcc.Store(id=ids.params, data=store),
            controls,
            html.Div(notice(list(ch.messages), p.lang), id=ids.notice),
            html.Div(
                guarded(render, p.lang, p, ch.metric, ch.period, ch.township),
                id=ids.content,
                className="divide-body",
            ),
        ],
        id=ids.root,
        className="divide",
    )


def _period(value: object) -> str | None:
    per = divide.periods()
    return value if isinstance(value, str) and value in per else (per[-1] if per else None)


def render(v: Viewer, p: PageParams, metric: str, period: str | None, township: int | None) -> Any:
    st = meta.pool_status()
    scope = v.scope()
    if period is None:
        return empty_state(p.lang, ("数据池中还没有数字鸿沟指标", "The pool holds no divide indicators yet"))
    table = divide.township_table(scope=scope, period=period)
    if table.is_empty():
        return empty_state(p.lang, ("您范围内没有乡镇的指标", "No township indicators in your scope"))
    asof = as_of_text(st.as_of)
    m = dc.METRICS[metric]
    outlines = geo.township_outlines()
    codes = table["township_code"].to_list()
    selected = township if township is not None and township in codes else int(codes[0])
    towns, cuts = dc.township_features(outlines, table, m, selected, p.lang)
    bench = divide.benchmarks(scope=scope)
    rank = divide.invest_ranking(scope=scope, period=period)
    wall_ = p.theme == "wall"
    mapcard = html.Div(
        [
            html.Div(
                [
                    bi_text("哪里的数字鸿沟最大?", "Where is the digital divide widest?", p.lang),
                    html.Span(
                        pick(f" · {period} · 数据截至 {asof}", f" · {period} · as of {asof}", p.lang),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            html.Div(
                [
                    html.Div(
                        dc.leaflet_map(ids.geojson, towns, geo.county_outlines(), settings().basemap_url),
                        id=ids.map,
                        className="divide-mapbox",
                    ),
                    html.Div(dc.legend(m, cuts, p.lang), id=ids.legend),
                ],
                className="divide-mapwrap",
            ),
        ],
        className="card divide-mapcard",
    )
    panelcard = html.Div(
        panel_children(scope, period, selected, asof, p), id=ids.panel, className="card divide-panel"
    )
    benchcard = html.Div(
        graph(ids.bench, charts.benchmark_figure(bench, asof, p.lang, p.theme)),
        className="card chart-card divide-bench",
    )
    rankcard = html.Div(
        [
            html.Div(
                [
                    bi_text("先投哪里? 按需要排序", "Where to invest first, by need", p.lang),
                    html.Span(
                        pick(
                            f" · {period} · 指数越高越需要", f" · {period} · higher index = more need", p.lang
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            html.Div(dc.ranking_table(rank, p.lang, 8 if wall_ else rank.height), id=ids.rank),
        ],
        className="card divide-rankcard",
    )
    return [
        html.Div(
            dc.kpis(divide.summary(scope=scope, period=period), period, p.lang),
            className="ov-kpis divide-kpis",
        ),
        html.Div(
            [mapcard, panelcard, html.Div([benchcard, rankcard], className="divide-side")],
            className="divide-grid",
        ),
    ]


def panel_children(scope: Any, period: str, code: int, asof: str, p: PageParams) -> list[Any]:
    got = divide.township_panel(scope=scope, period=period, township_code=code)
    if got is None:
        return [empty_state(p.lang, ("该乡镇不在您的范围内", "This township is outside your scope"))]
    r = got["row"]
    name = pick(r["name_zh"], r["name_en"], p.lang)
    return [
        *dc.panel(r, got["schematic"], p.lang),
        graph(
            ids.trend, charts.trend_figure(got["trend"], name, asof, p.lang, p.theme), "chart divide-trend"
        ),
    ]


@callback(
    Output(ids.content, "children"),
    Input("app-refresh-interval", "n_intervals"),
    Input(ids.period, "value"),
    State(ids.metric, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def refresh(_: int | None, period: object, metric: object, params: object) -> Any:
    p = PageParams.from_store(params)
    town = inputs.store(params).get("township")
    try:
        per = _period(period)
    except PoolError:
        per = None
    return guarded(
        render,
        p.lang,
        p,
        inputs.one_of(metric, dc.METRICS, "index"),
        per,
        town if isinstance(town, int) else None,
    )


@callback(
    Output(ids.geojson, "data"),
    Output(ids.legend, "children"),
    Input(ids.metric, "value"),
    State(ids.period, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def switch_metric(metric: object, period: object, params: object) -> Any:
    p = PageParams.from_store(params)
    m = dc.METRICS[inputs.one_of(metric, dc.METRICS, "index")]
    got = _viewer_table(period)
    if got is None:
        return dash.no_update, dash.no_update
    towns, cuts = dc.township_features(geo.township_outlines(), got[1], m, None, p.lang)
    return towns, dc.legend(m, cuts, p.lang)


def _viewer_table(period: object) -> tuple[Any, pl.DataFrame] | None:
    """(scope, township table) of the viewer for the period the browser sent; None when there is
    nothing to show (no pool, no login, no indicators): the callback leaves the page as it is."""
    try:
        scope = viewer().scope()
        per = _period(period)
        if per is None:
            return None
        return scope, divide.township_table(scope=scope, period=per)
    except (PoolError, PermissionError):
        return None


@functools.lru_cache(maxsize=256)
def _panel_json(scope: Any, period: str, code: int, asof: str, p: PageParams, version: str) -> Any:
    """The panel as plain JSON, kept per worker for the pool's data version: a click on a township
    answers without rebuilding the figure and the component tree (the panel's p95 under load)."""
    return json.loads(to_json_plotly(panel_children(scope, period, code, asof, p)))


@callback(
    Output(ids.panel, "children"),
    Input(ids.geojson, "clickData"),
    State(ids.period, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def pick_township(click: object, period: object, params: object) -> Any:
    p = PageParams.from_store(params)
    props = inputs.store(inputs.store(click).get("properties"))
    code = props.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not 0 < code < 10**9:
        return dash.no_update
    try:
        scope = viewer().scope()
        per = _period(period)
        if per is None:
            return dash.no_update
        st = meta.pool_status()
        return _panel_json(scope, per, code, as_of_text(st.as_of), p, st.data_version)
    except (PoolError, PermissionError):
        return dash.no_update


EXPORT_LABELS = {
    "rank": "排序 Rank",
    "township_code": "区划代码 Code",
    "name_zh": "乡镇(街道)",
    "name_en": "Township",
    "index": "数字鸿沟指数 Divide index (0-100)",
    divide.INFRA: "基础设施分项 Infrastructure part (0-100)",
    divide.SOCIO: "社会经济分项 Socio-economic part (0-100)",
    "action_zh": "先做什么",
    "action_en": "Invest first in",
    "population": "常住人口 Residents",
    "people_offline": "未上网居民 Residents offline",
    "people_65": "65岁及以上 Aged 65+",
    "people_minority": "少数民族 Ethnic minority",
    "period": "统计期 Period",
}


def xlsx_bytes(frame: pl.DataFrame, labels: dict[str, str], header: str) -> bytes:
    """The same table as the CSV, as an Excel workbook: the header line on top, labelled columns."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "invest"
    ws.append([header])
    ws.append(list(labels.values()))
    for row in frame.select(list(labels)).iter_rows():
        ws.append([round(v, 4) if isinstance(v, float) else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@callback(
    Output(ids.download, "data"),
    Input(ids.csv, "n_clicks"),
    Input(ids.xlsx, "n_clicks"),
    State(ids.period, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def export(_csv: int | None, _xlsx: int | None, period: object, params: object) -> Any:
    """The investment ranking for a meeting, logged on the responsibility chain like every export."""
    p = PageParams.from_store(params)
    kind = "xlsx" if dash.ctx.triggered_id == ids.xlsx else "csv"
    try:
        v = viewer()
        per = _period(period)
        if per is None:
            return dash.no_update
        st = meta.pool_status()
        frame = divide.invest_ranking(scope=v.scope(), period=per)
        audit.log_read(
            audit.Actor.of(v), f"export.{kind}", "divide_ranking", per, detail={"rows": frame.height}
        )
    except (PoolError, PermissionError):
        return dash.no_update
    header = both(
        f"{per} 季度, 数据截至 {as_of_text(st.as_of)}",
        f"quarter {per}, data as of {as_of_text(st.as_of)}",
        p.lang,
        " / ",
    )
    name = f"divide-invest-{per}"
    if kind == "xlsx":
        return dcc.send_bytes(xlsx_bytes(frame, EXPORT_LABELS, header), f"{name}.xlsx")
    return dcc.send_string(csv_for_excel(frame, EXPORT_LABELS, header), f"{name}.csv")
