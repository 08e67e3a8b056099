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

from dashboard import inputs, wall, warmup
from dashboard.app import settings
from dashboard.components import empty_state, graph, notice
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.divide import charts
from dashboard.pages.divide import components as dc
from dashboard.view import PageParams, as_of_text, guarded, page_params, remembered, viewer, warm
from queries import audit, divide, divide_io, geo, meta
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
    counters = "divide-counters"
    counter_town = "divide-counter-township-store"
    counter_list = "divide-counter-list"
    counter_pick = "divide-counter-dropdown"
    counter_opens = "divide-counter-opens-input"
    counter_closes = "divide-counter-closes-input"
    counter_days = "divide-counter-days-dropdown"
    counter_name = "divide-counter-name-input"
    counter_kind = "divide-counter-kind-dropdown"
    counter_save = "divide-counter-save-button"
    counter_close = "divide-counter-close-button"
    counter_add = "divide-counter-add-button"
    counter_msg = "divide-counter-message"


def _alert(v: Viewer) -> str | None:
    """Amber when a township's platform use fell by 40 % or more in the last week."""
    drops = divide.use_drops(scope=v.scope(), as_of_day=meta.pool_status().as_of_day)
    return "amber" if drops.height else None


wall.register(__name__, _alert)


def _warm(v: Viewer, p: PageParams) -> None:
    ch = dc.choose({}, divide.periods())
    warm(v, render, p, ch.metric, ch.period, ch.township)


warmup.register(__name__, _warm)


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
                remembered(render, p.lang, p, ch.metric, ch.period, ch.township),
                id=ids.content,
                className="divide-body",
            ),
            html.Div(
                guarded(counters_card, p.lang, p, ch.township),
                id=ids.counters,
                className="card divide-countercard",
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
    return remembered(
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


def _town_for(v: Viewer, township: int | None) -> int | None:
    """The township the counters card shows: the asked one when in scope, else the viewer's own or the
    first by need."""
    if v.township_code is not None:
        return v.township_code
    if township is not None and divide.counter_list(scope=v.scope(), township_code=township).height:
        return township
    per = divide.periods()
    rank = divide.invest_ranking(scope=v.scope(), period=per[-1]) if per else None
    return None if rank is None or rank.is_empty() else int(rank["township_code"][0])


def counters_card(v: Viewer, p: PageParams, township: int | None) -> list[Any]:
    """The offline counters of one township ("dual-track"): listed for everyone; admins and the Data
    Bureau also change hours, close one or add one here (through the write door)."""
    town = _town_for(v, township)
    frame = divide.counter_list(scope=v.scope(), township_code=town) if town is not None else None
    name = ""
    if frame is not None and town is not None:
        got = divide.township_names(township_code=town)
        name = pick(got[0], got[1], p.lang) if got else str(town)
    title = html.Div(
        [
            bi_text("线下窗口还开着吗?", "Which offline counters are open, and when?", p.lang),
            html.Span(f" · {name}", id="divide-counter-township-name", className="chart-foot"),
        ],
        className="card-title",
    )
    listing = html.Div(
        dc.counter_rows(frame, p.lang) if frame is not None else empty_state(p.lang), id=ids.counter_list
    )
    parts: list[Any] = [dcc.Store(id=ids.counter_town, data=town), title, listing]
    if divide_io.may_edit_counters(audit.Actor.of(v), v.department_id):
        opts = dc.counter_options(frame, p.lang) if frame is not None else []
        days = [
            {"label": both(*d, p.lang, " "), "value": n}
            for n, d in (
                (5, ("周一至周五", "Mon-Fri")),
                (6, ("周一至周六", "Mon-Sat")),
                (7, ("每天", "daily")),
            )
        ]
        kinds = [
            {"label": both(*k, p.lang, " "), "value": c}
            for c, k in (("station", ("代办点", "station")), ("hall", ("便民服务中心", "hall")))
        ]
        parts.append(
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.counter_pick,
                        options=opts,
                        placeholder=pick("选择窗口", "Pick a counter", p.lang),
                        className="divide-dd",
                    ),
                    *_time_input(ids.counter_opens, ("开门", "opens"), "08:30", p.lang),
                    *_time_input(ids.counter_closes, ("关门", "closes"), "17:30", p.lang),
                    dcc.Dropdown(
                        id=ids.counter_days,
                        options=days,
                        value=5,
                        clearable=False,
                        className="divide-dd-period",
                    ),
                    html.Button(both("保存时间", "Save hours", p.lang), id=ids.counter_save, className="btn"),
                    html.Button(
                        both("关闭窗口", "Close counter", p.lang), id=ids.counter_close, className="btn"
                    ),
                    dcc.Input(
                        id=ids.counter_name,
                        style={"width": "16em"},
                        maxLength=96,
                        placeholder=pick("新窗口名称", "New counter's name", p.lang),
                    ),
                    dcc.Dropdown(
                        id=ids.counter_kind,
                        options=kinds,
                        value="station",
                        clearable=False,
                        className="divide-dd-period",
                    ),
                    html.Button(both("新增窗口", "Add counter", p.lang), id=ids.counter_add, className="btn"),
                ],
                className="card-tools-row divide-counter-tools",
            )
        )
        parts.append(html.Div(id=ids.counter_msg, role="status"))
    return parts


