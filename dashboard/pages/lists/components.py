"""Builders of the Three-Lists-in-One page: the matrix, the gap list, a department's own list and the KPI
row (the mapping picture: `mapping`; the import box: `importing`). Pure functions of query results: no
queries, no callbacks."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import plotly.graph_objects as go
import polars as pl
from dash import html

from dashboard import figures
from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick, titles
from queries import lists

SRC = "queries.lists"


class ids:
    root = "lists-root"
    params = "lists-params-store"
    selection = "lists-selection-store"
    content = "lists-content"
    kpis = "lists-kpis"
    controls = "lists-controls"
    view = "lists-view-radio"
    problem = "lists-problem-dropdown"
    dept = "lists-dept-dropdown"
    body = "lists-body"
    mapping = "lists-map-graph"
    matrix = "lists-matrix-grid"
    gaps = "lists-gap-grid"
    dept_gaps = "lists-dept-gap-graph"
    message = "lists-message"
    export_xlsx = "lists-export-xlsx-button"
    export_csv = "lists-export-csv-button"
    download = "lists-download"
    import_box = "lists-import-box"
    upload = "lists-import-upload"
    import_result = "lists-import-result"
    confirm = "lists-import-confirm-button"
    dry_run = "lists-import-dry-run-store"


DAY_H = 8
CLASS = {0: ("公开", "public"), 1: ("敏感", "sensitive"), 2: ("核心", "core")}
SEVERITY = {1: ("低", "low"), 2: ("中", "medium"), 3: ("高", "high")}
CHANNEL = {
    "hotline": ("12345热线", "12345 hotline"),
    "photo": ("随手拍", "Take-a-photo"),
    "grid": ("网格巡查", "Grid inspection"),
    "iot": ("物联感知", "IoT alarm"),
    "petition": ("信访", "Letters and calls"),
    "border": ("边贸异常", "Border trade"),
    "quality": ("数据质量", "Data quality"),
}
STAGE = {
    "monitoring": ("监测", "monitoring"),
    "analysis": ("分析", "analysis"),
    "response": ("响应", "response"),
    "evaluation": ("评价", "evaluation"),
    "feedback": ("反馈", "feedback"),
    "optimization": ("优化", "optimization"),
}
ROLE = {"lead": ("牵头", "Lead"), "support": ("配合", "Support")}
# short department names: 18 columns of the matrix fit 1920 px only with these
SHORT: dict[int, tuple[str, str]] = {
    1: ("公安", "Police"),
    2: ("民政", "Civil aff."),
    3: ("市场监管", "Market sup."),
    4: ("农业农村", "Agriculture"),
    5: ("商务", "Commerce"),
    6: ("交通", "Transport"),
    7: ("教体", "Education"),
    8: ("卫健", "Health"),
    9: ("文旅", "Culture/tour."),
    10: ("发改", "Dev. reform"),
    11: ("工信", "Industry/IT"),
    12: ("生态环境", "Ecology"),
    13: ("住建", "Housing"),
    14: ("数据局", "Data bureau"),
    15: ("供销社", "Co-op"),
    16: ("口岸办", "Port office"),
    17: ("城管", "City mgmt"),
    18: ("应急", "Emergency"),
}


def short(dept_id: int, lang: str) -> str:
    return pick(*SHORT.get(dept_id, (str(dept_id), str(dept_id))), lang)


def hours_text(hours: int, lang: str) -> str:
    """A working-time limit as people say it: whole working days as days, the rest as hours."""
    if hours % DAY_H == 0:
        d = hours // DAY_H
        return f"{d} 个工作日" if lang == "zh" else f"{d} working day{'s' if d != 1 else ''}"
    return f"{hours} 工时" if lang == "zh" else f"{hours} working h"


# --- KPIs --------------------------------------------------------------------------------------------

GAP_DEF = KpiDef(
    ("各类缺口实例数之和", "sum of gap instances of every kind"),
    (
        "缺口实例 (每个问题类型/环节/数据项/部门一条)",
        "gap instances (one per type, step, item or department)",
    ),
    ("—", "—"),
    ("当前清单 (实时)", "the lists as they stand now"),
    f"{SRC}.gap_counts",
)


def kpi_row(counts: pl.DataFrame, lang: str, cid: str) -> html.Div:
    """Total gaps and one card per kind; a kind with gaps on high-severity types reads red."""
    total = int(counts["n"].sum())
    cards = [
        kpi_card(
            "lists-kpi-total",
            ("缺口总数", "Gaps, all kinds"),
            f"{total:,}",
            GAP_DEF,
            lang,
            sub=pick("需责任部门关闭", "for the named departments to close", lang),
            tone="bad" if total else "good",
        )
    ]
    for r in counts.iter_rows(named=True):
        k = r["kind"]
        cards.append(
            kpi_card(
                f"lists-kpi-{k}",
                lists.GAP_LABELS[k],
                f"{r['n']:,}",
                KpiDef(
                    (f"{lists.GAP_LABELS[k][0]}的实例数", f"instances of: {lists.GAP_LABELS[k][1].lower()}"),
                    RULES[k],
                    ("—", "—"),
                    ("当前清单", "the lists as they stand now"),
                    f"{SRC}.find_gaps",
                ),
                lang,
                sub=pick(f"高严重度 {r['n_high']}", f"{r['n_high']} on high severity", lang),
                tone="bad" if r["n_high"] else ("warn" if r["n"] else "good"),
            )
        )
    return html.Div(cards, id=cid, className="lists-kpis")


RULES: dict[str, tuple[str, str]] = {
    "no_process": ("问题类型没有任何处置环节", "a problem type with no handling step"),
    "void": ("环节没有牵头部门", "a step no department leads"),
    "overlap": ("环节有两个及以上牵头部门", "a step two or more departments lead"),
    "no_data": ("环节没有关联任何数据项", "a step linked to no data item"),
    "no_owner": ("数据项没有责任部门", "a data item no department owns"),
    "permission": (
        "需要该数据的部门未获授权 (敏感/核心)",
        "a department needs a sensitive or core item it is not granted",
    ),
    "over_limit": ("环节时限超过问题类型总时限", "a step's limit exceeds its type's overall limit"),
}


# --- the mapping picture -------------------------------------------------------------------------------


def matrix_grid(cid: str, dept_ids: list[int], frame: pl.DataFrame, theme: str, lang: str) -> dag.AgGrid:
    """Problem types x departments: dark = leads, light = supports, red frame = gaps there (the count
    shows in the cell). Sortable; the problem column filters."""
    lead, sup = pick(*ROLE["lead"], lang), pick(*ROLE["support"], lang)
    rows = []
    for r in frame.iter_rows(named=True):
        row: dict[str, Any] = {
            "problem": pick(r["name_zh"], r["name_en"], lang),
            "channel": pick(*CHANNEL.get(r["channel"], ("", "")), lang),
            "severity": r["severity"],
            "gaps": r["gaps"],
        }
        for d in dept_ids:
            role = r[f"r{d}"]
            g = r[f"g{d}"]
            label = lead if role == "lead" else sup if role == "support" else ""
            row[f"c{d}"] = g
            row[f"r{d}"] = role
            row[f"t{d}"] = (label + (f" ⚠{g}" if g else "")).strip()
        rows.append(row)
    wall = theme == "wall"
    width = 64 if wall else 74
    cols: list[dict[str, Any]] = [
        {
            "field": "problem",
            "headerName": both("问题类型", "Problem type", lang, " "),
            "pinned": "left",
            "minWidth": 150,
            "flex": 1,
            "filter": True,
            "tooltipField": "problem",
        },
        {"field": "channel", "headerName": pick("渠道", "Channel", lang), "width": 100, "filter": True},
        {
            "field": "severity",
            "headerName": pick("严重度", "Sev.", lang),
            "width": 72,
            "type": "numericColumn",
            "cellClassRules": {"cell-bad": "params.value >= 3"},
        },
        {
            "field": "gaps",
            "headerName": pick("缺口", "Gaps", lang),
            "width": 72,
            "type": "numericColumn",
            "cellClassRules": {"cell-bad": "params.value > 0"},
        },
    ]
    for d in dept_ids:
        cols.append(
            {
                "field": f"c{d}",
                "headerName": short(d, lang),
                "headerTooltip": short(d, lang),
                "flex": 1,
                "minWidth": width,
                "cellClass": "lists-cell",
                "valueFormatter": {"function": f"params.data.t{d}"},
                "cellClassRules": {
                    "lists-lead": f"params.data.r{d} === 'lead'",
                    "lists-support": f"params.data.r{d} === 'support'",
                    "lists-gap": "params.value > 0",
                },
                # leads first, then supports, then the rest; gaps break ties
                "comparator": {
                    "function": f"(nodeA.data.r{d} || 'z').localeCompare(nodeB.data.r{d} || 'z') || valueA - valueB"
                },
            }
        )
    return dag.AgGrid(
        id=cid,
        rowData=rows,
        columnDefs=cols,
        className="ag-grid " + ("ag-theme-alpine-dark" if wall else "ag-theme-alpine"),
        defaultColDef={"sortable": True, "resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={"animateRows": False, "rowHeight": 30 if wall else 26, "tooltipShowDelay": 200},
        # the desk page scrolls, so the grid gets a definite height: every row up to 28, then it scrolls
        style={"height": "100%" if wall else f"{90 + 26 * min(len(rows), 28)}px", "width": "100%"},
    )


# --- gap list ----------------------------------------------------------------------------------------------


def gap_rows(g: pl.DataFrame, lang: str) -> list[dict[str, Any]]:
    out = []
    for r in g.iter_rows(named=True):
        what = pick(r["problem_zh"] or "", r["problem_en"] or "", lang)
        if r["step_id"] is not None:
            what += f" · {r['seq']}. {pick(r['step_zh'], r['step_en'], lang)}"
        if r["item_id"] is not None:
            what = pick(r["item_zh"], r["item_en"], lang)
        detail = ""
        if r["kind"] == "permission":
            detail = pick(
                f"{r['need_zh']} 需要此数据但未获授权", f"{r['need_en']} needs it but holds no grant", lang
            )
        elif r["kind"] == "over_limit":
            detail = f"{hours_text(int(r['step_limit']), lang)} > {hours_text(int(r['problem_limit']), lang)}"
        out.append(
            {
                "kind": pick(*lists.GAP_LABELS[r["kind"]], lang),
                "severity": pick(*SEVERITY.get(r["severity"] or 0, ("—", "—")), lang),
                "sev": r["severity"] or 0,
                "what": what,
                "detail": detail,
                "fixer": pick(r["fix_zh"], r["fix_en"], lang),
                "person": f"{r['fix_person'] or '—'} ({r['fix_title'] or ''})",
                "role": pick("部门", "department", lang)
                if r["fix_role"] == "department"
                else pick("数据责任人", "data owner", lang),
                "open": r.get("open_cases"),
                "late": r.get("overdue_cases"),
            }
        )
    return out


def gap_grid(cid: str, g: pl.DataFrame, theme: str, lang: str) -> dag.AgGrid:
    def col(field: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
        return {
            "field": field,
            "headerName": both(zh, en, lang, " "),
            "headerTooltip": both(zh, en, lang),
            **kw,
        }

    wall = theme == "wall"
    return dag.AgGrid(
        id=cid,
        rowData=gap_rows(g, lang),
        columnDefs=[
            col("kind", "缺口类型", "Kind", minWidth=150, filter=True),
            col(
                "severity",
                "严重度",
                "Severity",
                width=90,
                cellClassRules={"cell-bad": "params.data.sev >= 3"},
            ),
            col("what", "问题/环节/数据项", "Type, step or item", flex=2, minWidth=220, tooltipField="what"),
            col("detail", "说明", "Detail", flex=1, minWidth=160, tooltipField="detail"),
            col(
                "fixer",
                "应由谁关闭",
                "To be closed by",
                flex=1,
                minWidth=150,
                filter=True,
                tooltipField="fixer",
            ),
            col(
                "open",
                "在办案件",
                "Open cases",
                width=100,
                type="numericColumn",
                headerTooltip=both(
                    "此缺口上现有的在办案件数 (环节缺口: 在该环节; 无流程: 该类问题全部)",
                    "open cases waiting on this gap now (a step's gap: at the step; no process: all of the type)",
                    lang,
                ),
                cellClassRules={"cell-bad": "params.value > 0"},
            ),
            col("late", "其中超期", "Overdue", width=90, type="numericColumn"),
            col("person", "责任人", "Person", minWidth=130),
            col("role", "身份", "As", width=110),
        ],
        className="ag-grid " + ("ag-theme-alpine-dark" if wall else "ag-theme-alpine"),
        defaultColDef={"sortable": True, "resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={"animateRows": False, "rowHeight": 34 if wall else 28, "tooltipShowDelay": 200},
        style={"height": "100%" if wall else f"{80 + 28 * min(max(g.height, 3), 16)}px", "width": "100%"},
    )


def dept_gap_figure(by: pl.DataFrame, *, theme: str, lang: str, as_of: str) -> go.Figure:
    labels = [pick(z, e, lang) for z, e in zip(by["dept_zh"], by["dept_en"], strict=True)]
    title, sub = titles(
        ("哪个部门待关闭的缺口最多?", "Which department has the most gaps to close?"),
        (f"单位: 个缺口 · 当前清单 · 截至 {as_of}", f"gaps · the lists now · as of {as_of}"),
        lang,
    )
    return figures.ranking(
        labels, by["n"].to_numpy().astype(float), title=title, subtitle=sub, theme=theme, unit_fmt="{:.0f}"
    )


# --- a department's own list -------------------------------------------------------------------------------


def simple_table(cid: str, head: list[tuple[str, str]], rows: list[list[Any]], lang: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(both(*h, lang, " ")) for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className="lists-table",
        id=cid,
    )


def dept_sections(d: lists.DeptList, theme: str, lang: str, gap_id: str) -> list[Any]:
    """Duties, steps led and supported, data items owned, open gaps; case figures once cases exist."""
    duties = simple_table(
        "lists-dept-duties",
        [("职责", "Duty"), ("责任人", "Accountable person")],
        [
            [pick(r["name_zh"], r["name_en"], lang), f"{r['person'] or '—'} ({r['title'] or ''})"]
            for r in d.duties.iter_rows(named=True)
        ],
        lang,
    )
    steps = simple_table(
        "lists-dept-steps",
        [("问题类型", "Problem type"), ("环节", "Step"), ("角色", "Role"), ("时限", "Limit")],
        [
            [
                pick(r["problem_zh"], r["problem_en"], lang),
                f"{r['seq']}. {pick(r['step_zh'], r['step_en'], lang)}",
                pick(*ROLE[r["role"]], lang),
                hours_text(int(r["limit_hours"]), lang),
            ]
            for r in d.steps.iter_rows(named=True)
        ],
        lang,
    )
    items = simple_table(
        "lists-dept-items",
        [("数据项", "Data item"), ("模块", "Module"), ("分级", "Class"), ("更新", "Refresh")],
        [
            [
                pick(r["name_zh"], r["name_en"], lang),
                pick(r["module_zh"], r["module_en"], lang),
                pick(*CLASS[int(r["classification"])], lang),
                r["refresh"],
            ]
            for r in d.items.iter_rows(named=True)
        ],
        lang,
    )
    n_lead = sum(1 for r in d.steps["role"].to_list() if r == "lead")
    if d.cases is None:
        cases: Any = ""
    else:
        k = d.cases
        rate = f"{k['closed_on_time'] / k['closed']:.0%}" if k["closed"] else "—"
        cases = html.Span(
            pick(
                f"办件: 在办 {k['open']:,} · 超期 {k['overdue']:,} · 按期办结率 {rate} "
                f"({k['closed_on_time']:,}/{k['closed']:,})",
                f"Cases: open {k['open']:,} · overdue {k['overdue']:,} · closed on time {rate} "
                f"({k['closed_on_time']:,}/{k['closed']:,})",
                lang,
            ),
            title=pick(
                "在办 = 责任部门为本部门、尚未办结的案件; 超期 = 其中已过办结时限 (工作时间, 含批准延期); "
                "按期办结率 = 按期办结数 / 办结数, 全部期间, 来源 case_item / case_rollup",
                "open = cases this department answers for, not closed; overdue = of those, past the closure due "
                "time (working time, approved deferrals included); on time = closed by the due time / closed, "
                "all periods; source case_item / case_rollup",
                lang,
            ),
            className="lists-cases-figures",
        )
    head = html.Div(
        [
            bi_text(d.name_zh, d.name_en, lang, "lists-dept-name"),
            html.Span(
                pick(
                    f" · 职责 {d.duties.height} · 牵头环节 {n_lead} · 配合环节 {d.steps.height - n_lead} · "
                    f"数据项 {d.items.height} · 待关闭缺口 {d.gaps.height}",
                    f" · {d.duties.height} duties · leads {n_lead} steps · supports {d.steps.height - n_lead} · "
                    f"owns {d.items.height} items · {d.gaps.height} gaps to close",
                    lang,
                ),
                className="chart-foot",
            ),
            html.Div(cases, className="chart-foot lists-cases"),
        ],
        className="card lists-dept-head",
        id="lists-dept-head",
    )

    def card(title: tuple[str, str], body: Any, cls: str = "") -> html.Div:
        return html.Div([bi_text(*title, lang, "card-title"), body], className=f"card lists-dept-card {cls}")

    return [
        head,
        html.Div(
            [
                card(
                    ("待关闭的缺口", "Gaps to close"),
                    html.Div(gap_grid(gap_id, d.gaps, theme, lang), className="lists-grid-box"),
                ),
                card(("职责", "Duties"), duties),
                card(("牵头与配合的环节", "Steps led and supported"), steps),
                card(("拥有的数据项", "Data items owned"), items),
            ],
            className="lists-dept-grid",
        ),
    ]


def summary_table(s: pl.DataFrame, lang: str) -> html.Table:
    return simple_table(
        "lists-summary",
        [
            ("部门", "Department"),
            ("职责", "Duties"),
            ("牵头环节", "Steps led"),
            ("配合环节", "Steps supported"),
            ("数据项", "Items owned"),
            ("待关闭缺口", "Gaps to close"),
        ],
        [
            [
                pick(r["dept_zh"], r["dept_en"], lang),
                r["duties"],
                r["leads"],
                r["supports"],
                r["items"],
                r["gaps"],
            ]
            for r in s.iter_rows(named=True)
        ],
        lang,
    )


# --- import (administrators) -------------------------------------------------------------------------
