"""Agricultural price monitor: the warning board, the warnings side by side in plain words, one product's
series with its seasonal band and indicators, the hog-grain ratio, cooperatives' reporting, and the
ledger from warning to decision to outcome."""

from __future__ import annotations

from typing import Any

import dash
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboard import inputs, wall, warmup
from dashboard.components import graph, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.prices import charts
from dashboard.pages.prices.cards import coop_card, kpi_cards, market_map, warnings_table
from dashboard.pages.prices.ids import ids
from dashboard.pages.prices.ledger import ledger_card
from dashboard.view import PageParams, as_of_text, guarded, page_params, reads, remembered, warm
from queries import price_signals as sig
from queries import prices
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

__all__ = ["ids", "layout"]

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


# after a price import (or a decision) the page opened without a series asked for is rendered ahead
warmup.register(__name__, lambda v, p: warm(v, page, p, (None, None)))


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
