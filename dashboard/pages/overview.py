"""Overview wall: the 12 modules' volumes, township KPI ranking, urban vs rural, alerts. Auto-refreshing."""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, inputs, wall, warmup
from dashboard.components import KpiDef, delivering_tone, empty_state, folded, graph, kpi_card, notice
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi, both, pick, titles
from dashboard.view import PageParams, as_of_text, page_params, remembered, rules, viewer, warm
from queries import activity, meta, overview
from queries.errors import PoolError
from queries.scope import Scope, Viewer
from queries.timebase import local_day_of

# `ready`: the CSS selector that shows the page has drawn its data (browser tests and screenshots wait for it)
dash.register_page(
    __name__,
    path="/",
    name="overview",
    title="总览 · Overview",
    order=0,
    ready="#overview-ranking-graph .main-svg",
)


class ids:
    root = "overview-root"
    params = "overview-params-store"
    content = "overview-content"
    alerts = "overview-alert-strip"
    kpis = "overview-kpis"
    tiles = "overview-module-tiles"
    kpi_dropdown = "overview-kpi-dropdown"
    ranking = "overview-ranking-graph"
    urban = "overview-urban-rural-graph"
    trend = "overview-trend-graph"
    export = "overview-export-button"
    download = "overview-download"


SRC = "queries.overview"
# Derived from the query layer's one list: (label, number format, definition) per ranking KPI.
RANK_KPIS: dict[str, tuple[tuple[str, str], str, KpiDef]] = {
    k: (
        d.label,
        d.fmt,
        KpiDef(d.formula, d.numerator, d.denominator, ("近30日", "last 30 days"), f"{SRC}.township_kpis"),
    )
    for k, d in overview.RANK_KPIS.items()
}


def _overview_alert(v: Viewer) -> str | None:
    return activity.alert_level(scope=v.scope(), as_of=meta.pool_status().as_of, rules=rules())


wall.register(__name__, _overview_alert)
warmup.register(__name__, lambda v, p: warm(v, render, p, "index"))


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    asked = inputs.query_value(query.get("kpi"))  # ?kpi=a&kpi=b arrives as a list: the last one counts
    kpi = inputs.one_of(asked, RANK_KPIS, "index")
    bad = (
        []
        if asked is None or asked in RANK_KPIS
        else [
            (
                f"排名指标 {inputs.quoted(asked)} 不存在, 已显示数据治理指数; 可用: {', '.join(RANK_KPIS)}",
                f"No ranking KPI {inputs.quoted(asked)}; showing the data governance index. KPIs: {', '.join(RANK_KPIS)}",
            )
        ]
    )
    return html.Div(
        [
            notice(bad, p.lang),
            dcc.Store(id=ids.params, data={**p.store(), "kpi": kpi}),
            html.Div(remembered(render, p.lang, p, kpi), id=ids.content, className="ov"),
        ],
        id=ids.root,
        className="ov",
    )


@callback(
    Output(ids.content, "children"),
    Input("app-refresh-interval", "n_intervals"),
    State(ids.params, "data"),
    State(ids.kpi_dropdown, "value"),
    prevent_initial_call=True,
)
def refresh(_: int | None, params: object, kpi: object) -> Any:
    p = PageParams.from_store(params)
    return remembered(render, p.lang, p, inputs.one_of(kpi, RANK_KPIS, "index"))


