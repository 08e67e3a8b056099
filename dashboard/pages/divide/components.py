"""Component builders of the divide page: the map's metrics and class breaks, the map, its legend, the
township panel, the investment ranking and the KPI cards. Pure: frames in, components out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_leaflet as dl
import polars as pl
from dash import html

from dashboard import inputs
from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick
from queries import divide

SRC = "queries.divide"


@dataclass(frozen=True)
class Metric:
    key: str  # column of divide.township_table
    zh: str
    en: str
    unit_zh: str
    unit_en: str
    worse_when_high: bool
    pct: bool  # a 0-1 share shown as %


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("index", "数字鸿沟指数", "Digital divide index", "0-100", "0-100", True, False),
        Metric(divide.INFRA, "基础设施分项", "Infrastructure part", "0-100", "0-100", True, False),
        Metric(divide.SOCIO, "社会经济分项", "Socio-economic part", "0-100", "0-100", True, False),
        *[
            Metric(i.column, i.zh, i.en, i.unit_zh, i.unit_en, i.worse_when_high, i.share)
            for i in divide.INDICATORS.values()
        ],
        Metric(
            "use_per_1k_day",
            "平台使用强度",
            "Platform use",
            "条/千人/日",
            "records / 1,000 / day",
            False,
            False,
        ),
        Metric("late_share", "数据迟到率", "Late data", "%", "%", True, True),
        Metric(
            "visits_per_1k",
            "线下窗口到访",
            "Counter visits",
            "人次/千人/季",
            "visits / 1,000 / quarter",
            False,
            False,
        ),
    )
}
# light (narrow divide) to dark red (wide divide), five classes
COLORS = ("#fef3c7", "#fcd34d", "#f59e0b", "#dc2626", "#7f1d1d")


def fmt(m: Metric, v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v * 100:.1f}%" if m.pct else f"{v:,.1f}"


def breaks(m: Metric, values: list[float]) -> list[float]:
    """Four inner class breaks: fixed at 20/40/60/80 for the 0-100 scores, else equal steps over the
    townships' range (so the map always uses all five classes)."""
    if m.unit_en == "0-100":
        return [20.0, 40.0, 60.0, 80.0]
    lo, hi = min(values), max(values)
    step = (hi - lo) / 5 or 1.0
    return [lo + step * k for k in range(1, 5)]


def color_of(m: Metric, v: float | None, cuts: list[float]) -> str:
    if v is None:
        return "#9ca3af"
    k = sum(v >= c for c in cuts)
    return COLORS[k if m.worse_when_high else 4 - k]


def township_features(
    outlines: dict[str, Any], table: pl.DataFrame, m: Metric, selected: int | None, lang: str
) -> tuple[dict[str, Any], list[float]]:
    """The township zones with colour, tooltip (value, index and parts, period: the figure's inputs) and
    selection in their properties."""
    rows = {r["township_code"]: r for r in table.iter_rows(named=True)}
    values = [float(r[m.key]) for r in rows.values() if r[m.key] is not None]
    cuts = breaks(m, values or [0.0])
    feats = []
    for f in outlines["features"]:
        p = f["properties"]
        r = rows.get(p["code"])
        name = pick(p["name_zh"], p["name_en"], lang)
        if r is None:
            tip = f"<b>{name}</b><br>{both('不在您的范围内', 'outside your scope', lang, ' / ')}"
            props = {**p, "color": "#e5e7eb", "tooltip": tip, "selected": False}
        else:
            v = r[m.key]
            tip = (
                f"<b>{name}</b>{' · ' + pick('示意区划', 'schematic zone', lang) if p['schematic'] else ''}<br>"
                f"{pick(m.zh, m.en, lang)}: <b>{fmt(m, v)}</b> {'' if m.pct else pick(m.unit_zh, m.unit_en, lang)}<br>"
                f"{pick('指数', 'Index', lang)} {r['index']:.0f} = "
                f"{pick('基础设施', 'infrastructure', lang)} {r[divide.INFRA]:.0f} + "
                f"{pick('社会经济', 'socio-economic', lang)} {r[divide.SOCIO]:.0f} ({pick('归一', 'rescaled', lang)})<br>"
                f"{pick('统计期', 'Period', lang)} {r['period']}"
            )
            props = {**p, "color": color_of(m, v, cuts), "tooltip": tip, "selected": p["code"] == selected}
        feats.append({**f, "properties": props})
    return {"type": "FeatureCollection", "features": feats}, cuts


