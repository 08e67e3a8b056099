"""The Three-Lists page's mapping picture: a problem type, its process steps, the data items they use and
the departments that lead or support them, with the gaps in red. A pure function of `lists.mapping`."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from dashboard import figures
from dashboard.i18n import pick, titles
from dashboard.pages.lists.components import (
    CHANNEL,
    CLASS,
    SEVERITY,
    STAGE,
    hours_text,
    short,
)
from queries import lists

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