@callback(
    Output(ids.ranking, "figure"),
    Input(ids.kpi_dropdown, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def change_kpi(kpi: object, params: object) -> Any:
    p = PageParams.from_store(params)
    try:
        st = meta.pool_status()
        return ranking_figure(viewer().scope(), st.as_of, inputs.one_of(kpi, RANK_KPIS, "index"), p)
    except PoolError:
        return dash.no_update  # the next refresh shows the error panel in place of the page


@callback(
    Output(ids.download, "data"),
    Input(ids.export, "n_clicks"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def export_ranking(_: int | None, params: object) -> Any:
    """The township KPI table behind the ranking, for a meeting: CSV with both languages' headers."""
    p = PageParams.from_store(params)
    try:
        scope = viewer().scope()
        # the file's "as of" line and its totals from one pool, even across a reload
        st, frame = meta.consistent(
            lambda st: (
                st,
                overview.township_kpis(scope=scope, first_day=st.as_of_day - 29, last_day=st.as_of_day),
            )
        )
    except PoolError:
        return dash.no_update
    header = both(
        f"近30日, 数据截至 {as_of_text(st.as_of)}",
        f"last 30 days, data as of {as_of_text(st.as_of)}",
        p.lang,
        " / ",
    )
    labels = {
        "township_code": "区划代码 Code",
        "name_zh": "乡镇(街道)",
        "name_en": "Township",
        "urban": "城镇 Urban",
        "population": "常住人口(合成) Residents (synthetic)",
        "n": "记录数 Records",
        **{k: f"{v[0][0]} {v[0][1]}" for k, v in RANK_KPIS.items()},
    }
    stamp = as_of_text(st.as_of).replace(" ", "_").replace(":", "")
    return dcc.send_string(csv_for_excel(frame, labels, header), f"township-kpis-{stamp}.csv")


# --- rendering ---------------------------------------------------------------------------------


def render(v: Viewer, p: PageParams, kpi: str) -> list[Any]:
    st = meta.pool_status()
    scope, day, lang = v.scope(), st.as_of_day, p.lang
    totals = overview.daily_totals(scope=scope, first_day=day - 90, last_day=day - 1)
    if int(totals["n"].sum()) == 0:
        return [
            empty_state(
                lang, ("当前账号范围内近90日没有记录", "No records in your scope in the last 90 days")
            )
        ]
    alerts = activity.alerts(scope=scope, as_of=st.as_of, rules=rules())
    head = overview.headline(scope=scope, as_of=st.as_of, rules=rules())
    tiles = overview.module_summary(scope=scope, as_of=st.as_of, rules=rules())
    toolbar = html.Div(
        [
            dcc.Dropdown(
                id=ids.kpi_dropdown,
                value=kpi,
                clearable=False,
                searchable=False,
                options=[{"label": both(*v_[0], lang), "value": k} for k, v_ in RANK_KPIS.items()],
            ),
            html.Button(both("导出 CSV", "Export CSV", lang), id=ids.export, className="btn"),
            dcc.Download(id=ids.download),
        ],
        className="card-toolbar",
    )
    return [
        alert_strip(alerts, lang),
        html.Div(kpi_cards(head, lang), id=ids.kpis, className="ov-kpis"),
        html.Div(
            module_tiles(tiles, p, outside=meta.modules().height - tiles.height),
            id=ids.tiles,
            className="ov-tiles",
        ),
        html.Div(
            [
                html.Div(
                    [toolbar, graph(ids.ranking, ranking_figure(scope, st.as_of, kpi, p))],
                    className="card chart-card",
                ),
                html.Div(
                    graph(ids.urban, urban_rural_figure(scope, st.as_of, p)), className="card chart-card"
                ),
                html.Div(graph(ids.trend, trend_figure(totals, st.as_of, p)), className="card chart-card"),
            ],
            className="ov-charts",
        ),
    ]


def _fmt_int(n: float) -> str:
    return f"{int(n):,}"


def _labels(frame_rows: Any, key: str) -> dict[Any, tuple[str, str]]:
    return {r[key]: (r["name_zh"], r["name_en"]) for r in frame_rows}


MAX_ALERTS = 3


def alert_strip(alerts: Any, lang: str) -> html.Div:
    if alerts.height == 0:
        return html.Div(
            html.Div(["✓ ", bi("no_alerts", lang)], className="alert alert-ok"),
            id=ids.alerts,
            className="alert-strip",
        )
    names = _labels(meta.modules().iter_rows(named=True), "id")
    towns = _labels(meta.townships().iter_rows(named=True), "code")
    srcs = _labels(meta.sources().iter_rows(named=True), "id")
    items = []
    shown = alerts.head(MAX_ALERTS)
    for a in shown.iter_rows(named=True):
        mz, me = names.get(a["module_id"], ("?", "?"))
        if a["kind"] == "outage":
            sz, se = srcs.get(a["source_id"], ("?", "?"))
            text = pick(
                f"{mz} · {sz} 已 {a['value']:.1f} 小时无数据 (应有约 {a['baseline']:.0f} 条)",
                f"{me} · {se}: no data for {a['value']:.1f} h (about {a['baseline']:.0f} expected)",
                lang,
            )
        else:
            tz_, te = towns.get(a["township_code"], ("?", "?"))
            text = pick(
                f"{mz} · {tz_} 近6小时 {a['value']:.0f} 条, {_usual(a['value'], a['baseline'], 'zh')}",
                f"{me} · {te}: {a['value']:.0f} in 6 h, {_usual(a['value'], a['baseline'], 'en')}",
                lang,
            )
        icon = "●" if a["level"] == "red" else "▲"
        items.append(html.Div(f"{icon} {text}", className=f"alert alert-{a['level']}", title=text))
    if alerts.height > MAX_ALERTS:  # worst first; the rest are counted, never silently cut off
        more = alerts.height - MAX_ALERTS
        items.append(
            html.Div(pick(f"另有 {more} 条告警", f"+{more} more alerts", lang), className="alert alert-more")
        )
    return html.Div(items, id=ids.alerts, className="alert-strip")


def _usual(now: float, baseline: float, lang: str) -> str:
    """The usual count beside a spike. A ratio over a baseline under one record means nothing (×178 of
    zero), so then the text says there usually are none."""
    if baseline < 1:
        return pick("通常没有", "usually none", lang)
    ratio = now / baseline
    return pick(f"通常 {baseline:.0f} 条 (×{ratio:.1f})", f"usually {baseline:.0f} (×{ratio:.1f})", lang)


def _tone(x: float | None, good: float, warn: float, higher_better: bool = True) -> str:
    if x is None:
        return ""
    if not higher_better:
        x, good, warn = -x, -good, -warn
    return "good" if x >= good else ("warn" if x >= warn else "bad")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def kpi_cards(h: overview.Headline, lang: str) -> list[html.Div]:
    period7 = ("近7日 (含今日)", "last 7 days incl. today")
    delta = "—" if h.delta is None else f"{h.delta:+.1%}"
    return [
        kpi_card(
            "overview-kpi-today",
            ("今日接收", "Received today"),
            _fmt_int(h.today),
            KpiDef(
                (
                    "今日 00:00 起发生且已到达的记录数",
                    "records that occurred since 00:00 today and have arrived",
                ),
                ("今日记录", "today's records"),
                ("—", "—"),
                ("今日", "today"),
                f"{SRC}.headline",
            ),
            lang,
            sub=f"{delta} " + pick("较上周同期", "vs same time last week", lang),
        ),
        kpi_card(
            "overview-kpi-week",
            ("近7日记录", "Records, 7 days"),
            _fmt_int(h.week),
            KpiDef(
                ("各模块记录数之和", "sum of records over the 12 modules"),
                ("记录数", "records"),
                ("—", "—"),
                period7,
                f"{SRC}.headline",
            ),
            lang,
            sub=pick(f"日均 {h.week / 7:,.0f} 条", f"{h.week / 7:,.0f} per day", lang),
        ),
        kpi_card(
            "overview-kpi-ontime",
            ("数据及时率", "On-time rate"),
            _pct(h.on_time),
            _with_period(RANK_KPIS["on_time"][2], period7),
            lang,
            tone=_tone(h.on_time, 0.97, 0.93),
        ),
        kpi_card(
            "overview-kpi-complete",
            ("数据完整率", "Completeness"),
            _pct(h.complete),
            _with_period(RANK_KPIS["complete"][2], period7),
            lang,
            tone=_tone(h.complete, 0.97, 0.93),
        ),
        kpi_card(
            "overview-kpi-dup",
            ("跨部门重复率", "Duplicate rate"),
            _pct(h.dup_rate),
            KpiDef(
                ("重复录入记录 / 记录数", "re-entered records / records"),
                (
                    "业务主键已被另一部门记录使用的记录",
                    "records whose business key another department's record has",
                ),
                ("记录数", "records"),
                period7,
                f"{SRC}.headline",
            ),
            lang,
            tone=_tone(h.dup_rate, 0.02, 0.05, False),
        ),
        kpi_card(
            "overview-kpi-modules",
            ("模块在线", "Modules delivering"),
            f"{h.modules - h.modules_down}/{h.modules}",
            KpiDef(
                (
                    "范围内模块数 − 红色中断告警的模块数",
                    "modules in your scope − modules with a red outage alert",
                ),
                ("正常上报的模块", "modules delivering"),
                ("您范围内有来源系统的子平台", "sub-platforms with a source system in your scope"),
                ("截至当前", "as of now"),
                "queries.activity.delivering",
            ),
            lang,
            tone=delivering_tone(h.modules_down, h.modules),
        ),
    ]


def _with_period(d: KpiDef, period: tuple[str, str]) -> KpiDef:
    return KpiDef(d.formula, d.numerator, d.denominator, period, d.source)


TILE_DEF = KpiDef(
    (
        "今日记录数; 百分比 = (今日 − 上周同期) / 上周同期; 曲线 = 近30日每日记录(不含今日)",
        "today's records; % = (today − same time last week) / same time last week; line = daily, 30 days",
    ),
    ("今日已到达的记录", "today's records that have arrived"),
    ("上周同日同时段已到达的记录", "same weekday last week, same hours, arrived by then"),
    ("今日 / 近7日 / 近30日", "today / 7 days / 30 days"),
    f"{SRC}.module_summary",
)


def module_tiles(tiles: Any, p: PageParams, outside: int = 0) -> list[html.Div]:
    """One tile per module of the viewer's scope; the city's other modules folded into one line."""
    lang = p.lang
    out = []
    for m in tiles.iter_rows(named=True):
        d = m["delta"]
        color = figures.PALETTE[(int(m["module_id"]) - 1) % len(figures.PALETTE)]
        fig = figures.sparkline(
            np.asarray(m["dates"] or []), np.asarray(m["series"] or []), theme=p.theme, color=color
        )
        week = pick(f"近7日 {m['week']:,}", f"7 days {m['week']:,}", lang)
        if m["batch_only"]:
            week += pick(" · 夜间批量, 次日到达", " · nightly batch", lang)
        out.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                pick(m["name_zh"], m["name_en"], lang),
                                className="tile-name",
                                title=both(m["name_zh"], m["name_en"], lang),
                            ),
                            html.Span(
                                "—" if d is None else f"{d:+.0%}",
                                className="tile-delta " + ("" if d is None else ("up" if d >= 0 else "down")),
                            ),
                        ],
                        className="tile-head",
                    ),
                    html.Div(_fmt_int(m["today"] or 0), className="tile-today"),
                    html.Div(week, className="tile-7d"),
                    dcc.Graph(
                        figure=fig,
                        className="tile-spark",
                        config={"staticPlot": True},
                        responsive=True,
                        style={"height": "46px" if p.theme == "wall" else "36px"},
                    ),
                    TILE_DEF.render(lang),
                ],
                className=f"tile tile-{m['level'] or 'ok'}",
                id=f"overview-tile-{m['code']}",
                tabIndex=0,
            )
        )
    if outside:
        out.append(
            folded(
                "overview-tiles-outside",
                (f"另有 {outside} 个模块不在您的范围内", f"{outside} more modules outside your scope"),
                lang,
                "tile tile-outside",
            )
        )
    return out