def legend(m: Metric, cuts: list[float], lang: str) -> html.Div:
    unit = pick(m.unit_zh, m.unit_en, lang)
    edges = ["", *[fmt(m, c) for c in cuts], ""]
    items = []
    for k in range(5):
        color = COLORS[k if m.worse_when_high else 4 - k]
        lo, hi = edges[k], edges[k + 1]
        text = f"< {hi}" if not lo else (f"≥ {lo}" if not hi else f"{lo} – {hi}")
        items.append(
            html.Div(
                [html.Span(className="swatch", style={"background": color}), text], className="legend-item"
            )
        )
    return html.Div(
        [
            html.Div(both(m.zh, m.en, lang, " · ") + f" ({unit})", className="legend-title"),
            *items,
            html.Div(
                pick(
                    "深色 = 鸿沟更大 · 虚线边界 = 示意区划",
                    "darker = wider divide · dashed = schematic zone",
                    lang,
                ),
                className="legend-foot",
            ),
        ],
        className="divide-legend",
    )


def leaflet_map(mid: str, towns: dict[str, Any], counties: dict[str, Any], basemap: str) -> dl.MapContainer:
    """No tile layer unless CC_BASEMAP_URL names one: the outlines alone, nothing fetched off the host."""
    layers: list[Any] = [dl.TileLayer(url=basemap)] if basemap else []
    layers += [
        dl.GeoJSON(data=counties, style={"variable": "divide.county"}, interactive=False),
        # a pane of their own: drawn above the counties, and found by tests and the page's ready check
        dl.Pane(
            dl.GeoJSON(data=towns, id=mid, style={"variable": "divide.township"}),
            name="townships",
            style={"zIndex": 450},
        ),
    ]
    return dl.MapContainer(
        layers,
        center=[23.3, 103.51],
        zoom=10,
        zoomSnap=0.25,
        attributionControl=False,
        className="divide-map",
        style={"height": "100%", "width": "100%"},
    )


def panel(r: dict[str, Any], schematic: bool, lang: str) -> list[Any]:
    """A township's figures with their inputs: every indicator, its z-score in the index, the period."""
    name = pick(r["name_zh"], r["name_en"], lang)
    action = divide.ACTIONS[r["dominant"]]
    rows = []
    real = set(str(r.get("imported") or "").split(","))
    for i in divide.INDICATORS.values():
        m = METRICS[i.column]
        part = pick(*divide.PART_LABELS[i.part], lang) if i.part else ""
        tag = pick(" (导入)", " (imported)", lang) if i.column in real else ""
        rows.append(
            html.Tr(
                [
                    html.Td(pick(i.zh, i.en, lang) + tag),
                    html.Td(fmt(m, r[i.column]) + ("" if m.pct else f" {m.unit_en}"), className="num"),
                    html.Td(f"{r['z_' + i.column]:+.2f}", className="num"),
                    html.Td(part),
                ]
            )
        )
    head = html.Tr(
        [
            html.Th(pick("指标", "Indicator", lang)),
            html.Th(pick("数值", "Value", lang)),
            html.Th("z"),
            html.Th(pick("分项", "Part", lang)),
        ]
    )
    facts = [
        (
            ("平台使用", "Platform use"),
            f"{r['use_per_1k_day']:.2f} {pick('条/千人/日', 'records / 1,000 / day', lang)}",
        ),
        (("数据迟到率", "Late data"), "—" if r["late_share"] is None else f"{r['late_share']:.1%}"),
        (
            ("线下窗口", "Service counters"),
            pick(
                f"{r['halls']} 个中心 · {r['counters'] - r['halls']} 个代办点",
                f"{r['halls']} hall · {r['counters'] - r['halls']} stations",
                lang,
            ),
        ),
        (
            ("窗口到访", "Counter visits"),
            pick(
                f"{r['visits']:,} 人次, 代办网上业务 {r['assisted_share'] or 0:.0%}",
                f"{r['visits']:,}, {r['assisted_share'] or 0:.0%} assisted online",
                lang,
            ),
        ),
        (
            ("数字技能培训", "Digital-literacy training"),
            pick(
                f"{r['training_sessions']} 场 · {r['training_attendees']:,} 人次",
                f"{r['training_sessions']} sessions · {r['training_attendees']:,} attendees",
                lang,
            ),
        ),
    ]
    return [
        html.Div(
            [
                html.Span(name, className="panel-name"),
                html.Span(
                    pick(" · 示意区划", " · schematic zone", lang) if schematic else "",
                    className="chart-foot",
                ),
            ],
            className="card-title",
        ),
        html.Div(
            [
                html.Div(
                    [
                        html.Div(f"{r['index']:.0f}", className="kpi-value"),
                        bi_text("指数", "Index", lang, "kpi-label"),
                    ]
                ),
                html.Div(
                    [
                        html.Div(f"{r[divide.INFRA]:.0f}", className="kpi-value"),
                        bi_text("基础设施", "Infrastructure", lang, "kpi-label"),
                    ]
                ),
                html.Div(
                    [
                        html.Div(f"{r[divide.SOCIO]:.0f}", className="kpi-value"),
                        bi_text("社会经济", "Socio-economic", lang, "kpi-label"),
                    ]
                ),
            ],
            className="divide-scores",
        ),
        html.Div(both(*action, lang, " / "), className=f"divide-action dom-{r['dominant']}"),
        html.Div(
            [
                html.Div([html.Span(pick(*k, lang), className="kdef-k"), html.Span(v)], className="fact")
                for k, v in facts
            ],
            className="divide-facts",
        ),
        html.Table([html.Thead(head), html.Tbody(rows)], className="truth-table divide-inputs"),
        html.Div(
            pick(
                f"统计期 {r['period']} · z = (值 − 全市均值) / 标准差, 正值 = 鸿沟更大 · 来源 {SRC}.township_table",
                f"Period {r['period']} · z = (value − county mean) / sd, positive = wider divide · source {SRC}.township_table",
                lang,
            ),
            className="chart-foot",
        ),
    ]


