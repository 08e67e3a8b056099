"""Data-pool health: delivery and quality of each source system, volumes per module and day, classification."""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_ag_grid as dag
import numpy as np
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, wall
from dashboard.components import KpiDef, empty_state, graph, kpi_card
from dashboard.i18n import bi_text, both, pick, titles
from dashboard.view import PageParams, as_of_text, guarded, page_params, rules
from queries import meta, overview, pool
from queries.scope import Viewer
from queries.tables import CLASSIFICATIONS
from queries.timebase import to_local

dash.register_page(__name__, path="/pool", name="pool", title="数据池 · Data pool", order=1)


class ids:
    root = "pool-root"
    params = "pool-params-store"
    content = "pool-content"
    grid = "pool-source-grid"
    export = "pool-export-button"
    heatmap = "pool-heatmap-graph"
    classes = "pool-class-graph"
    truth = "pool-truth-table"
    kpis = "pool-kpis"


SRC = "queries.pool"
CLASS_LABELS = {"public": ("公开", "Public"), "sensitive": ("敏感", "Sensitive"), "core": ("核心", "Core")}
DEFECT_LABELS = {
    "duplicate": ("跨部门重复录入", "Cross-department duplicates"),
    "missing": ("缺失字段", "Missing fields"),
    "late": ("迟到 (>48小时)", "Late arrivals (> 48 h)"),
    "badcode": ("区划编码不一致", "Inconsistent area codes"),
}


def _pool_alert(v: Viewer) -> str | None:
    return overview.alert_level(
        scope=v.scope(), as_of=meta.pool_status().as_of, rules=rules(), kinds=("outage",)
    )


wall.register("pool", "/pool", _pool_alert)


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            html.Div(guarded(render, p.lang, p), id=ids.content, className="pool"),
        ],
        id=ids.root,
        className="pool",
    )


