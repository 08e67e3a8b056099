"""Pieces of the loop view: KPI cards with their definitions, case tables that link to /case, the map."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dash_leaflet as dl
import polars as pl
from dash import html

from dashboard.components import KpiDef, kpi_card
from dashboard.components.lite import el
from dashboard.i18n import bi_text, pick
from dashboard.view import as_of_text
from queries import loop


@dataclass
class Choice:
    """The period and township a page load asked for, and what was wrong with the request."""

    month_from: int | None
    month_to: int | None
    township: int | None
    messages: list[tuple[str, str]] = field(default_factory=list)


SRC = "queries.loop"
STATE_LABELS = {
    "overdue_close": ("超期未办结", "Past the closure due time"),
    "overdue_sign": ("超时未签收", "Not signed for in time"),
    "due_soon": ("1天内到期", "Due within a day"),
    "on_track": ("正常", "On track"),
}
STATE_COLORS = {
    "overdue_close": "#dc2626",
    "overdue_sign": "#f97316",
    "due_soon": "#eab308",
    "on_track": "#16a34a",
}
CLOCK_TITLES = {
    "sign": ("签收时钟: 哪些案件超时未签收?", "Sign-for clock: which cases are not signed for in time?"),
    "close": ("办结时钟: 哪些案件超期未办结?", "Closure clock: which cases are past their due time?"),
}
STOP_LABELS = {
    "stuck": ("受理后未处置 (停滞)", "Opened, never responded (stuck)"),
    "never_evaluated": ("已响应未评估", "Responded, never evaluated"),
    "never_fed_back": ("已评估未反馈", "Evaluated, never fed back"),
    "never_optimized": ("高发问题未优化", "Recurring hotspots never optimized"),
}


def _pct(k: loop.Kpi) -> str:
    v = k.value
    if k.key == "escalate":
        return f"{k.numerator:,}"
    return "—" if v is None else f"{v:.1%}"


def _tone(k: loop.Kpi) -> str:
    v = k.value
    if v is None:
        return ""
    if k.key == "escalate":
        return "bad" if k.numerator else "good"
    if k.key == "return_visit":
        return "good" if v >= loop.RETURN_VISIT_TARGET else "bad"
    return "good" if v >= 0.9 else "warn" if v >= 0.75 else "bad"


NUM_DEN = {
    "closure": (("已办结案件", "closed cases"), ("受理案件 − 延期未结案件", "opened − deferred still open")),
    "on_time": (
        ("在办结期限(含批准延期)内办结的案件", "cases closed by their due time (approved deferrals added)"),
        ("受理案件 − 延期未结案件", "opened − deferred still open"),
    ),
    "sign_on_time": (
        ("2个工作小时内签收的案件", "cases signed within 2 working hours"),
        ("受理案件", "opened"),
    ),
    "evaluation": (("已评估案件", "cases evaluated"), ("已响应(处置)案件", "cases responded to")),
    "feedback": (("已向群众反馈的案件", "cases fed back to the reporter"), ("已评估案件", "cases evaluated")),
    "return_visit": (
        ("有回访的办结案件", "closed cases with a return visit"),
        ("已办结案件", "closed cases"),
    ),
    "satisfaction": (
        ("满意 + 基本满意", "satisfied + basically satisfied"),
        ("回访中作出评价的案件", "return visits with an answer"),
    ),
    "escalate": (
        ("重办≥3次, 或经3个部门且无牵头的案件", "reopened >= 3 times, or with 3 departments and no lead"),
        ("受理案件", "opened"),
    ),
}


def kpi_cards(kpis: list[loop.Kpi], period: tuple[str, str], lang: str) -> list[html.Div]:
    out = []
    for k in kpis:
        num, den = NUM_DEN[k.key]
        sub = pick(f"{k.numerator:,} / {k.denominator:,}", f"{k.numerator:,} of {k.denominator:,}", lang)
        if k.key == "return_visit":
            sub += pick(" · 目标 ≥ 10%", " · target >= 10%", lang)
        out.append(
            kpi_card(
                f"loop-kpi-{k.key.replace('_', '-')}",
                (k.zh, k.en),
                _pct(k),
                KpiDef((k.formula_zh, k.formula_en), num, den, period, f"{SRC}.kpis"),
                lang,
                sub=sub,
                tone=_tone(k),
            )
        )
    return out


def title(q: tuple[str, str], foot: str, lang: str) -> html.Div:
    return html.Div([bi_text(*q, lang), html.Span(foot, className="chart-foot")], className="card-title")


def case_link(cid: int) -> dict[str, Any]:
    return el("A", f"#{cid}", href=f"/case?id={cid}", className="loop-case-link")


def overdue_table(frame: pl.DataFrame, depts: dict[int, tuple[str, str]], lang: str, rows: int) -> Any:
    if not frame.height:
        return html.Div(pick("无超期案件", "No overdue cases", lang), className="loop-none")
    head = html.Tr(
        [
            html.Th(pick("案件", "Case", lang)),
            html.Th(pick("问题类型", "Problem type", lang)),
            html.Th(pick("责任部门", "Department", lang)),
            html.Th(pick("环节", "Stage", lang)),
            html.Th(pick("超期(工作小时)", "Overdue (working h)", lang), className="num"),
        ]
    )
    body = [
        el(
            "Tr",
            [
                el("Td", case_link(int(r["id"]))),
                el("Td", pick(r["problem_zh"], r["problem_en"], lang)),
                el("Td", pick(*depts.get(int(r["dept_id"]), ("?", "?")), lang)),
                el("Td", pick(*_stage(r["stage"]), lang)),
                el("Td", f"{r['overdue_wh']:,.1f}", className="num"),
            ],
        )
        for r in frame.head(rows).iter_rows(named=True)
    ]
    return el("Table", [el("Thead", head), el("Tbody", body)], className="tbl loop-tbl")


def _stage(s: str) -> tuple[str, str]:
    from dashboard.pages.loop.charts import STAGE_LABELS

    return STAGE_LABELS.get(s, (s, s))


def stops_list(stops: dict[str, int], examples: dict[str, list[int]], lang: str) -> html.Ul:
    items = []
    for key, (zh, en) in STOP_LABELS.items():
        links: list[Any] = []
        for cid in examples.get(key, [])[:6]:
            links += [case_link(cid), " "]
        items.append(
            html.Li(
                [
                    html.Span(f"{stops.get(key, 0):,}", className="loop-stop-n"),
                    bi_text(zh, en, lang),
                    html.Div(links, className="loop-stop-ids"),
                ],
                id=f"loop-stop-{key.replace('_', '-')}",
                className="loop-stop" + (" bad" if stops.get(key, 0) else ""),
            )
        )
    return html.Ul(items, className="loop-stops")


def ranking_table(frame: pl.DataFrame, lang: str, rows: int, min_sample: int) -> Any:
    if not frame.height:
        return html.Div(pick("无数据", "No data", lang), className="loop-none")

    def pct(v: float | None) -> str:
        return "—" if v is None or v != v else f"{v:.1%}"

    head = html.Tr(
        [
            html.Th("#"),
            html.Th(pick("单位", "Unit", lang)),
            html.Th(pick("案件", "Cases", lang), className="num"),
            html.Th(pick("按时办结率", "On-time", lang), className="num"),
            html.Th(pick("办结率", "Closure", lang), className="num"),
            html.Th(pick("评估率", "Evaluated", lang), className="num"),
            html.Th(pick("反馈率", "Fed back", lang), className="num"),
        ]
    )
    body = []
    for r in frame.head(rows).iter_rows(named=True):
        small = r["rank"] is None
        body.append(
            el(
                "Tr",
                [
                    el("Td", "—" if small else str(r["rank"])),
                    el("Td", pick(r["name_zh"] or str(r["unit"]), r["name_en"] or str(r["unit"]), lang)),
                    el("Td", f"{r['n']:,}", className="num"),
                    el("Td", pct(r["on_time"]), className="num"),
                    el("Td", pct(r["closure"]), className="num"),
                    el("Td", pct(r["evaluation"]), className="num"),
                    el("Td", pct(r["feedback"]), className="num"),
                ],
                className="loop-small" if small else "",
                title=pick(
                    f"样本不足 {min_sample} 件, 不参与排名",
                    f"fewer than {min_sample} cases: not ranked",
                    lang,
                )
                if small
                else None,
            )
        )
    return el("Table", [el("Thead", head), el("Tbody", body)], className="tbl loop-tbl")


def hotspot_table(frame: pl.DataFrame, towns: dict[int, tuple[str, str]], lang: str, rows: int) -> Any:
    if not frame.height:
        return html.Div(
            pick("所选期间没有高发问题", "No recurring hotspots in the period", lang), className="loop-none"
        )
    head = html.Tr(
        [
            html.Th(pick("问题类型", "Problem type", lang)),
            html.Th(pick("地点", "Place", lang)),
            html.Th(
                pick(f"{loop.HOTSPOT_DAYS}天内件数", f"cases in {loop.HOTSPOT_DAYS} days", lang),
                className="num",
            ),
            html.Th(pick("时间", "When", lang)),
            html.Th(pick("已优化", "Optimized", lang)),
            html.Th(pick("案件", "Cases", lang)),
        ]
    )
    body = []
    for r in frame.head(rows).iter_rows(named=True):
        links: list[Any] = []
        for cid in r["case_ids"][:4]:
            links += [case_link(int(cid)), " "]
        town = pick(*towns.get(int(r["township_code"]), ("", "")), lang)
        body.append(
            el(
                "Tr",
                [
                    el("Td", pick(r["problem_zh"] or "", r["problem_en"] or "", lang)),
                    el("Td", f"{town} {r['community_zh'] or ''}".strip()),
                    el("Td", f"{r['n']:,}", className="num"),
                    el("Td", f"{as_of_text(r['first_at'])[:10]} – {as_of_text(r['last_at'])[:10]}"),
                    el(
                        "Td",
                        pick("是", "yes", lang) if r["optimized"] else pick("否", "no", lang),
                        className="" if r["optimized"] else "loop-bad-text",
                    ),
                    el("Td", links),
                ],
            )
        )
    return el("Table", [el("Thead", head), el("Tbody", body)], className="tbl loop-tbl")


def points_geojson(points: pl.DataFrame) -> dict[str, Any]:
    """Open cases as GeoJSON points, kept small (thousands of them at full scale): the id and the index
    of the overdue state; assets/loop.js draws the colour, the tooltip and the link to /case."""
    code = {k: i for i, k in enumerate(loop.OVERDUE_STATES)}
    cols = points.select(
        "id",
        pl.col("lon").round(5),
        pl.col("lat").round(5),
        pl.col("state").replace_strict(code, return_dtype=pl.Int8),
    )
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"id": i, "s": s},
        }
        for i, x, y, s in zip(*(cols[c].to_list() for c in cols.columns), strict=True)
    ]
    return {"type": "FeatureCollection", "features": feats}


def cells_geojson(cells: pl.DataFrame) -> dict[str, Any]:
    """Grid cells of open cases (loop.map_cells) as GeoJSON points: how many, and how many overdue."""
    late = cells["overdue_close"] + cells["overdue_sign"]
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"n": n, "late": k},
        }
        for x, y, n, k in zip(
            cells["lon"].round(5).to_list(),
            cells["lat"].round(5).to_list(),
            cells["n"].to_list(),
            late.to_list(),
            strict=True,
        )
    ]
    return {"type": "FeatureCollection", "features": feats}


def state_labels(lang: str) -> list[str]:
    """The overdue states' names in the order of points_geojson's codes (read by assets/loop.js)."""
    return [pick(*STATE_LABELS[k], lang) for k in loop.OVERDUE_STATES]


def leaflet_map(
    mid: str,
    points: dict[str, Any],
    outlines: dict[str, Any],
    basemap: str,
    lang: str,
    *,
    clustered: bool = True,
) -> html.Div:
    """Points clustered in the browser, or (clustered=False) grid cells already counted on the server."""
    """No tile layer unless CC_BASEMAP_URL names one: township outlines and the points, nothing off-host."""
    layers: list[Any] = [dl.TileLayer(url=basemap)] if basemap else []
    layers += [
        dl.GeoJSON(data=outlines, style={"variable": "loop.township"}, interactive=False),
        dl.Pane(
            dl.GeoJSON(
                data=points,
                id=mid,
                cluster=clustered,
                zoomToBoundsOnClick=True,
                superClusterOptions={"radius": 60, "maxZoom": 15},
                pointToLayer={"variable": "loop.point" if clustered else "loop.cell"},
                onEachFeature={"variable": "loop.bind"},
                clusterToLayer={"variable": "loop.cluster"},
            ),
            name="cases",
            style={"zIndex": 450},
        ),
    ]
    container = dl.MapContainer(
        layers,
        center=[23.3, 103.51],
        zoom=10,
        zoomSnap=0.25,
        attributionControl=False,
        className="loop-map",
        style={"height": "100%", "width": "100%"},
    )
    # the labels the map's tooltips use, in the page's language, for assets/loop.js
    labels = {
        "states": state_labels(lang),
        "case": pick("案件", "Case", lang),
        "cell": pick("件未办结, 其中超期", "open cases, overdue", lang),
    }
    attrs: dict[str, Any] = {"data-labels": json.dumps(labels, ensure_ascii=False)}
    return html.Div(container, className="loop-mapinner", **attrs)


def map_legend(counts: dict[str, int], lang: str) -> html.Div:
    return html.Div(
        [
            html.Span(
                [
                    html.Span(className="loop-dot", style={"background": STATE_COLORS[k]}),
                    f"{pick(*STATE_LABELS[k], lang)} {counts.get(k, 0):,}",
                ],
                className="loop-legend-item",
            )
            for k in loop.OVERDUE_STATES
        ],
        className="loop-legend",
    )