def ranking_table(rank: pl.DataFrame, lang: str, limit: int) -> html.Table:
    head = html.Tr(
        [
            html.Th("#"),
            html.Th(pick("乡镇(街道)", "Township", lang)),
            html.Th(pick("指数", "Index", lang)),
            html.Th(pick("先做什么", "Invest first in", lang)),
            html.Th(pick("居民", "Residents", lang), className="wall-hide"),
            html.Th(pick("未上网", "Offline", lang)),
            html.Th("65+", className="wall-hide"),
            html.Th(pick("少数民族", "Minority", lang), className="wall-hide"),
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(r["rank"]),
                html.Td(pick(r["name_zh"], r["name_en"], lang)),
                html.Td(f"{r['index']:.0f}", className="num"),
                html.Td(
                    pick(*divide.PART_LABELS.get(r["dominant"], ("两者并重", "Both")), lang),
                    className=f"dom-{r['dominant']}",
                ),
                html.Td(f"{r['population']:,}", className="num wall-hide"),
                html.Td(f"{r['people_offline']:,}", className="num"),
                html.Td(f"{r['people_65']:,}", className="num wall-hide"),
                html.Td(f"{r['people_minority']:,}", className="num wall-hide"),
            ]
        )
        for r in rank.head(limit).iter_rows(named=True)
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="truth-table divide-rank")


def kpis(s: dict[str, Any], period: str, lang: str) -> list[html.Div]:
    """The headline cards from divide.summary."""
    per = (f"{period} 季度", f"quarter {period}")
    gap, infra, offline = s["gap_pp"], s["infra_led"], s["offline"]
    visits, pop, attendees = s["visits"], s["population"], s["attendees"]
    return [
        kpi_card(
            "divide-kpi-gap",
            ("城乡上网差距", "Urban-rural gap"),
            "—" if gap is None else f"{gap:.1f} pp",
            KpiDef(
                (
                    "城镇街道上网率 − 农村乡镇上网率 (人口加权)",
                    "urban − rural share online (population-weighted)",
                ),
                ("城镇、农村上网居民", "residents online, urban and rural"),
                ("城镇、农村常住人口", "residents, urban and rural"),
                per,
                f"{SRC}.summary ← {SRC}.benchmarks",
            ),
            lang,
            sub=pick("全国 2022-06: 24.1 pp", "national 2022-06: 24.1 pp", lang),
            tone="warn" if gap is not None and gap > 24.1 else "good",
        ),
        kpi_card(
            "divide-kpi-infra",
            ("先补网络的乡镇", "Fix infrastructure first"),
            f"{infra}/{s['townships']}",
            KpiDef(
                (
                    "基础设施分项 > 社会经济分项的乡镇数",
                    "townships whose infrastructure part exceeds the socio-economic part",
                ),
                ("基础设施主导的乡镇", "townships led by infrastructure"),
                ("您范围内的乡镇", "townships in your scope"),
                per,
                f"{SRC}.divide_index",
            ),
            lang,
            sub=pick("其余先投数字素养", "the rest: literacy first", lang),
        ),
        kpi_card(
            "divide-kpi-offline",
            ("未上网居民", "Residents offline"),
            f"{offline:,}",
            KpiDef(
                ("Σ 常住人口 × (1 − 互联网普及率)", "Σ residents × (1 − internet penetration)"),
                ("未上网居民", "residents not online"),
                ("—", "—"),
                per,
                f"{SRC}.township_table",
            ),
            lang,
            sub=pick("双轨服务的对象", "who the offline track serves", lang),
        ),
        kpi_card(
            "divide-kpi-visits",
            ("线下窗口到访", "Counter visits"),
            f"{visits / pop * 1000:.1f}" if pop else "—",
            KpiDef(
                ("窗口到访人次 / 常住人口 × 1000", "counter visits / residents × 1,000"),
                ("便民服务中心与代办点到访人次", "visits to service halls and agency stations"),
                ("常住人口", "residents"),
                per,
                f"{SRC}.counters",
            ),
            lang,
            sub=pick("人次/千人/季", "visits per 1,000 per quarter", lang),
        ),
        kpi_card(
            "divide-kpi-training",
            ("数字技能培训", "Digital-literacy training"),
            f"{attendees:,}",
            KpiDef(
                ("Σ 培训到场人次", "Σ attendees"),
                ("培训到场人次", "attendees"),
                ("—", "—"),
                per,
                f"{SRC}.township_table",
            ),
            lang,
            sub=pick("人次", "attendees", lang),
        ),
    ]


