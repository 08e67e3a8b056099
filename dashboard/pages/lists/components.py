"""Builders of the Three-Lists-in-One page: the mapping picture, the matrix, the gap list, a department's
own list and the KPI row. Pure functions of query results: no queries, no callbacks."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from dashboard import figures
from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick, titles
from queries import lists, lists_io

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

COLS = (0.0, 1.0, 2.05, 3.1)  # problem, steps, data items, departments


def _spread(order: list[tuple[float, Any]], top: float, bottom: float) -> dict[Any, float]:
    """Evenly spaced y positions in the order of the wanted ones (so links cross as little as may be)."""
    order = sorted(order, key=lambda t: t[0])
    n = len(order)
    if n == 1:
        return {order[0][1]: (top + bottom) / 2}
    return {key: top + (bottom - top) * i / (n - 1) for i, (_, key) in enumerate(order)}


def mapping_figure(m: lists.Mapping, *, theme: str, lang: str, as_of: str) -> go.Figure:
    """problem -> steps -> data items -> departments as one picture. Holes are red: a step with no lead
    or two, with no data, or longer than the type's limit; an item nobody owns; a department that needs
    an item it may not use (red dotted link)."""
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    fs = int(th["font"])  # type: ignore[call-overload]
    red, ok, muted, fg = str(th["bad"]), str(th["good"]), str(th["muted"]), str(th["fg"])
    lead_c, sup_c, data_c = str(th["accent"]), muted, "#14b8a6"
    panel = "#0f1a2e" if theme == "wall" else "#ffffff"
    steps = m.steps
    n = max(steps.height, 1)
    ys = {int(r["id"]): 1 - i / max(n - 1, 1) for i, r in enumerate(steps.iter_rows(named=True))}
    links_si = m.step_items
    # layout only: each item sits near the mean height of the steps it supports
    item_ys: dict[int, list[float]] = {}
    for r in links_si.iter_rows(named=True):
        item_ys.setdefault(int(r["item_id"]), []).append(ys[int(r["step_id"])])
    want_item = [
        (sum(item_ys.get(int(i), [])) / max(len(item_ys.get(int(i), [])), 1), int(i))
        for i in m.items["id"].to_list()
    ]
    yi = _spread([(-y, k) for y, k in want_item], 1.0, 0.0) if want_item else {}
    dept_links: dict[int, list[float]] = {}
    for r in m.step_depts.iter_rows(named=True):
        dept_links.setdefault(int(r["dept_id"]), []).append(ys[int(r["step_id"])])
    for r in m.item_owners.iter_rows(named=True):
        dept_links.setdefault(int(r["dept_id"]), []).append(yi.get(int(r["item_id"]), 0.5))
    for r in m.denied.iter_rows(named=True):
        dept_links.setdefault(int(r["dept_id"]), []).append(yi.get(int(r["item_id"]), 0.5))
    yd = _spread([(-sum(v) / len(v), k) for k, v in dept_links.items()], 1.0, 0.0) if dept_links else {}

    traces: list[dict[str, object]] = []

    def lines(
        pairs: list[tuple[float, float, float, float]], color: str, width: float, dash: str, name: str
    ) -> None:
        if not pairs:
            return
        xs: list[float | None] = []
        yv: list[float | None] = []
        for x0, y0, x1, y1 in pairs:
            xs += [x0, (x0 + x1) / 2, x1, None]
            yv += [y0, (y0 + y1) / 2, y1, None]
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": yv,
                "mode": "lines",
                "line": {"color": color, "width": width, "dash": dash, "shape": "spline"},
                "hoverinfo": "skip",
                "name": name,
                "showlegend": True,
            }
        )

    lines([(COLS[0], 0.5, COLS[1], y) for y in ys.values()], muted, 1.5, "solid", pick("环节", "steps", lang))
    good_si = [
        (COLS[1], ys[int(r["step_id"])], COLS[2], yi[int(r["item_id"])])
        for r in links_si.iter_rows(named=True)
        if r["permitted"]
    ]
    lines(good_si, data_c, 2, "solid", pick("数据支撑", "data support", lang))
    roles = list(m.step_depts.iter_rows(named=True))
    lead_rows = [r for r in roles if r["role"] == "lead"]
    overlap_steps = {int(r["id"]) for r in steps.iter_rows(named=True) if r["n_leads"] > 1}
    lead_pairs = [
        (COLS[1], ys[int(r["step_id"])], COLS[3], yd[int(r["dept_id"])])
        for r in lead_rows
        if int(r["step_id"]) not in overlap_steps
    ]
    lines(lead_pairs, lead_c, 3, "solid", pick("牵头", "leads", lang))
    lines(
        [
            (COLS[1], ys[int(r["step_id"])], COLS[3], yd[int(r["dept_id"])])
            for r in roles
            if r["role"] == "support"
        ],
        sup_c,
        1.2,
        "dot",
        pick("配合", "supports", lang),
    )
    lines(
        [
            (COLS[2], yi[int(r["item_id"])], COLS[3], yd[int(r["dept_id"])])
            for r in m.item_owners.iter_rows(named=True)
        ],
        ok,
        1.5,
        "dash",
        pick("数据归属", "owns data", lang),
    )
    bad = [
        (COLS[1], ys[int(r["step_id"])], COLS[3], yd[int(r["dept_id"])])
        for r in lead_rows
        if int(r["step_id"]) in overlap_steps
    ]
    bad += [
        (COLS[1], ys[int(r["step_id"])], COLS[2], yi[int(r["item_id"])])
        for r in links_si.iter_rows(named=True)
        if not r["permitted"]
    ]
    bad += [
        (COLS[2], yi[int(r["item_id"])], COLS[3], yd[int(r["dept_id"])])
        for r in m.denied.iter_rows(named=True)
    ]
    lines(bad, red, 3.5, "dot", pick("缺口", "gap", lang))

    notes: list[dict[str, object]] = []

    def node(x: float, y: float, text: str, *, hole: bool, hover: str, anchor: str = "center") -> None:
        notes.append(
            {
                "x": x,
                "y": y,
                "text": text,
                "showarrow": False,
                "xanchor": anchor,
                "align": "left",
                "font": {"size": fs, "color": red if hole else fg},
                "bgcolor": panel,
                "bordercolor": red if hole else muted,
                "borderwidth": 3 if hole else 1,
                "borderpad": 4,
                "hovertext": hover,
            }
        )

    p = m.problem
    node(
        COLS[0],
        0.5,
        f"<b>{pick(str(p['name_zh']), str(p['name_en']), lang)}</b><br>"
        f"{pick(*CHANNEL.get(str(p['channel']), ('', '')), lang)} · {pick('严重度', 'severity', lang)} "
        f"{pick(*SEVERITY.get(int(str(p['severity'])), ('', '')), lang)}<br>"
        f"{pick('总时限', 'limit', lang)} {hours_text(int(str(p['limit_hours'])), lang)}",
        hole=steps.is_empty(),
        hover=pick(f"年预计 {p['yearly_volume']:,} 件", f"about {p['yearly_volume']:,} cases a year", lang),
    )
    leads_of: dict[int, list[dict[str, Any]]] = {}
    for lr in lead_rows:
        leads_of.setdefault(int(lr["step_id"]), []).append(lr)
    for r in steps.iter_rows(named=True):
        sid = int(r["id"])
        holes = []
        open_n, late_n = int(r["open_cases"]), int(r["overdue_cases"])
        if r["n_leads"] == 0:
            holes.append(pick("无牵头!", "no lead!", lang))
            if open_n:
                holes.append(pick(f"{open_n} 件在办无人牵头!", f"{open_n} open case(s) nobody leads!", lang))
        if r["n_leads"] > 1:
            holes.append(pick("多头牵头!", "two leads!", lang))
        if not r["has_data"]:
            holes.append(pick("无数据!", "no data!", lang))
        limit = hours_text(int(r["limit_hours"]), lang)
        if r["over_limit"]:
            limit = f"<b>{limit} > {pick('总时限', 'type limit', lang)}!</b>"
            holes.append("")
        who = ", ".join(
            f"{short(int(x['dept_id']), lang)} {x['person'] or ''}" for x in leads_of.get(sid, [])
        )
        mark = "◆ " if r["decision"] else ""
        cases = f" · {pick('在办', 'open', lang)} {open_n:,}" if open_n else ""
        if late_n:
            cases += f" ({pick('超期', 'overdue', lang)} <b>{late_n:,}</b>)"
        text = (
            f"{r['seq']}. {mark}<b>{pick(r['name_zh'], r['name_en'], lang)}</b> · {limit}{cases}"
            f"<br>{pick(*STAGE.get(r['stage'], ('', '')), lang)} · {pick('牵头', 'lead', lang)}: {who or '—'}"
        )
        if any(holes):
            text += f"<br><b>{' '.join(h for h in holes if h)}</b>"
        node(COLS[1], ys[sid], text, hole=bool(holes), hover=r["code"])
    owned = set(m.item_owners["item_id"].to_list())
    for r in m.items.iter_rows(named=True):
        iid = int(r["id"])
        hole = iid not in owned
        text = (
            f"<b>{pick(r['name_zh'], r['name_en'], lang)}</b> · {pick(*CLASS[int(r['classification'])], lang)}"
            f"<br>{pick(r['module_zh'], r['module_en'], lang)} · {pick('近7日', '7 d', lang)} {r['load_7d']:,}"
            + (f"<br><b>{pick('无责任部门!', 'no owner!', lang)}</b>" if hole else "")
        )
        node(COLS[2], yi[iid], text, hole=hole, hover=f"{r['code']} · {r['refresh']}")
    denied_depts = set(m.denied["dept_id"].to_list())
    people = {int(r["dept_id"]): r for r in roles}
    for r in m.depts.iter_rows(named=True):
        did = int(r["dept_id"])
        contact = people.get(did)
        text = f"<b>{pick(r['name_zh'], r['name_en'], lang)}</b>"
        if contact is not None and contact["person"]:
            text += f"<br>{contact['person']} ({contact['title']})"
        if did in denied_depts:
            text += f"<br><b>{pick('缺数据授权!', 'lacks a data grant!', lang)}</b>"
        node(COLS[3], yd[did], text, hole=did in denied_depts, hover=pick(r["name_zh"], r["name_en"], lang))
    if m.unplaced_cases:
        notes.append(
            {
                "x": COLS[1],
                "y": -0.12,
                "text": pick(
                    f"<b>{m.unplaced_cases:,} 件在办案件所处阶段无处置环节!</b>",
                    f"<b>{m.unplaced_cases:,} open case(s) at a stage with no step!</b>",
                    lang,
                ),
                "showarrow": False,
                "font": {"size": fs - 2, "color": red},
            }
        )
    if m.hidden_items:
        notes.append(
            {
                "x": COLS[2],
                "y": -0.12,
                "text": pick(
                    f"另有 {m.hidden_items} 个核心数据项超出您的权限, 未显示",
                    f"{m.hidden_items} core item(s) above your clearance not shown",
                    lang,
                ),
                "showarrow": False,
                "font": {"size": fs - 2, "color": muted},
            }
        )
    heads = [
        (COLS[0], ("问题", "Problem")),
        (COLS[1], ("处置环节 · 时限", "Steps · time limit")),
        (COLS[2], ("数据支撑 · 近7日记录", "Data · records, 7 days")),
        (COLS[3], ("责任部门 · 责任人", "Departments · persons")),
    ]
    for x, label in heads:
        notes.append(
            {
                "x": x,
                "y": 1.13,
                "text": f"<b>{pick(*label, lang)}</b>",
                "showarrow": False,
                "font": {"size": fs, "color": muted},
            }
        )
    title, sub = titles(
        (
            "这类问题由谁、按什么流程、用什么数据办?",
            "Who handles this problem, by which steps, with which data?",
        ),
        (
            f"红色 = 缺口 · 时限单位: 工作日/工时 · 数据量: 条 · 在办/超期: 件 · 截至 {as_of}",
            f"red = gap · limits in working days/hours · data in records · open/overdue in cases · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        traces,
        title=title,
        subtitle=sub,
        theme=theme,
        xaxis={"visible": False, "range": [-0.45, 3.55], "fixedrange": True},
        yaxis={"visible": False, "range": [-0.18, 1.2], "fixedrange": True},
        annotations=notes,
        hovermode=False,
    )


def map_height(m: lists.Mapping) -> int:
    """Desk height of the mapping: a row of boxes every 76 px keeps three-line labels apart."""
    return 240 + 76 * max(m.steps.height, m.items.height, m.depts.height, 3)


# --- the matrix ------------------------------------------------------------------------------------------


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

SHEET_NAMES = {
    "*": ("文件", "file"),
    "problems": ("问题清单", "problems"),
    "steps": ("流程清单", "steps"),
    "data_items": ("数据清单", "data items"),
    "step_data": ("环节-数据", "step data"),
    "duties": ("责任清单", "duties"),
    "step_duties": ("环节-职责", "step duties"),
    "grants": ("数据授权", "grants"),
}
SHOW_PROBLEMS = 200  # rows of reasons shown; the rest are counted
SHOW_KEYS = 8  # keys of added / changed / removed rows shown per sheet


def import_box(lang: str) -> html.Details:
    """The upload for an exported lists file: a dry run first, then a confirm that writes it. Folded
    until opened, so the views keep the screen."""
    return html.Details(
        [
            html.Summary(
                [
                    bi_text("导入清单", "Import lists", lang),
                    html.Span(
                        pick(
                            " · 替换上方所选部门 (或全市) 的清单 · 先试运行, 确认后整体写入并记入责任日志",
                            " · replaces the lists of the department picked above (or the city's) · a dry run "
                            "first; confirm writes it whole, with a responsibility-log entry",
                            lang,
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title lists-import-summary",
            ),
            dcc.Upload(
                html.Div(
                    both(
                        "拖放或点击选择导出的 .xlsx / .zip 文件 (上限 5 MB)",
                        "Drop or pick an exported .xlsx / .zip file (at most 5 MB)",
                        lang,
                        " · ",
                    )
                ),
                id=ids.upload,
                accept=".xlsx,.zip",
                multiple=False,
                className="lists-upload",
            ),
            html.Div(id=ids.import_result, className="lists-import-result", role="status"),
            html.Button(
                both("确认导入", "Confirm import", lang, " "),
                id=ids.confirm,
                className="btn btn-primary",
                style={"display": "none"},
            ),
            dcc.Store(id=ids.dry_run),
        ],
        id=ids.import_box,
        className="card lists-import",
    )


def import_message(zh: str, en: str, lang: str) -> html.P:
    return html.P(both(zh, en, lang, " / "), className="lists-import-refused")


def import_report(out: lists_io.Outcome, lang: str, *, dry_run: bool, filename: str) -> html.Div:
    """A dry run's or an import's outcome: every row's reason when refused, else what changes."""
    sheet = {k: pick(*v, lang) for k, v in SHEET_NAMES.items()}
    if not out.ok:
        shown = out.problems[:SHOW_PROBLEMS]
        more = len(out.problems) - len(shown)
        rows: list[list[Any]] = [
            [sheet.get(p.sheet, p.sheet), str(p.row) if p.row else "—", pick(p.zh, p.en, lang)] for p in shown
        ]
        return html.Div(
            [
                html.P(
                    pick(
                        f"{filename}: 整体拒绝, 清单未改动 · {len(out.problems)} 个问题",
                        f"{filename}: refused whole, nothing changed · {len(out.problems)} problems",
                        lang,
                    ),
                    className="lists-import-refused",
                ),
                simple_table(
                    "lists-import-problems",
                    [("清单", "Sheet"), ("行", "Row"), ("原因", "Reason")],
                    rows,
                    lang,
                ),
                html.P(pick(f"另有 {more} 个问题未列出", f"and {more} more", lang)) if more else None,
            ],
            className="lists-import-report",
        )
    total = sum(sum(v) for v in out.changes.values())
    if dry_run:
        head = (
            pick(
                f"{filename}: 试运行通过, 尚未写入 · 共 {total} 行变化",
                f"{filename}: dry run passed, nothing written yet · {total} rows would change",
                lang,
            )
            if total
            else pick(
                f"{filename}: 与现有清单一致, 无需导入",
                f"{filename}: same as the lists, nothing to import",
                lang,
            )
        )
    else:
        head = pick(
            f"{filename}: 已导入 {total} 行变化, 已记入责任日志",
            f"{filename}: imported, {total} rows changed, written to the responsibility log",
            lang,
        )

    def keys(name: str, what: str) -> str:
        ks = out.keys.get(name, {}).get(what, [])
        return ", ".join(ks[:SHOW_KEYS]) + (" …" if len(ks) > SHOW_KEYS else "")

    rows = [
        [sheet[name], a, keys(name, "added"), c, keys(name, "changed"), r, keys(name, "removed")]
        for name, (a, c, r) in out.changes.items()
    ]
    return html.Div(
        [
            html.P(head, className="lists-import-ok"),
            simple_table(
                "lists-import-changes",
                [
                    ("清单", "Sheet"),
                    ("新增", "Added"),
                    ("新增的键", "keys"),
                    ("修改", "Changed"),
                    ("修改的键", "keys"),
                    ("删除", "Removed"),
                    ("删除的键", "keys"),
                ],
                rows,
                lang,
            ),
        ],
        className="lists-import-report",
    )