def _time_input(cid: str, label: tuple[str, str], value: str, lang: str) -> list[Any]:
    """A labelled HH:MM box (checked by queries.divide_io, not here)."""
    return [
        html.Label(both(*label, lang, " "), htmlFor=cid),
        dcc.Input(id=cid, style={"width": "6em"}, value=value, maxLength=5, placeholder=value, debounce=True),
    ]


@callback(
    Output(ids.counters, "children"),
    Input(ids.geojson, "clickData"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def pick_counters(click: object, params: object) -> Any:
    p = PageParams.from_store(params)
    code = inputs.store(inputs.store(click).get("properties")).get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not 0 < code < 10**9:
        return dash.no_update
    return guarded(counters_card, p.lang, p, code)


@callback(
    Output(ids.counter_msg, "children"),
    Output(ids.counters, "children", allow_duplicate=True),
    Input(ids.counter_save, "n_clicks"),
    Input(ids.counter_close, "n_clicks"),
    Input(ids.counter_add, "n_clicks"),
    State(ids.counter_town, "data"),
    State(ids.counter_pick, "value"),
    State(ids.counter_opens, "value"),
    State(ids.counter_closes, "value"),
    State(ids.counter_days, "value"),
    State(ids.counter_name, "value"),
    State(ids.counter_kind, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def edit_counter(
    _save: int | None, _close: int | None, _add: int | None, town: object, key: object, opens: object,
    closes: object, days: object, name: object, kind: object, params: object,
) -> Any:  # fmt: skip
    """Save hours, close or add a counter through the write door; a refusal is said, nothing written."""
    p = PageParams.from_store(params)
    which = dash.ctx.triggered_id
    try:
        v = viewer()
        actor, dept = audit.Actor.of(v), v.department_id
        if which == ids.counter_add:
            divide_io.add_counter(
                actor, department_id=dept, township_code=town, name_zh=name, name_en=name, kind=kind,
                opens=opens, closes=closes, days=days,
            )  # fmt: skip
            done = ("已新增窗口", "Counter added")
        elif which == ids.counter_save:
            divide_io.set_hours(actor, department_id=dept, key=key, opens=opens, closes=closes, days=days)
            done = ("开放时间已保存", "Hours saved")
        elif which == ids.counter_close:
            divide_io.close_counter(actor, department_id=dept, key=key)
            done = ("窗口已关闭", "Counter closed")
        else:
            return dash.no_update, dash.no_update
    except divide_io.Refused as exc:
        return notice([(exc.zh, exc.en)], p.lang), dash.no_update
    except (PoolError, PermissionError) as exc:
        return notice(
            [("未保存: 数据池不可用或未登录", f"Not saved: {type(exc).__name__}")], p.lang
        ), dash.no_update
    card = guarded(counters_card, p.lang, p, town if isinstance(town, int) else None)
    if not isinstance(card, list):
        return dash.no_update, card
    return dash.no_update, [*card[:-1], html.Div(notice([done], p.lang), id=ids.counter_msg, role="status")]


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
