"""Agricultural price monitor: the warning board, the warnings side by side in plain words, one product's
series with its seasonal band and indicators, the hog-grain ratio, cooperatives' reporting, and the
ledger from warning to decision to outcome."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_leaflet as dl
import polars as pl
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import auth, inputs, wall
from dashboard.components import KpiDef, error_panel, graph, kpi_card, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.prices import charts
from dashboard.view import PageParams, as_of_text, guarded, page_params, reads, remembered
from queries import audit, geo, prices
from queries import price_signals as sig
from queries.errors import PoolError
from queries.scope import Viewer
from queries.timebase import local_day_of

dash.register_page(
    __name__,
    path="/prices",
    name="prices",
    title="农产品价格监测 · Agricultural prices",
    order=4,
    ready="#prices-board-graph .main-svg",
)


class ids:
    root = "prices-root"
    params = "prices-params-store"
    content = "prices-content"
    board = "prices-board-graph"
    warnings = "prices-warnings-table"
    product = "prices-product-dropdown"
    market = "prices-market-dropdown"
    detail = "prices-detail-panel"
    series = "prices-series-graph"
    ifpa = "prices-ifpa-graph"
    alps = "prices-alps-graph"
    hog = "prices-hog-graph"
    volumes = "prices-volumes-graph"
    coops = "prices-coop-table"
    map = "prices-market-map"
    ledger = "prices-ledger-table"
    kind = "prices-decision-kind-dropdown"
    amount = "prices-decision-amount-input"
    note = "prices-decision-note-input"
    decide = "prices-decision-button"
    decided = "prices-decision-status"
    kpis = "prices-kpis"
    url_notice = "prices-url-notice"


SRC = "queries.prices"
WALL_WARNINGS = 5  # read from metres away: the worst five, in the chosen language only


def _alert(v: Viewer) -> str | None:
    return prices.alert_level(scope=v.scope())


wall.register(__name__, _alert)


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    flat = inputs.query_flat(query)
    ask = (flat.get("product"), flat.get("market"))
    return html.Div(
        [
            dcc.Store(id=ids.params, data={**p.store(), "product": ask[0], "market": ask[1]}),
            html.Div(content(p, ask), id=ids.content, className="prices"),
        ],
        id=ids.root,
        className="prices",
    )


@callback(
    Output(ids.content, "children"),
    Input("app-refresh-interval", "n_intervals"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def refresh(_: int | None, params: object) -> Any:
    p = PageParams.from_store(params)
    d = inputs.store(params)
    return content(p, (inputs.query_value(d.get("product")), inputs.query_value(d.get("market"))))


def content(p: PageParams, ask: tuple[str | None, str | None]) -> Any:
    """The page's content, kept (`view.remembered`) on the price data's version and the staff's (a decision
    moves it): a record batch or a case action leaves it valid."""
    return remembered(page, p.lang, p, ask)


@reads("staff")
def page(v: Viewer, p: PageParams, ask: tuple[str | None, str | None] = (None, None)) -> list[Any]:
    """`render`, and on the desk the decision ledger last (the wall shows no ledger)."""
    body = render(v, p, ask)
    if p.theme == "wall" or len(body) < 3:  # the wall, or the empty state
        return body
    return [*body, ledger_card(v, p.lang)]


def _choose(
    v: Viewer, board: pl.DataFrame, ask: tuple[str | None, str | None]
) -> tuple[str, str, list[tuple[str, str]]]:
    """The series to show: the one asked for when it exists in the viewer's scope, else the worst on the
    board, with a message naming what was asked and not found (nothing else changes)."""
    product, market = ask
    msgs: list[tuple[str, str]] = []
    if product or market:
        try:
            prices.series(scope=v.scope(), product=product or "", market=market or "")
            return str(product), str(market), msgs
        except prices.PriceInputError as exc:
            msgs.append(
                (
                    f"URL 参数: {exc.zh}; 显示最严重的序列",
                    f"URL parameters: {exc.en}; showing the worst series",
                )
            )
    top = board.row(0, named=True)
    return top["product"], top["market"], msgs


def render(v: Viewer, p: PageParams, ask: tuple[str | None, str | None] = (None, None)) -> list[Any]:
    """Everything on the page that the price data decides (`page` adds the ledger). It reads no records
    and no cases, and its "as of" is the price data's own (`prices.as_of`)."""
    scope = v.scope()
    lang = p.lang
    price_as_of = prices.as_of()
    as_of = as_of_text(price_as_of)
    month = prices.end_month()
    b = prices.board(scope=scope, month=month)
    if not b.height:
        return [
            html.Div(
                both("您的范围内没有价格序列", "No price series in your scope", lang),
                className="state-panel state-empty",
            )
        ]
    product, market, msgs = _choose(v, b, ask)
    w = prices.warnings(scope=scope, month=month)
    last_week = sig.week_of_day(local_day_of(price_as_of))
    hog = prices.hog_grain(first_week=last_week - 104, last_week=last_week)
    board_card = html.Div(
        graph(ids.board, charts.board(b, lang=lang, theme=p.theme, as_of=as_of)), className="card chart-card"
    )
    hog_card = html.Div(
        graph(ids.hog, charts.hog_grain(hog, lang=lang, theme=p.theme, as_of=as_of)),
        className="card chart-card",
    )
    warn_card = html.Div(
        [
            html.Div(
                [
                    bi_text("预警及原因", "Warnings and why", lang),
                    html.Span(
                        pick(
                            f" · {sig.month_label(month)} · 最差在前",
                            f" · {sig.month_label(month)} · worst first",
                            lang,
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            warnings_table(w.head(WALL_WARNINGS), lang, wall_=True)
            if p.theme == "wall"
            else warnings_table(w, lang),
        ],
        className="card prices-warn-card",
    )
    kpis = html.Div(kpi_cards(v, hog, lang, month), id=ids.kpis, className="ov-kpis")
    if p.theme == "wall":
        return [
            kpis,
            html.Div([board_card, warn_card, hog_card], className="prices-row prices-wall"),
        ]
    detail = html.Div(detail_panel(v, p, product, market), id=ids.detail)
    return [
        notice(msgs, lang) and html.Div(notice(msgs, lang), id=ids.url_notice),
        kpis,
        html.Div([board_card, warn_card], className="prices-row"),
        html.Div(
            [
                html.Div(
                    [
                        dcc.Dropdown(
                            id=ids.product,
                            options=[
                                {"label": pick(r["name_zh"], r["name_en"], lang), "value": r["code"]}
                                for r in prices.products().iter_rows(named=True)
                            ],
                            value=product,
                            clearable=False,
                        ),
                        dcc.Dropdown(
                            id=ids.market,
                            options=[
                                {"label": pick(r["name_zh"], r["name_en"], lang), "value": r["code"]}
                                for r in prices.markets(scope=scope).iter_rows(named=True)
                            ],
                            value=market,
                            clearable=False,
                        ),
                    ],
                    className="prices-pickers",
                ),
                detail,
            ],
            className="card prices-detail",
        ),
        html.Div([hog_card, market_map(v, month, lang)], className="prices-row"),
        coop_card(v, lang),
    ]


def kpi_cards(v: Viewer, hog: pl.DataFrame, lang: str, month: int) -> list[html.Div]:
    period = (f"{sig.month_label(month)} (最新月)", f"{sig.month_label(month)} (newest month)")
    k = prices.board_summary(scope=v.scope(), month=month)
    abnormal, under, qual = k["abnormal"], k["under_cost"], k["qualifies"]
    last = hog.row(-1, named=True) if hog.height else None
    ratio = f"{last['ratio']:.2f}:1" if last and last["ratio"] is not None else "—"
    lv = (last or {}).get("fall_level") or (last or {}).get("rise_level")
    side = pick("下跌", "falling", lang) if (last or {}).get("fall_level") else pick("上涨", "rising", lang)
    return [
        kpi_card(
            "prices-kpi-abnormal",
            ("异常序列", "Series abnormal"),
            f"{abnormal}/{k['priced']}",
            KpiDef(
                (
                    "综合等级 ≥ 异常的序列数 / 有本月价格的序列数",
                    "series at level abnormal or worse / series priced this month",
                ),
                (
                    "IFPA ≥ 1 或 ALPS ≥ 2 或低于成本的序列",
                    "series with |IFPA| >= 1, |ALPS| >= 2 or a price under cost",
                ),
                ("您范围内本月有价格的序列", "series in your scope with a price this month"),
                period,
                f"{SRC}.board",
            ),
            lang,
            sub=pick("产品 × 市场", "product × market", lang),
            tone="bad" if abnormal else "good",
        ),
        kpi_card(
            "prices-kpi-cost",
            ("低于成本 (补贴触发)", "Under cost (subsidy trigger)"),
            str(under),
            KpiDef(
                ("产地价 < 生产成本 的序列数", "farm-gate series whose price < production cost"),
                (
                    "产地收购价低于当年每公斤成本的序列",
                    "farm-gate series priced under the year's cost per kg",
                ),
                ("—", "—"),
                period,
                f"{SRC}.board",
            ),
            lang,
            sub=pick("合作社产地价", "cooperatives' farm gate", lang),
            tone="bad" if under else "good",
        ),
        kpi_card(
            "prices-kpi-hog",
            ("猪粮比价", "Hog-grain ratio"),
            ratio,
            KpiDef(
                ("生猪价格 / 玉米批发价格", "live hog price / corn wholesale price"),
                (
                    "生猪周均价 (元/公斤, 县批发市场)",
                    "live hog weekly mean (yuan/kg, county wholesale market)",
                ),
                ("玉米周均价 (元/公斤, 县批发市场)", "corn weekly mean (yuan/kg, county wholesale market)"),
                ("最新一周", "newest week"),
                f"{SRC}.hog_grain",
            ),
            lang,
            sub=pick(f"{side}{lv}级预警", f"{side} level {lv}", lang)
            if lv
            else pick("未触发预警", "no warning", lang),
            tone="bad" if lv == 1 else "warn" if lv else "good",
        ),
        kpi_card(
            "prices-kpi-qualify",
            ("符合 ALPS 条件", "Series qualifying for ALPS"),
            f"{qual}/{k['series']}",
            KpiDef(
                ("满足 WFP 三条规则的序列数 / 全部序列", "series meeting WFP's three rules / all series"),
                (
                    "≥3年数据, ≥70%月份有价格, 近6个月有价格",
                    ">= 3 years, >= 70% of months priced, a price in the last 6 months",
                ),
                ("您范围内的全部序列", "every series in your scope"),
                period,
                f"{SRC}.board",
            ),
            lang,
            sub=pick("其余序列不计算 ALPS", "the rest get no ALPS figure", lang),
            tone="" if qual == k["series"] else "warn",
        ),
    ]


def _head(cols: tuple[tuple[str, str], ...], lang: str) -> html.Tr:
    return html.Tr([html.Th(both(zh, en, lang, " ")) for zh, en in cols])


def _band_text(value: float | None, band: str | None, words: dict[str, tuple[str, str]], lang: str) -> str:
    if value is None or band is None:
        return "—"
    return f"{value:+.1f} {pick(*words[band], lang)}"


def warnings_table(w: pl.DataFrame, lang: str, *, wall_: bool = False) -> html.Table | html.Div:
    if not w.height:
        return html.Div(both("本月没有预警", "No warnings this month", lang, " / "), className="chart-foot")
    head = _head(
        (
            ("产品 · 市场", "Product · market"),
            ("等级", "Level"),
            ("IFPA", "IFPA"),
            ("ALPS", "ALPS"),
            ("原因", "Why"),
        ),
        lang,
    )
    body = []
    for r in w.iter_rows(named=True):
        level = int(r["level"])
        why_main, why_other = (r["why_zh"], r["why_en"]) if lang == "zh" else (r["why_en"], r["why_zh"])
        body.append(
            html.Tr(
                [
                    html.Td(
                        html.A(
                            f"{pick(r['product_zh'], r['product_en'], lang)} · {pick(r['market_zh'], r['market_en'], lang)}",
                            href=f"/prices?product={r['product']}&market={r['market']}",
                        )
                    ),
                    html.Td(
                        pick(*charts.LEVEL_WORDS[level], lang) + ("↑" if r["side"] == "high" else "↓"),
                        className=f"lvl lvl-{level}",
                    ),
                    html.Td(_band_text(r["ifpa"], r["ifpa_band"], sig.IFPA_WORDS, lang)),
                    html.Td(_band_text(r["alps"], r["alps_band"], sig.ALPS_WORDS, lang)),
                    html.Td(
                        [html.Div(why_main), None if wall_ else html.Div(why_other, className="bi-sub")],
                        className="why",
                    ),
                ]
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="prices-table", id=ids.warnings)


IFPA_NOTE = (
    f"IFPA 需要至少 {sig.IFPA_MIN_YEARS} 年同月增长率 (即 {sig.IFPA_MIN_MONTHS} 个月价格): 少于3个值的加权标准差没有意义.",
    f"IFPA needs the same month's growth rates in at least {sig.IFPA_MIN_YEARS} years ({sig.IFPA_MIN_MONTHS} months of "
    "prices): a weighted standard deviation of fewer than 3 values is noise.",
)


def detail_panel(v: Viewer, p: PageParams, product: str, market: str) -> list[Any]:
    lang = p.lang
    try:
        s = prices.series(scope=v.scope(), product=product, market=market)
    except prices.PriceInputError as exc:
        return [html.Div(both(exc.zh, exc.en, lang, " / "), className="notice", role="status")]
    as_of = as_of_text(prices.as_of())
    name = f"{pick(s.info['product_zh'], s.info['product_en'], lang)} · {pick(s.info['market_zh'], s.info['market_en'], lang)}"
    qual = (
        html.Div(
            both(
                "符合 WFP ALPS 条件 (≥3年, ≥70%月份, 近6个月有价格)",
                "Qualifies for WFP ALPS (>= 3 years, >= 70% of months, a price in the last 6 months)",
                lang,
                " / ",
            ),
            className="alert alert-ok",
        )
        if s.qualifies
        else html.Div(
            both(
                "不计算 ALPS: " + "; ".join(zh for zh, _ in s.reasons),
                "No ALPS figure: " + "; ".join(en for _, en in s.reasons),
                lang,
                " / ",
            ),
            className="alert alert-amber",
            id="prices-qualify-notice",
        )
    )
    m = s.months
    return [
        qual,
        html.Div(both(*IFPA_NOTE, lang, " / "), className="chart-foot"),
        html.Div(
            [
                html.Div(
                    graph(
                        ids.series,
                        charts.series(
                            m, name=name, lang=lang, theme=p.theme, as_of=as_of, qualifies=s.qualifies
                        ),
                    ),
                    className="chart-card prices-series",
                ),
                html.Div(
                    [
                        graph(
                            ids.ifpa,
                            charts.indicator(
                                m,
                                "ifpa",
                                (0.5, 1.0),
                                q=("FAO IFPA: 增长是否异常?", "FAO IFPA: is the growth abnormal?"),
                                unit=("标准差 · 线: ±0.5, ±1", "standard deviations · lines at ±0.5, ±1"),
                                lang=lang,
                                theme=p.theme,
                                as_of=as_of,
                            ),
                        ),
                        graph(
                            ids.alps,
                            charts.indicator(
                                m,
                                "alps",
                                (1.0, 2.0),
                                q=(
                                    "WFP ALPS: 偏离季节趋势多少?",
                                    "WFP ALPS: how far off the seasonal trend?",
                                ),
                                unit=(
                                    "残差标准差 · 线: ±1 警报, ±2 危机",
                                    "residual sd · lines at ±1 alert, ±2 crisis",
                                ),
                                lang=lang,
                                theme=p.theme,
                                as_of=as_of,
                            ),
                        ),
                    ],
                    className="prices-indicators",
                ),
            ],
            className="prices-detail-row",
        ),
        volumes_card(v, p, product, s.info),
    ]


def volumes_card(v: Viewer, p: PageParams, product: str, info: dict[str, Any]) -> html.Div:
    """The product's cooperatives: production and sales against the farm-gate price, or why not."""
    lang = p.lang
    vols = prices.coop_volumes(scope=v.scope(), product=product)
    if not vols.height:
        return html.Div(
            both(
                "没有合作社报告该产品的产量和销量 (或不在您的范围内)",
                "No cooperative reports production and sales of this product (or none in your scope)",
                lang,
                " / ",
            ),
            className="chart-foot",
            id="prices-volumes-empty",
        )
    name = pick(info["product_zh"], info["product_en"], lang)
    as_of = as_of_text(prices.as_of())
    return html.Div(
        graph(ids.volumes, charts.volumes(vols, name=name, lang=lang, theme=p.theme, as_of=as_of)),
        className="chart-card prices-volumes",
    )


@callback(
    Output(ids.detail, "children"),
    Output(ids.params, "data"),
    Input(ids.product, "value"),
    Input(ids.market, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def pick_series(product: object, market: object, params: object) -> Any:
    """Another series: its charts, and the choice kept in the params store for the next refresh."""
    p = PageParams.from_store(params)
    prod, mkt = inputs.query_value(product) or "", inputs.query_value(market) or ""
    return guarded(detail_panel, p.lang, p, prod, mkt), {**p.store(), "product": prod, "market": mkt}


def market_map(v: Viewer, month: int, lang: str) -> html.Div:
    """The markets the viewer sees, each coloured by its worst series this month. No tile layer: nothing
    is fetched from outside the host: the township outlines and the markets' positions."""
    mk = prices.market_worst(scope=v.scope(), month=month)
    markers = [
        dl.CircleMarker(
            center=[r["lat"], r["lon"]],
            radius=14,
            color=charts.LEVEL_COLORS[int(r["worst"])],
            fillColor=charts.LEVEL_COLORS[int(r["worst"])],
            fillOpacity=0.8,
            children=[
                dl.Tooltip(
                    f"{pick(r['name_zh'], r['name_en'], lang)}: {pick(*charts.LEVEL_WORDS[int(r['worst'])], lang)}",
                    permanent=True,
                    direction="right",
                )
            ],
        )
        for r in mk.iter_rows(named=True)
    ]
    return html.Div(
        [
            html.Div(
                [
                    bi_text("各市场最严重的预警", "Each market's worst warning", lang),
                    html.Span(
                        pick(" · 最新月 · 不加载底图", " · newest month · no base map", lang),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            dl.Map(
                [
                    # the townships' outlines (the one shared query the divide map and the loop use), so
                    # the markets stand in the county, not on a blank ground
                    dl.GeoJSON(
                        data=geo.township_outlines(),
                        style={"color": "#94a3b8", "weight": 1, "fillOpacity": 0.04},
                        interactive=False,
                    ),
                    *markers,
                ],
                id=ids.map,
                center=[sum(mk["lat"]) / mk.height, sum(mk["lon"]) / mk.height]
                if mk.height
                else [23.37, 103.39],
                zoom=10,
                attributionControl=False,
                style={"height": "400px", "width": "100%", "background": "var(--bg)"},
            ),
        ],
        className="card",
    )


def coop_card(v: Viewer, lang: str) -> html.Div:
    """One AG Grid (row data, not a component per cell: at full scale there are 72 cooperatives)."""
    q = prices.coop_quality(scope=v.scope())
    rows = [
        {
            "coop": pick(r["name_zh"], r["name_en"], lang),
            "months": f"{r['months_present']}/{r['span_months']}",
            "coverage": r["coverage"],
            "late": r["late_rate"],
            "outliers": r["outliers"],
            "per_jin": r["per_jin"],
            "produced_t": round((r["produced_kg"] or 0) / 1000),
            "sold_t": round((r["sold_kg"] or 0) / 1000),
        }
        for r in q.iter_rows(named=True)
    ]
    pct = {"function": "params.value == null ? '—' : d3.format('.0%')(params.value)"}

    def col(field: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
        return {
            "field": field,
            "headerName": both(zh, en, lang, " "),
            "headerTooltip": both(zh, en, lang),
            **kw,
        }

    num = {"type": "numericColumn"}
    grid = dag.AgGrid(
        id=ids.coops,
        rowData=rows,
        columnDefs=[
            col("coop", "合作社", "Cooperative", flex=3, minWidth=220, tooltipField="coop"),
            col("months", "有数据月份", "Months present", **num),
            col(
                "coverage",
                "覆盖 (≥70%)",
                "Coverage (>= 70%)",
                **num,
                valueFormatter=pct,
                cellClassRules={"cell-bad": f"params.value < {sig.ALPS_MIN_COVERAGE}"},
            ),
            col("late", "迟报率", "Late", **num, valueFormatter=pct),
            col("outliers", "异常值", "Outliers", **num, cellClassRules={"cell-warn": "params.value > 0"}),
            col("per_jin", "按斤上报", "Sent per jin", **num),
            col("produced_t", "产量 (吨)", "Produced (t)", **num),
            col("sold_t", "销量 (吨)", "Sold (t)", **num),
        ],
        className="ag-grid ag-theme-alpine",
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": False,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={"animateRows": False, "tooltipShowDelay": 200, "rowHeight": 28},
        columnSize="responsiveSizeToFit",
        style={"height": "360px", "width": "100%"},
    )
    return html.Div(
        [
            html.Div(
                bi_text("合作社上报质量", "Cooperatives' reporting quality", lang), className="card-title"
            ),
            html.P(
                pick(
                    "全部历史 · 迟报 = 观测后超过7天上报 · 按斤上报的价格已换算为元/公斤 · 异常值 (相邻月中位数3倍以外) 不计入月均价",
                    "whole history · late = reported more than 7 days after · per-jin prices converted to yuan/kg · "
                    "outliers (beyond 3x the neighbouring months' median) left out of monthly means",
                    lang,
                ),
                className="chart-foot",
            ),
            grid,
        ],
        className="card",
    )


def ledger_card(v: Viewer, lang: str) -> html.Div:
    form: list[Any] = []
    if v.role in prices.DECIDERS:
        form = [
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.kind,
                        options=[
                            {"label": pick(*w, lang), "value": k} for k, w in prices.DECISION_KINDS.items()
                        ],
                        value="guidance",
                        clearable=False,
                    ),
                    dcc.Input(
                        id=ids.amount,
                        type="number",
                        min=0,
                        placeholder=pick("金额 (元)", "amount (yuan)", lang),
                    ),
                    dcc.Input(
                        id=ids.note, type="text", maxLength=500, placeholder=pick("说明", "note", lang)
                    ),
                    html.Button(
                        both("对当前序列作出决策", "Decide on the series shown", lang, " / "),
                        id=ids.decide,
                        className="btn",
                    ),
                ],
                className="prices-form",
            ),
            html.Div(id=ids.decided, role="status"),
        ]
    return html.Div(
        [
            html.Div(
                bi_text("决策台账: 预警 → 决策 → 结果", "Ledger: warning → decision → outcome", lang),
                className="card-title",
            ),
            *form,
            html.Div(ledger_table(v, lang), id=ids.ledger),
        ],
        className="card",
    )


def _kind_words(kind: str) -> tuple[str, str]:
    return prices.DECISION_KINDS.get(kind, (kind, kind))


def _sold_text(r: dict[str, Any], lang: str) -> str:
    if r["sold_then"] is None:
        return pick("无合作社报告", "no coop reports", lang)
    if r["sold_since"] is None:
        return f"{r['sold_then'] / 1000:,.1f} → " + pick("尚无", "not yet", lang)
    change = f" ({r['sold_change']:+.0%})" if r["sold_change"] is not None else ""
    return f"{r['sold_then'] / 1000:,.1f} → {r['sold_since'] / 1000:,.1f}{change}"


def ledger_table(v: Viewer, lang: str) -> html.Table | html.Div:
    d = prices.decisions(scope=v.scope())
    if not d.height:
        return html.Div(both("尚无决策", "No decisions yet", lang, " / "), className="chart-foot")
    head = _head(
        (
            ("序列", "Series"),
            ("预警月", "Warning month"),
            ("决策", "Decision"),
            ("金额 (元)", "Amount (yuan)"),
            ("决策人", "By"),
            ("当时价格", "Price then"),
            ("最新价格", "Price since"),
            ("变化", "Change"),
            ("合作社销量 当月 → 此后月均 (吨)", "Coops' sales: that month → monthly mean since (t)"),
        ),
        lang,
    )
    rows = [
        html.Tr(
            [
                html.Td(f"{r['product_code']} · {r['market_code']}"),
                html.Td(
                    f"{sig.month_label(r['month'])} ({pick(*charts.LEVEL_WORDS[int(r['level'])], lang)})"
                ),
                html.Td(pick(*_kind_words(r["kind"]), lang)),
                html.Td(f"{r['amount_yuan']:,.0f}" if r["amount_yuan"] else "—"),
                html.Td(r["decided_by"]),
                html.Td(f"{r['price_then']:.2f}" if r["price_then"] is not None else "—"),
                html.Td(
                    f"{r['price_since']:.2f}"
                    if r["price_since"] is not None
                    else pick("尚无", "not yet", lang)
                ),
                html.Td(f"{r['change']:+.0%}" if r["change"] is not None else "—"),
                html.Td(_sold_text(r, lang)),
            ]
        )
        for r in d.iter_rows(named=True)
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="prices-table")


@callback(
    Output(ids.decided, "children"),
    Output(ids.ledger, "children"),
    Input(ids.decide, "n_clicks"),
    State(ids.product, "value"),
    State(ids.market, "value"),
    State(ids.kind, "value"),
    State(ids.amount, "value"),
    State(ids.note, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def decide(
    n: object, product: object, market: object, kind: object, amount: object, note: object, params: object
) -> Any:
    # a callback is its own request: who may decide is checked again here (and in the query layer)
    p = PageParams.from_store(params)
    lang = p.lang
    if not n:
        return no_update, no_update
    try:
        v = auth.current_viewer()
    except PoolError as exc:
        return error_panel(exc, lang), no_update
    if v is None:
        return both("请先登录", "Please log in", lang, " / "), no_update
    try:
        amt = float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None
        did = prices.record_decision(
            audit.Actor.of(v),
            scope=v.scope(),
            product=inputs.query_value(product) or "",
            market=inputs.query_value(market) or "",
            month=prices.end_month(),
            kind=inputs.one_of(kind, prices.DECISION_KINDS, ""),
            amount_yuan=amt,
            note=note if isinstance(note, str) else "",
        )
    except prices.PriceInputError as exc:
        return html.Div(both(exc.zh, exc.en, lang, " / "), className="alert alert-amber"), no_update
    except PoolError as exc:
        return error_panel(exc, lang), no_update
    msg = html.Div(
        both(f"已记录决策 #{did}", f"Decision #{did} recorded", lang, " / "), className="alert alert-ok"
    )
    return msg, ledger_table(v, lang)
