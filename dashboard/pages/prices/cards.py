"""The price page's cards: the KPI row, the warnings table, the market map and the cooperatives' grid."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_leaflet as dl
import polars as pl
from dash import html

from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.prices import charts
from dashboard.pages.prices.ids import ids
from queries import geo, prices
from queries import price_signals as sig
from queries.scope import Viewer

SRC = "queries.prices"


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


def head_row(cols: tuple[tuple[str, str], ...], lang: str) -> html.Tr:
    return html.Tr([html.Th(both(zh, en, lang, " ")) for zh, en in cols])


def _band_text(value: float | None, band: str | None, words: dict[str, tuple[str, str]], lang: str) -> str:
    if value is None or band is None:
        return "—"
    return f"{value:+.1f} {pick(*words[band], lang)}"


def warnings_table(w: pl.DataFrame, lang: str, *, wall_: bool = False) -> html.Table | html.Div:
    if not w.height:
        return html.Div(both("本月没有预警", "No warnings this month", lang, " / "), className="chart-foot")
    head = head_row(
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