@dataclass(frozen=True)
class Choice:
    metric: str
    period: str | None
    township: int | None
    messages: tuple[tuple[str, str], ...] = ()


def choose(query: dict[str, str], periods: list[str]) -> Choice:
    """The URL's indicator, period and township, each checked; a bad one is named and replaced."""
    msgs = []
    metric = query.get("indicator", "index")
    if metric not in METRICS:
        msgs.append(
            (
                f"没有指标 {inputs.quoted(metric)}, 已显示数字鸿沟指数; 可用: {', '.join(METRICS)}",
                f"No indicator {inputs.quoted(metric)}; showing the divide index. Known: {', '.join(METRICS)}",
            )
        )
        metric = "index"
    period = query.get("period")
    if period is not None and period not in periods:
        msgs.append(
            (
                f"没有统计期 {inputs.quoted(period)}, 已显示最近一季; 可用: {', '.join(periods)}",
                f"No period {inputs.quoted(period)}; showing the latest quarter. Known: {', '.join(periods)}",
            )
        )
        period = None
    raw = query.get("township")
    town = int(raw) if raw is not None and raw.isdigit() and len(raw) == 9 else None
    if raw is not None and town is None:
        msgs.append(
            (
                f"乡镇代码 {inputs.quoted(raw)} 无效 (应为9位)",
                f"Bad township code {inputs.quoted(raw)} (9 digits)",
            )
        )
    return Choice(metric, period or (periods[-1] if periods else None), town, tuple(msgs))


def counter_rows(counters: pl.DataFrame, lang: str) -> html.Table | html.Div:
    """The township's offline counters as their department keeps them: kind, opening hours, open or closed."""
    if counters.is_empty():
        return html.Div(
            pick("该乡镇没有线下窗口", "No offline counters in this township", lang), className="chart-foot"
        )
    days: dict[int, tuple[str, str]] = {
        5: ("周一至周五", "Mon-Fri"),
        6: ("周一至周六", "Mon-Sat"),
        7: ("每天", "daily"),
    }
    kinds: dict[str, tuple[str, str]] = {
        "hall": ("便民服务中心", "service hall"),
        "station": ("代办点", "agency station"),
    }
    head = html.Tr(
        [
            html.Th(pick(*k, lang))
            for k in (("窗口", "Counter"), ("类型", "Kind"), ("开放时间", "Hours"), ("状态", "Status"))
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(pick(r["name_zh"], r["name_en"], lang)),
                html.Td(pick(*kinds.get(r["kind"], (str(r["kind"]), str(r["kind"]))), lang)),
                html.Td(f"{pick(*days.get(r['days'], ('', '')), lang)} {r['opens']}-{r['closes']}"),
                html.Td(
                    pick("开放", "open", lang) if r["open"] else pick("已关闭", "closed", lang),
                    className="" if r["open"] else "dom-infrastructure",
                ),
            ]
        )
        for r in counters.iter_rows(named=True)
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="truth-table divide-counters")


def counter_options(counters: pl.DataFrame, lang: str) -> list[dict[str, str]]:
    return [
        {"label": pick(r["name_zh"], r["name_en"], lang), "value": r["counter_key"]}
        for r in counters.iter_rows(named=True)
        if r["open"]
    ]