@callback(
    Output(ids.content, "children"),
    Input("app-refresh-interval", "n_intervals"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def refresh(_: int | None, params: object) -> Any:
    p = PageParams.from_store(params)
    return guarded(render, p.lang, p)


@callback(
    Output(ids.grid, "exportDataAsCsv"),
    Output(ids.grid, "csvExportParams"),
    Input(ids.export, "n_clicks"),
    prevent_initial_call=True,
)
def export_csv(_: int | None) -> tuple[bool, dict[str, str]]:
    return True, {"fileName": f"pool-sources-{time.strftime('%Y%m%d-%H%M')}.csv"}


def render(v: Viewer, p: PageParams) -> list[Any]:
    st = meta.pool_status()
    scope = v.scope()
    day = st.as_of_day
    lang = p.lang
    q = pool.source_quality(scope=scope, first_day=day - 29, last_day=day)
    tot = pool.quality_totals(scope=scope, first_day=day - 29, last_day=day)
    outages = overview.source_outages(scope=scope, as_of=st.as_of, rules=rules())
    if tot.records == 0:
        return [
            empty_state(
                lang, ("当前账号范围内近30日没有记录", "No records in your scope in the last 30 days")
            )
        ]
    truth = pool.detected_vs_injected(scope=scope)
    period = ("近30日", "last 30 days")

    def rate(k: str) -> str:
        r = tot.rates[k]
        return "—" if r is None else f"{r:.2%}"

    kpis = html.Div(
        [
            kpi_card(
                "pool-kpi-records",
                ("池内记录", "Records in pool"),
                f"{int(truth['records'][0]):,}",
                KpiDef(
                    ("汇总表中当前范围的全部记录", "all records in the rollup within your scope"),
                    ("记录数", "records"),
                    ("—", "—"),
                    ("全部", "all time"),
                    f"{SRC}.detected_vs_injected",
                ),
                lang,
                sub=pick(
                    f"12 个子平台 · {tot.sources} 个来源系统",
                    f"12 sub-platforms · {tot.sources} source systems",
                    lang,
                ),
            ),
            *[
                kpi_card(
                    f"pool-kpi-{k}",
                    DEFECT_LABELS[k],
                    rate(k),
                    KpiDef(
                        (f"{DEFECT_LABELS[k][0]}记录 / 记录数", f"{DEFECT_LABELS[k][1].lower()} / records"),
                        DEFECT_LABELS[k],
                        ("记录数", "records"),
                        period,
                        f"{SRC}.source_quality",
                    ),
                    lang,
                    tone="warn" if (tot.rates[k] or 0) > 0.03 else "good",
                )
                for k in ("duplicate", "missing", "late", "badcode")
            ],
            kpi_card(
                "pool-kpi-sources",
                ("来源在线", "Sources delivering"),
                f"{tot.sources - sum(1 for lv in outages.values() if lv == 'red')}/{tot.sources}",
                KpiDef(
                    ("来源系统数 − 中断告警数", "source systems − outage alerts"),
                    ("正常来源", "sources delivering"),
                    ("来源系统", "source systems"),
                    ("截至当前", "as of now"),
                    "queries.overview.alerts",
                ),
                lang,
            ),
        ],
        id=ids.kpis,
        className="ov-kpis",
    )
    return [
        kpis,
        html.Div(
            [
                html.Div(
                    [
                        html.Div(
                            [
                                bi_text("来源系统上报与质量", "Delivery and quality by source system", lang),
                                html.Span(
                                    pick(
                                        f" · 近30日 · 数据截至 {as_of_text(st.as_of)}",
                                        f" · last 30 days · as of {as_of_text(st.as_of)}",
                                        lang,
                                    ),
                                    className="chart-foot",
                                ),
                            ],
                            className="card-title",
                        ),
                        html.Div(
                            html.Button(both("导出 CSV", "Export CSV", lang), id=ids.export, className="btn"),
                            className="card-tools",
                        ),
                        source_grid(q, st.as_of, outages, p),
                    ],
                    className="card grid-card",
                ),
                html.Div(
                    graph(ids.classes, class_figure(scope, day, st.as_of, p)), className="card chart-card"
                ),
            ],
            className="pool-row",
        ),
        html.Div(
            [
                html.Div(
                    graph(ids.heatmap, heatmap_figure(scope, day, st.as_of, p)), className="card chart-card"
                ),
                html.Div(truth_table(truth, lang), className="card"),
            ],
            className="pool-row",
        ),
    ]


def source_grid(q: pl.DataFrame, as_of: int, outages: dict[int, str], p: PageParams) -> dag.AgGrid:
    lang = p.lang
    rows = []
    for r in q.iter_rows(named=True):
        last = r["last_received"]
        rows.append(
            {
                "module": pick(r["module_zh"], r["module_en"], lang),
                "source": pick(r["name_zh"], r["name_en"], lang),
                "dept": pick(r["dept_zh"], r["dept_en"], lang),
                "delivery": pick(
                    "接口" if r["delivery"] == "api" else "批量",
                    "API" if r["delivery"] == "api" else "batch",
                    lang,
                ),
                "n": r["n"],
                "last": to_local(last).strftime("%d日 %H:%M" if lang == "zh" else "%d %H:%M")
                if last
                else "—",
                "silent_h": round((as_of - last) / 3600, 1) if last else None,
                "outage": outages.get(int(r["source_id"]), ""),
                "dup": r["dup_rate"],
                "missing": r["missing_rate"],
                "late": r["late_rate"],
                "badcode": r["badcode_rate"],
            }
        )
    pct = {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"}

    def col(field: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
        return {
            "field": field,
            "headerName": both(zh, en, lang, " "),
            "headerTooltip": both(zh, en, lang),
            **kw,
        }

    cols = [
        col("module", "模块", "Module", pinned="left", minWidth=110),
        col("source", "来源系统", "Source system", minWidth=170, flex=2),
        col("dept", "部门", "Department", minWidth=150, flex=1),
        col("delivery", "方式", "Delivery", minWidth=90),
        col(
            "n",
            "记录数",
            "Records",
            type="numericColumn",
            valueFormatter={"function": "d3.format(',')(params.value)"},
        ),
        col("last", "最近接收", "Last received", minWidth=110),
        col(
            "silent_h",
            "静默(小时)",
            "Silent (h)",
            type="numericColumn",
            cellClassRules={
                "cell-bad": "params.data.outage === 'red'",
                "cell-warn": "params.data.outage === 'amber'",
            },
        ),
        col("dup", "重复率", "Dup.", type="numericColumn", valueFormatter=pct),
        col("missing", "缺失率", "Missing", type="numericColumn", valueFormatter=pct),
        col("late", "迟到率", "Late", type="numericColumn", valueFormatter=pct),
        col("badcode", "编码不一致", "Bad codes", type="numericColumn", valueFormatter=pct),
    ]
    return dag.AgGrid(
        id=ids.grid,
        rowData=rows,
        columnDefs=cols,
        className="ag-grid " + ("ag-theme-alpine-dark" if p.theme == "wall" else "ag-theme-alpine"),
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 80},
        dashGridOptions={
            "animateRows": False,
            "tooltipShowDelay": 200,
            "domLayout": "normal",
            "rowHeight": 40 if p.theme == "wall" else 28,
            "headerHeight": 40 if p.theme == "wall" else 30,
        },
        columnSize="responsiveSizeToFit",
        style={"height": "100%", "width": "100%"},
    )


def heatmap_figure(scope: Any, day: int, as_of: int, p: PageParams) -> Any:
    days, frame = pool.module_day_relative(scope=scope, first_day=day - 60, last_day=day - 1)
    dates = np.array(days, dtype="datetime64[D]")
    z = frame.select([str(d) for d in days]).to_numpy()
    labels = [pick(z_, e, p.lang) for z_, e in zip(frame["name_zh"], frame["name_en"], strict=True)]
    title, sub = titles(
        ("哪个模块哪天上报异常?", "Which module delivered unusually little or much, and when?"),
        (
            f"单位: 倍(1 = 该模块60日中位数) · 近60日, 不含今日 · 截至 {as_of_text(as_of)}",
            f"× the module's 60-day median · 60 days excl. today · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.heatmap(
        dates, labels, z, title=title, subtitle=sub, theme=p.theme, zlabel=pick("倍", "×", p.lang)
    )


def class_figure(scope: Any, day: int, as_of: int, p: PageParams) -> Any:
    wide = pool.classification_wide(scope=scope, first_day=day - 29, last_day=day)
    labels = [pick(z_, e, p.lang) for z_, e in zip(wide["name_zh"], wide["name_en"], strict=True)]
    series = {pick(*CLASS_LABELS[name], p.lang): wide[name].to_numpy() for name in CLASSIFICATIONS}
    title, sub = titles(
        ("各模块有多少敏感和核心数据?", "How much of each module is sensitive or core?"),
        (
            f"单位: 占记录 % · 近30日 · 截至 {as_of_text(as_of)}",
            f"% of records · 30 days · as of {as_of_text(as_of)}",
        ),
        p.lang,
    )
    return figures.stacked(
        labels, series, title=title, subtitle=sub, theme=p.theme, colors=["#22c55e", "#f59e0b", "#ef4444"]
    )


def truth_table(truth: pl.DataFrame, lang: str) -> html.Div:
    head = html.Tr(
        [
            html.Th(both("质量问题", "Defect", lang, " ")),
            html.Th(both("检出", "Detected", lang, " ")),
            html.Th(both("检出率", "Rate", lang, " ")),
            html.Th(both("生成器注入", "Injected", lang, " ")),
            html.Th(both("一致", "Match", lang, " ")),
        ]
    )
    body = []
    for r in truth.iter_rows(named=True):
        ok = r["detected"] == r["injected"]
        body.append(
            html.Tr(
                [
                    html.Td(pick(*DEFECT_LABELS[r["defect"]], lang)),
                    html.Td(f"{r['detected']:,}"),
                    html.Td(f"{r['rate']:.2%}"),
                    html.Td(f"{r['injected']:,}" if r["injected"] else "—"),
                    html.Td("✓" if ok else ("—" if not r["injected"] else "≠")),
                ]
            )
        )
    return html.Div(
        [
            html.Div(
                bi_text("质量检出 vs 注入真值", "Detected quality defects vs injected truth", lang),
                className="card-title",
            ),
            html.P(
                pick(
                    "全池统计. 合成数据池记录了生成器按已知比率注入的每一处缺陷; 检出数与之相等说明检测规则正确.",
                    "Whole pool. The synthetic pool records every defect the generator injected at known rates; "
                    "equal counts show the detection rules find exactly those.",
                    lang,
                ),
                className="chart-foot",
            ),
            html.Table([html.Thead(head), html.Tbody(body)], className="truth-table", id=ids.truth),
        ]
    )
