"""Overview wall: the 12 modules' volumes, township KPI ranking, urban vs rural, alerts. Auto-refreshing."""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, wall
from dashboard.components import KpiDef, empty_state, graph, kpi_card
from dashboard.i18n import bi, both, pick, titles
from dashboard.view import PageParams, as_of_text, guarded, page_params, rules, viewer
from queries import calendar, meta, overview
from queries.errors import PoolError
from queries.scope import Scope, Viewer

dash.register_page(__name__, path="/", name="overview", title="总览 · Overview", order=0)


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
RANK_KPIS: dict[str, tuple[tuple[str, str], str, KpiDef]] = {
    "index": (
        ("数据治理指数", "Data governance index"),
        "{:.1f}",
        KpiDef(
            (
                "(及时率 + 完整率 + 编码规范率 + 不重复率) / 4 × 100",
                "(on-time + complete + code-conforming + unique rates) / 4 × 100",
            ),
            ("四项比率", "the four rates below"),
            ("4", "4"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
    "on_time": (
        ("数据及时率", "On-time rate"),
        "{:.1%}",
        KpiDef(
            ("1 − 迟到记录 / 记录数", "1 − late records / records"),
            ("接收晚于发生 48 小时的记录", "records received > 48 h after they occurred"),
            ("记录数", "records"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
    "complete": (
        ("数据完整率", "Completeness"),
        "{:.1%}",
        KpiDef(
            ("1 − 缺字段记录 / 记录数", "1 − records with a missing field / records"),
            ("社区或金额为空的记录", "records with no community or no amount"),
            ("记录数", "records"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
    "conform": (
        ("编码规范率", "Code conformity"),
        "{:.1%}",
        KpiDef(
            ("1 − 非标准区划码记录 / 记录数", "1 − records with a non-standard area code / records"),
            ("区划码不是9位标准码的记录", "records whose area code is not the 9-digit NBS code"),
            ("记录数", "records"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
    "unique": (
        ("不重复率", "Uniqueness"),
        "{:.1%}",
        KpiDef(
            ("1 − 重复录入记录 / 记录数", "1 − re-entered records / records"),
            ("业务主键已被另一条记录使用的记录", "records whose business key another record already has"),
            ("记录数", "records"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
    "per_1k_day": (
        ("每千人日均数据量", "Records per 1,000 residents per day"),
        "{:.2f}",
        KpiDef(
            ("记录数 / 常住人口 × 1000 / 天数", "records / residents × 1000 / days"),
            ("记录数", "records"),
            ("常住人口(合成)", "residents (synthetic)"),
            ("近30日", "last 30 days"),
            f"{SRC}.township_kpis",
        ),
    ),
}


RANK_UNITS = {
    "index": ("单位: 分(0-100)", "points, 0-100"),
    "on_time": ("单位: %", "%"),
    "complete": ("单位: %", "%"),
    "conform": ("单位: %", "%"),
    "unique": ("单位: %", "%"),
    "per_1k_day": ("单位: 条/千人/日", "records per 1,000 residents per day"),
}


def _overview_alert(v: Viewer) -> str | None:
    st = meta.pool_status()
    frame = overview.alerts(scope=v.scope(), as_of=st.as_of, rules=rules())
    levels = set(frame["level"].to_list())
    return "red" if "red" in levels else ("amber" if "amber" in levels else None)


wall.register("overview", "/", _overview_alert)


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    kpi = query.get("kpi") if query.get("kpi") in RANK_KPIS else "index"
    return html.Div(
        [
            dcc.Store(id=ids.params, data={**p.store(), "kpi": kpi}),
            html.Div(guarded(render, p.lang, p, kpi), id=ids.content, className="ov"),
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
def refresh(_: int | None, params: dict[str, Any], kpi: str | None) -> Any:
    p = PageParams.from_store(params)
    return guarded(render, p.lang, p, kpi if kpi in RANK_KPIS else "index")


@callback(
    Output(ids.ranking, "figure"),
    Input(ids.kpi_dropdown, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def change_kpi(kpi: str | None, params: dict[str, Any]) -> Any:
    p = PageParams.from_store(params)
    try:
        st = meta.pool_status()
        return ranking_figure(viewer().scope(), st.as_of, kpi if kpi in RANK_KPIS else "index", p)
    except PoolError:
        return dash.no_update  # the next refresh shows the error panel in place of the page


@callback(
    Output(ids.download, "data"),
    Input(ids.export, "n_clicks"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def export_ranking(_: int | None, params: dict[str, Any]) -> Any:
    """The township KPI table behind the ranking, for a meeting: CSV with both languages' headers."""
    p = PageParams.from_store(params)
    try:
        st = meta.pool_status()
        frame = overview.township_kpis(
            scope=viewer().scope(), first_day=st.as_of_day - 29, last_day=st.as_of_day
        )
    except PoolError:
        return dash.no_update
    cols = {
        "township_code": "区划代码 Code",
        "name_zh": "乡镇(街道)",
        "name_en": "Township",
        "urban": "城镇 Urban",
        "population": "常住人口(合成) Residents (synthetic)",
        "n": "记录数 Records",
        **{k: f"{v[0][0]} {v[0][1]}" for k, v in RANK_KPIS.items()},
    }
    out = frame.select(list(cols)).rename(cols)
    stamp = as_of_text(st.as_of).replace(" ", "_").replace(":", "")
    header = both(
        f"近30日, 数据截至 {as_of_text(st.as_of)}",
        f"last 30 days, data as of {as_of_text(st.as_of)}",
        p.lang,
        " / ",
    )
    # the BOM makes Excel open the Chinese columns as UTF-8
    return dcc.send_string("\ufeff" + f"# {header}\n" + out.write_csv(), f"township-kpis-{stamp}.csv")


# --- rendering ---------------------------------------------------------------------------------


def render(v: Viewer, p: PageParams, kpi: str) -> list[Any]:
    st = meta.pool_status()
    scope = v.scope()
    day = st.as_of_day
    lang = p.lang
    mods = meta.modules()
    alerts = overview.alerts(scope=scope, as_of=st.as_of, rules=rules())
    daily = overview.daily_by_module(scope=scope, first_day=day - 90, last_day=day)
    if daily["n"].sum() == 0:
        return [
            empty_state(
                lang, ("当前账号范围内近90日没有记录", "No records in your scope in the last 90 days")
            )
        ]
    tvl = overview.today_vs_last_week(scope=scope, as_of=st.as_of)
    week = overview.township_kpis(scope=scope, first_day=day - 6, last_day=day)
    return [
        alert_strip(alerts, mods, lang),
        html.Div(kpi_cards(tvl, week, alerts, lang), id=ids.kpis, className="ov-kpis"),
        html.Div(module_tiles(mods, daily, tvl, alerts, day, p), id=ids.tiles, className="ov-tiles"),
        html.Div(
            [
                html.Div(
                    [
                        html.Div(
                            [
                                dcc.Dropdown(
                                    id=ids.kpi_dropdown,
                                    value=kpi,
                                    clearable=False,
                                    searchable=False,
                                    options=[
                                        {"label": both(*v_[0], lang), "value": k}
                                        for k, v_ in RANK_KPIS.items()
                                    ],
                                ),
                                html.Button(
                                    both("导出 CSV", "Export CSV", lang), id=ids.export, className="btn"
                                ),
                                dcc.Download(id=ids.download),
                            ],
                            className="card-toolbar",
                        ),
                        graph(ids.ranking, ranking_figure(scope, st.as_of, kpi, p)),
                    ],
                    className="card chart-card",
                ),
                html.Div(
                    graph(ids.urban, urban_rural_figure(scope, mods, st.as_of, p)),
                    className="card chart-card",
                ),
                html.Div(graph(ids.trend, trend_figure(daily, st.as_of, p)), className="card chart-card"),
            ],
            className="ov-charts",
        ),
    ]


def _fmt_int(n: float) -> str:
    return f"{int(n):,}"


def _pct(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


def alert_strip(alerts: pl.DataFrame, mods: pl.DataFrame, lang: str) -> html.Div:
    if alerts.height == 0:
        return html.Div(
            html.Div(["✓ ", bi("no_alerts", lang)], className="alert alert-ok"),
            id=ids.alerts,
            className="alert-strip",
        )
    names = {r["id"]: (r["name_zh"], r["name_en"]) for r in mods.iter_rows(named=True)}
    towns = {r["code"]: (r["name_zh"], r["name_en"]) for r in meta.townships().iter_rows(named=True)}
    srcs = {r["id"]: (r["name_zh"], r["name_en"]) for r in meta.sources().iter_rows(named=True)}
    items = []
    for a in alerts.iter_rows(named=True):
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
            ratio = a["value"] / max(a["baseline"], 1.0)
            text = pick(
                f"{mz} · {tz_} 近6小时 {a['value']:.0f} 条, 通常 {a['baseline']:.0f} 条 (×{ratio:.1f})",
                f"{me} · {te}: {a['value']:.0f} in 6 h, usually {a['baseline']:.0f} (×{ratio:.1f})",
                lang,
            )
        icon = "●" if a["level"] == "red" else "▲"
        items.append(html.Div(f"{icon} {text}", className=f"alert alert-{a['level']}"))
    return html.Div(items, id=ids.alerts, className="alert-strip")


def kpi_cards(tvl: pl.DataFrame, week: pl.DataFrame, alerts: pl.DataFrame, lang: str) -> list[html.Div]:
    today, last = int(tvl["today"].sum()), int(tvl["last_week"].sum())
    n = int(week["n"].sum())
    delta = _pct(today - last, last)
    on_time = _pct(n - int(week["n_late"].sum()), n)
    complete = _pct(n - int(week["n_missing"].sum()), n)
    dup = _pct(int(week["n_dup"].sum()), n)
    down = alerts.filter((pl.col("kind") == "outage") & (pl.col("level") == "red"))["module_id"].n_unique()
    period7 = ("近7日 (含今日)", "last 7 days incl. today")

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.1%}"

    def tone(x: float | None, good: float, warn: float, higher_better: bool = True) -> str:
        if x is None:
            return ""
        if not higher_better:
            x, good, warn = -x, -good, -warn
        return "good" if x >= good else ("warn" if x >= warn else "bad")

    return [
        kpi_card(
            "overview-kpi-today",
            ("今日接收", "Received today"),
            _fmt_int(today),
            KpiDef(
                (
                    "今日 00:00 至数据截至时刻发生的记录数",
                    "records that occurred since 00:00 today, up to the as-of time",
                ),
                ("今日记录", "today's records"),
                ("—", "—"),
                ("今日", "today"),
                f"{SRC}.today_vs_last_week",
            ),
            lang,
            sub=("—" if delta is None else f"{delta:+.1%} ")
            + pick("较上周同期", "vs same time last week", lang),
        ),
        kpi_card(
            "overview-kpi-week",
            ("近7日记录", "Records, 7 days"),
            _fmt_int(n),
            KpiDef(
                ("各模块记录数之和", "sum of records over the 12 modules"),
                ("记录数", "records"),
                ("—", "—"),
                period7,
                f"{SRC}.township_kpis",
            ),
            lang,
            sub=pick(f"日均 {n / 7:,.0f} 条", f"{n / 7:,.0f} per day", lang),
        ),
        kpi_card(
            "overview-kpi-ontime",
            ("数据及时率", "On-time rate"),
            pct(on_time),
            _with_period(RANK_KPIS["on_time"][2], period7),
            lang,
            tone=tone(on_time, 0.97, 0.93),
        ),
        kpi_card(
            "overview-kpi-complete",
            ("数据完整率", "Completeness"),
            pct(complete),
            _with_period(RANK_KPIS["complete"][2], period7),
            lang,
            tone=tone(complete, 0.97, 0.93),
        ),
        kpi_card(
            "overview-kpi-dup",
            ("跨部门重复率", "Duplicate rate"),
            pct(dup),
            KpiDef(
                ("重复录入记录 / 记录数", "re-entered records / records"),
                (
                    "业务主键已被另一部门记录使用的记录",
                    "records whose business key another department's record has",
                ),
                ("记录数", "records"),
                period7,
                f"{SRC}.township_kpis",
            ),
            lang,
            tone=tone(dup, 0.02, 0.05, False),
        ),
        kpi_card(
            "overview-kpi-modules",
            ("模块在线", "Modules delivering"),
            f"{12 - down}/12",
            KpiDef(
                ("12 − 红色中断告警的模块数", "12 − modules with a red outage alert"),
                ("正常上报的模块", "modules delivering"),
                ("12 个子平台", "the 12 sub-platforms"),
                ("截至当前", "as of now"),
                f"{SRC}.alerts",
            ),
            lang,
            tone="good" if down == 0 else "bad",
        ),
    ]


def _with_period(d: KpiDef, period: tuple[str, str]) -> KpiDef:
    return KpiDef(d.formula, d.numerator, d.denominator, period, d.source)


def module_tiles(
    mods: pl.DataFrame,
    daily: pl.DataFrame,
    tvl: pl.DataFrame,
    alerts: pl.DataFrame,
    day: int,
    p: PageParams,
) -> list[html.Div]:
    lang = p.lang
    today = dict(zip(tvl["module_id"].to_list(), tvl["today"].to_list(), strict=True))
    last = dict(zip(tvl["module_id"].to_list(), tvl["last_week"].to_list(), strict=True))
    week = daily.filter(pl.col("day") > day - 7).group_by("module_id").agg(pl.col("n").sum())
    week_n = dict(zip(week["module_id"].to_list(), week["n"].to_list(), strict=True))
    levels: dict[int, str] = {}
    for a in alerts.iter_rows(named=True):
        if levels.get(a["module_id"]) != "red":
            levels[a["module_id"]] = a["level"]
    spark = daily.filter((pl.col("day") >= day - 30) & (pl.col("day") < day))
    src = meta.sources()
    batch_only = set(
        src.group_by("module_id")
        .agg((pl.col("delivery") == "batch").all().alias("b"))
        .filter("b")["module_id"]
    )
    tiles = []
    for i, m in enumerate(mods.iter_rows(named=True)):
        mid = m["id"]
        s = spark.filter(pl.col("module_id") == mid)
        t, lw = today.get(mid, 0), last.get(mid, 0)
        d = _pct(t - lw, lw)
        color = figures.PALETTE[i % len(figures.PALETTE)]
        fig = figures.sparkline(s["date"].to_numpy(), s["n"].to_numpy(), theme=p.theme, color=color)
        tiles.append(
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
                    html.Div(_fmt_int(t), className="tile-today"),
                    html.Div(
                        pick(f"近7日 {week_n.get(mid, 0):,}", f"7 days {week_n.get(mid, 0):,}", lang)
                        + (
                            pick(" · 夜间批量, 次日到达", " · nightly batch", lang)
                            if mid in batch_only
                            else ""
                        ),
                        className="tile-7d",
                    ),
                    dcc.Graph(
                        figure=fig,
                        className="tile-spark",
                        config={"staticPlot": True},
                        responsive=True,
                        style={"height": "46px" if p.theme == "wall" else "36px"},
                    ),
                    KpiDef(
                        (
                            "今日记录数; 百分比 = (今日 − 上周同期) / 上周同期; 曲线 = 近30日每日记录(不含今日)",
                            "today's records; % = (today − same time last week) / same time last week; line = daily, 30 days",
                        ),
                        ("今日记录", "today's records"),
                        ("上周同日同时段记录", "same weekday last week, same hours"),
                        ("今日 / 近7日 / 近30日", "today / 7 days / 30 days"),
                        f"{SRC}.today_vs_last_week, daily_by_module",
                    ).render(lang),
                ],
                className=f"tile tile-{levels.get(mid, 'ok')}",
                id=f"overview-tile-{m['code']}",
                tabIndex=0,
            )
        )
    return tiles


def ranking_figure(scope: Scope, as_of: int, kpi: str, p: PageParams) -> Any:
    day = (as_of + 8 * 3600) // 86400
    frame = overview.township_kpis(scope=scope, first_day=day - 29, last_day=day).sort(
        kpi, descending=True, nulls_last=True
    )
    label, fmt, _ = RANK_KPIS[kpi]
    unit_zh, unit_en = RANK_UNITS[kpi]
    names = [pick(z, e, p.lang) for z, e in zip(frame["name_zh"], frame["name_en"], strict=True)]
    values = frame[kpi].fill_null(np.nan).to_numpy()
    lo = float(np.nanmin(values)) if len(values) and not np.all(np.isnan(values)) else 0.0
    xrange = (
        None
        if kpi == "per_1k_day"
        else (lo - (1.0 if kpi == "index" else 0.01) * 1.5, (100.0 if kpi == "index" else 1.0))
    )
    title, sub = titles(
        (f"哪个乡镇(街道){label[0]}最高?", f"Which township leads on {label[1].lower()}?"),
        (
            f"{unit_zh} · 近30日 · 蓝=城镇街道 橙=农村乡镇 · 截至 {as_of_text(as_of)}",
            f"{unit_en} · 30 days · blue = urban, amber = rural · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.ranking(
        names,
        values,
        title=title,
        subtitle=sub,
        theme=p.theme,
        unit_fmt=fmt,
        highlight=frame["urban"].to_list(),
        xrange=xrange,
    )


def urban_rural_figure(scope: Scope, mods: pl.DataFrame, as_of: int, p: PageParams) -> Any:
    day = (as_of + 8 * 3600) // 86400
    frame = overview.urban_rural(scope=scope, first_day=day - 29, last_day=day)
    names = {r["id"]: pick(r["name_zh"], r["name_en"], p.lang) for r in mods.iter_rows(named=True)}
    urban = frame.filter(pl.col("urban"))
    rural = frame.filter(~pl.col("urban"))
    labels = [names[m] for m in urban["module_id"].to_list()]
    r_vals = rural["per_1k_day"].to_numpy() if rural.height else np.zeros(len(labels))
    u_vals = urban["per_1k_day"].to_numpy() if urban.height else np.zeros(len(labels))
    if not urban.height:
        labels = [names[m] for m in rural["module_id"].to_list()]
        u_vals = np.zeros(len(labels))
    title, sub = titles(
        ("城乡居民的数据活跃度差多少?", "How far apart are urban and rural data activity?"),
        (
            f"单位: 条/千人/日 · 近30日 · 截至 {as_of_text(as_of)}",
            f"records per 1,000 residents per day · 30 days · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.urban_rural(
        labels,
        u_vals,
        r_vals,
        names=(pick("城镇街道", "Urban", p.lang), pick("农村乡镇", "Rural", p.lang)),
        title=title,
        subtitle=sub,
        theme=p.theme,
    )


def trend_figure(daily: pl.DataFrame, as_of: int, p: PageParams) -> Any:
    day = (as_of + 8 * 3600) // 86400
    total = daily.filter(pl.col("day") < day).group_by("day", "date").agg(pl.col("n").sum()).sort("day")
    kinds, _ = calendar.day_kinds(total["day"].to_numpy())
    title, sub = titles(
        ("数据池每天进来多少条?", "How many records reach the pool each day?"),
        (
            f"单位: 条/日 · 近90日(不含今日) · 橙点=休息日 · 截至 {as_of_text(as_of)}",
            f"records/day · 90 days excl. today · amber = rest day · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.trend(
        total["date"].to_numpy(),
        total["n"].to_numpy(),
        rest=kinds > 0,
        title=title,
        subtitle=sub,
        theme=p.theme,
        name=pick("记录数", "records", p.lang),
    )