def ranking_figure(scope: Scope, as_of: int, kpi: str, p: PageParams) -> Any:
    """Townships ranked by the KPI; for a viewer who holds one township, that township's modules."""
    day = local_day_of(as_of)
    kdef = overview.RANK_KPIS[kpi]
    label, unit = kdef.label, kdef.unit
    when = (f"近30日 · 截至 {as_of_text(as_of)}", f"30 days · as of {as_of_text(as_of)}")
    if scope.township_code is not None:
        frame = overview.module_ranking(scope=scope, first_day=day - 29, last_day=day, kpi=kpi)
        tz_, te = _labels(meta.townships().iter_rows(named=True), "code")[scope.township_code]
        q = (f"{tz_}哪个模块{label[0]}最高?", f"Which of {te}'s modules leads on {label[1].lower()}?")
        detail = (f"{unit[0]} · 按模块 · {when[0]}", f"{unit[1]} · by module · {when[1]}")
        highlight = None
    else:
        frame = overview.township_ranking(scope=scope, first_day=day - 29, last_day=day, kpi=kpi)
        q = (f"哪个乡镇(街道){label[0]}最高?", f"Which township leads on {label[1].lower()}?")
        detail = (
            f"{unit[0]} · 蓝=城镇 橙=农村 · {when[0]}",
            f"{unit[1]} · blue = urban, amber = rural · {when[1]}",
        )
        highlight = frame["urban"].to_list()
    names = [pick(z, e, p.lang) for z, e in zip(frame["name_zh"], frame["name_en"], strict=True)]
    title, sub = titles(q, detail, p.lang)
    return figures.ranking(
        names,
        frame["value"].fill_null(np.nan).to_numpy(),
        title=title,
        subtitle=sub,
        theme=p.theme,
        unit_fmt=kdef.fmt,
        highlight=highlight,
        percent=kdef.fmt.endswith("%}"),
    )


