"""The pool page's health sections: delivery and quality of each source system (every quality figure links
to the records behind it in the record browser), volumes per module and day, classification."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import numpy as np
import polars as pl
from dash import html

from dashboard import figures
from dashboard.components import KpiDef, delivering_tone, empty_state, folded, graph, kpi_card
from dashboard.components.grids import columns_in, head_row
from dashboard.i18n import bi_text, both, pick, titles
from dashboard.pages.pool.names import ids
from dashboard.view import PageParams, as_of_text, rules
from queries import activity, meta, pool
from queries.scope import Scope, Viewer
from queries.tables import CLASSIFICATIONS
from queries.timebase import day_to_date, to_local

SRC = "queries.pool"
CLASS_LABELS = {"public": ("公开", "Public"), "sensitive": ("敏感", "Sensitive"), "core": ("核心", "Core")}
DEFECT_LABELS = {
    "duplicate": ("跨部门重复录入", "Cross-department duplicates"),
    "missing": ("缺失字段", "Missing fields"),
    "late": ("迟到 (>48小时)", "Late arrivals (> 48 h)"),
    "badcode": ("区划编码不一致", "Inconsistent area codes"),
}


PERIOD = ("近30日", "last 30 days")
# A hands-off wall cannot scroll: it shows at most this many source rows, worst first, and counts the rest.
WALL_ROWS = 20


RECORDS_PATH = "/records"
# the grid's rate columns and the record browser's `defect` parameter
DEFECT_FIELDS = {"duplicate": "dup", "missing": "missing", "late": "late", "badcode": "badcode"}
DRILL_WORDS = {
    "duplicate": ("重复", "dup."),
    "missing": ("缺失", "missing"),
    "late": ("迟到", "late"),
    "badcode": ("编码", "codes"),
}


def records_href(
    *,
    first_day: int,
    last_day: int,
    source: str | None = None,
    defect: str | None = None,
    township: int | None = None,
) -> str:
    """The record browser showing the records behind a quality figure:
    /records?source=<code>&defect=<duplicate|missing|late|badcode>&township=<code>&from=YYYY-MM-DD&to=YYYY-MM-DD
    (parameters without a value are left out; the browser applies the viewer's scope on top)."""
    q = {
        "source": source,
        "defect": defect,
        "township": township,
        "from": day_to_date(first_day).isoformat(),
        "to": day_to_date(last_day).isoformat(),
    }
    return f"{RECORDS_PATH}?{urlencode({k: v for k, v in q.items() if v is not None})}"


def sections(v: Viewer, p: PageParams) -> list[Any]:
    """KPIs, the source grid and the charts (the whole page on the wall)."""
    st = meta.pool_status()
    scope = v.scope()
    day = st.as_of_day
    lang = p.lang
    first = day - 29
    health = pool.source_health(scope=scope, first_day=first, last_day=day, as_of=st.as_of, rules=rules())
    tot = pool.quality_totals(scope=scope, first_day=first, last_day=day)
    if tot.records == 0:
        return [
            empty_state(
                lang, ("当前账号范围内近30日没有记录", "No records in your scope in the last 30 days")
            )
        ]
    srcs = activity.delivering(scope=scope, as_of=st.as_of, rules=rules(), by="source")
    modules = len(activity.scope_module_ids(scope=scope))
    links = {
        k: records_href(first_day=first, last_day=day, defect=k, township=scope.township_code)
        for k in DEFECT_FIELDS
    }
    kpis = html.Div(kpi_cards(tot, srcs, modules, lang, links), id=ids.kpis, className="ov-kpis")
    grid = html.Div(
        [
            html.Div(
                [
                    bi_text("来源系统上报与质量", "Delivery and quality by source system", lang),
                    html.Span(
                        pick(
                            f" · 近30日 · 最差在前 · 数据截至 {as_of_text(st.as_of)}",
                            f" · last 30 days · worst first · as of {as_of_text(st.as_of)}",
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
            source_grid(health, st.as_of, p, first_day=first, last_day=day, township=scope.township_code),
            _outside_sources(srcs.outside, lang),
        ],
        className="card grid-card",
    )
    classes = html.Div(graph(ids.classes, class_figure(scope, day, st.as_of, p)), className="card chart-card")
    heat = html.Div(graph(ids.heatmap, heatmap_figure(scope, day, st.as_of, p)), className="card chart-card")
    if p.theme == "wall":
        # the wall gives the source table the whole height, so every row that raised an alert is read
        # without scrolling; the charts stack beside it and the truth check stays on the desk page
        return [
            kpis,
            html.Div(
                [grid, html.Div([heat, classes], className="pool-side")], className="pool-row pool-wall"
            ),
        ]
    truth = pool.detected_vs_injected(scope=scope, first_day=first, last_day=day)
    return [
        kpis,
        html.Div([grid, classes], className="pool-row"),
        html.Div([heat, html.Div(truth_table(truth, lang), className="card")], className="pool-row"),
    ]


def _outside_sources(outside: int, lang: str) -> html.Div | None:
    if not outside:
        return None
    return folded(
        "pool-sources-outside",
        (f"另有 {outside} 个来源系统不在您的范围内", f"{outside} more source systems outside your scope"),
        lang,
    )


def kpi_cards(
    tot: pool.QualityTotals, srcs: activity.Delivering, modules: int, lang: str, links: dict[str, str]
) -> list[html.Div]:
    """Records, the four defect rates (all over the last 30 days, each linking to its records in the
    record browser), and sources delivering now."""

    def rate(k: str) -> str:
        r = tot.rates[k]
        return "—" if r is None else f"{r:.2%}"

    return [
        kpi_card(
            "pool-kpi-records",
            ("近30日记录", "Records, 30 days"),
            f"{tot.records:,}",
            KpiDef(
                ("汇总表中当前范围近30日的记录", "records in the rollup within your scope, last 30 days"),
                ("记录数", "records"),
                ("—", "—"),
                PERIOD,
                f"{SRC}.quality_totals",
            ),
            lang,
            sub=pick(
                f"{modules} 个子平台 · {tot.sources} 个来源系统",
                f"{modules} sub-platforms · {tot.sources} source systems",
                lang,
            ),
        ),
        *[
            _linked(
                kpi_card(
                    f"pool-kpi-{k}",
                    DEFECT_LABELS[k],
                    rate(k),
                    KpiDef(
                        (f"{DEFECT_LABELS[k][0]}记录 / 记录数", f"{DEFECT_LABELS[k][1].lower()} / records"),
                        DEFECT_LABELS[k],
                        ("记录数", "records"),
                        PERIOD,
                        f"{SRC}.source_quality",
                    ),
                    lang,
                    sub=pick(*PERIOD, lang),
                    tone="warn" if (tot.rates[k] or 0) > 0.03 else "good",
                ),
                links[k],
                lang,
            )
            for k in ("duplicate", "missing", "late", "badcode")
        ],
        kpi_card(
            "pool-kpi-sources",
            ("来源在线", "Sources delivering"),
            f"{srcs.up}/{srcs.total}",
            KpiDef(
                (
                    "范围内来源系统数 − 红色中断告警数",
                    "source systems in your scope − red outage alerts",
                ),
                ("正常来源", "sources delivering"),
                ("您范围内的来源系统", "source systems in your scope"),
                ("截至当前", "as of now"),
                "queries.activity.delivering",
            ),
            lang,
            sub=pick("截至当前", "as of now", lang),
            tone=delivering_tone(srcs.down, srcs.total),
        ),
    ]


def _linked(card: html.Div, href: str, lang: str) -> html.Div:
    """A KPI card with a link to the records behind its number."""
    link = html.A(pick("查看记录 →", "See the records →", lang), href=href, className="kpi-link")
    card.children = [*card.children, link]
    return card


def source_grid(
    q: pl.DataFrame, as_of: int, p: PageParams, *, first_day: int, last_day: int, township: int | None
) -> dag.AgGrid:
    """The sources in the order source_health() gives (worst first); each defect rate links to its records
    in the record browser. On the wall: fewer, shorter columns with wrapping headers, rows sized to fit
    WALL_ROWS at 1920x1080 and read from 5 m."""
    lang = p.lang
    wall_ = p.theme == "wall"
    rows = []
    for r in q.head(WALL_ROWS if wall_ else q.height).iter_rows(named=True):
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
                "outage": r["outage"],
                "dup": r["dup_rate"],
                "missing": r["missing_rate"],
                "late": r["late_rate"],
                "badcode": r["badcode_rate"],
                "drill": " · ".join(
                    f"[{pick(*DRILL_WORDS[k], lang)}]"
                    f"({records_href(first_day=first_day, last_day=last_day, source=r['code'], defect=k, township=township)})"
                    for k in DEFECT_FIELDS
                ),
            }
        )
    pct = {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"}

    col = columns_in(lang)

    num = {"type": "numericColumn"}
    silent = col(
        "silent_h",
        "静默(小时)",
        "Silent (h)",
        **num,
        cellClassRules={
            "cell-bad": "params.data.outage === 'red'",
            "cell-warn": "params.data.outage === 'amber'",
        },
    )
    rates = [
        col("dup", "重复率", "Dup.", **num, valueFormatter=pct),
        col("missing", "缺失率", "Missing", **num, valueFormatter=pct),
        col("late", "迟到率", "Late", **num, valueFormatter=pct),
        col("badcode", "编码不一致", "Bad codes", **num, valueFormatter=pct),
    ]
    records = col(
        "n", "记录数", "Records", **num, valueFormatter={"function": "d3.format(',')(params.value)"}
    )
    if wall_:
        # numbers take the width of their longest value; names get the rest, so English names fit
        fixed = {"width": 86, "minWidth": 86, "suppressSizeToFit": True}
        cols = [
            col("source", "来源系统", "Source system", flex=3, minWidth=220, tooltipField="source"),
            col("module", "模块", "Module", flex=2, minWidth=120, tooltipField="module"),
            {**silent, **fixed},
            {**records, **fixed},
            *[{**c, **fixed} for c in rates[:-1]],
            {**rates[-1], **fixed, "width": 106, "minWidth": 106},  # 编码不一致 is the longest header
        ]
    else:
        cols = [
            # English names run long: wider name columns, and the full name on hover where cut
            col(
                "module",
                "模块",
                "Module",
                pinned="left",
                minWidth=110 if lang == "zh" else 170,
                tooltipField="module",
            ),
            col(
                "source",
                "来源系统",
                "Source system",
                minWidth=170 if lang == "zh" else 230,
                flex=2,
                tooltipField="source",
            ),
            col("dept", "部门", "Department", minWidth=150, flex=1, tooltipField="dept"),
            col("delivery", "方式", "Delivery", minWidth=100),
            records,
            col("last", "最近接收", "Last received", minWidth=110),
            silent,
            *rates,
            # the records behind each rate, in the record browser (the wall is not clicked: no links there)
            col(
                "drill", "查看记录", "See the records", cellRenderer="markdown", minWidth=230, sortable=False
            ),
        ]
    return dag.AgGrid(
        id=ids.grid,
        rowData=rows,
        columnDefs=cols,
        className="ag-grid " + ("ag-theme-alpine-dark" if wall_ else "ag-theme-alpine"),
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filter": not wall_,
            "minWidth": 80 if wall_ else 96,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "animateRows": False,
            "tooltipShowDelay": 200,
            "domLayout": "normal",
            "rowHeight": 34 if wall_ else 28,
            "suppressColumnVirtualisation": True,
        },
        columnSize=None if wall_ else "responsiveSizeToFit",
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
        dates,
        labels,
        z,
        title=title,
        subtitle=sub,
        theme=p.theme,
        zlabel=pick("倍", "× median", p.lang),
        lang=p.lang,
    )


def class_figure(scope: Scope, day: int, as_of: int, p: PageParams) -> Any:
    wide = pool.classification_wide(scope=scope, first_day=day - 29, last_day=day)
    labels = [pick(z_, e, p.lang) for z_, e in zip(wide["name_zh"], wide["name_en"], strict=True)]
    # classes above the viewer's clearance (core, for an operator) get no series and no legend entry
    seen = CLASSIFICATIONS[: scope.max_class + 1]
    series = {pick(*CLASS_LABELS[name], p.lang): wide[name].to_numpy() for name in seen}
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
    head = head_row(
        [
            ("质量问题", "Defect"),
            ("检出", "Detected"),
            ("检出率", "Rate"),
            ("生成器注入", "Injected"),
            ("一致", "Match"),
        ],
        lang,
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
                    "近30日, 您范围内的记录. 合成数据池记录了生成器按已知比率注入的每一处缺陷; "
                    "检出数与之相等说明检测规则正确.",
                    "Last 30 days, records in your scope. The synthetic pool records every defect the generator "
                    "injected at known rates; equal counts show the detection rules find exactly those.",
                    lang,
                ),
                className="chart-foot",
            ),
            html.Table([html.Thead(head), html.Tbody(body)], className="truth-table", id=ids.truth),
        ]
    )