def urban_rural_figure(scope: Scope, as_of: int, p: PageParams) -> Any:
    """Urban vs rural per module; only the side(s) the viewer's scope holds."""
    day = local_day_of(as_of)
    frame = overview.urban_rural_wide(scope=scope, first_day=day - 29, last_day=day)
    labels = [pick(z, e, p.lang) for z, e in zip(frame["name_zh"], frame["name_en"], strict=True)]
    sides = {
        col: (pick(*name, p.lang), frame[col].to_numpy())
        for col, name in (("urban", ("城镇街道", "Urban")), ("rural", ("农村乡镇", "Rural")))
        if col in frame.columns
    }
    unit = (
        f"单位: 条/千人/日 · 近30日 · 截至 {as_of_text(as_of)}",
        f"records per 1,000 residents per day · 30 days · as of {as_of_text(as_of)}",
    )
    if len(sides) == 2:
        q = ("城乡居民的数据活跃度差多少?", "How far apart are urban and rural data activity?")
    else:
        q = ("各模块的人均数据活跃度是多少?", "How active is each module per resident?")
    title, sub = titles(q, unit, p.lang)
    return figures.urban_rural(labels, sides, title=title, subtitle=sub, theme=p.theme)


def trend_figure(totals: Any, as_of: int, p: PageParams) -> Any:
    title, sub = titles(
        ("数据池每天进来多少条?", "How many records reach the pool each day?"),
        (
            f"单位: 条/日 · 近90日(不含今日) · 橙点=休息日 · 截至 {as_of_text(as_of)}",
            f"records/day · 90 days excl. today · amber = rest day · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.trend(
        totals["date"].to_numpy(),
        totals["n"].to_numpy(),
        rest=totals["kind"].to_numpy() > 0,
        title=title,
        subtitle=sub,
        theme=p.theme,
        name=pick("记录数", "records", p.lang),
        lang=p.lang,
    )
