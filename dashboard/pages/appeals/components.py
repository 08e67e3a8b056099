"""The appeals page's panels: KPI cards with their definitions, rates per decision type, the appeals list,
the model's disclosure, hotspots and optimization actions with their before/after effect."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import dcc, html

from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.case.components import label, model_log_table, ts
from queries import appeals as ap
from queries import optimization as opt
from queries import priority as prio


class ids:
    root = "appeals-root"
    params = "appeals-params-store"
    content = "appeals-content"
    kpis = "appeals-kpis"
    rates = "appeals-rates-table"
    table = "appeals-list-table"
    pick_ = "appeals-decide-dropdown"
    outcome = "appeals-outcome-radio"
    note = "appeals-note-textarea"
    score = "appeals-score-input"
    dept = "appeals-dept-dropdown"
    decide = "appeals-decide-button"
    decide_msg = "appeals-decide-message"
    model = "appeals-model-card"
    hotspot = "appeals-hotspot-dropdown"
    title = "appeals-action-title-input"
    window = "appeals-window-input"
    open_ = "appeals-open-button"
    open_msg = "appeals-open-message"
    actions = "appeals-actions-table"


SRC = "queries.appeals.rates"
PERIOD = ("全部案件 (截至数据时点)", "All cases up to the data time")
DEFS = {
    "overdue": KpiDef(
        ("超过答复期限仍未答复的申诉数", "Appeals still open after their due day"),
        ("未答复且今日晚于答复期限的申诉", "open appeals whose due day has passed"),
        ("—", "—"),
        ("当前", "now"),
        "queries.appeals.appeals",
    ),
    "open": KpiDef(
        ("待答复的申诉数", "Appeals waiting for an answer"),
        ("状态为待答复的申诉", "appeals with status open"),
        ("—", "—"),
        ("当前", "now"),
        "queries.appeals.appeals",
    ),
    "appeal_rate": KpiDef(
        ("申诉率 = 申诉数 / 算法决定数", "appeal rate = appeals / algorithmic decisions"),
        ("针对评分或派单的申诉", "appeals against a score or a routing"),
        ("案件数 × 2 (每件一次评分, 一次派单)", "cases x 2 (one score and one routing each)"),
        PERIOD,
        SRC,
    ),
    "correction_rate": KpiDef(
        ("纠正率 = 纠正数 / 已答复申诉数", "correction rate = corrected / appeals answered"),
        ("答复为纠正的申诉", "appeals answered 'corrected'"),
        ("已答复 (维持或纠正) 的申诉", "appeals answered (upheld or corrected)"),
        PERIOD,
        SRC,
    ),
}


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def kpis(frame: pl.DataFrame, rates: pl.DataFrame, lang: str) -> html.Div:
    open_, overdue = ap.open_of(frame=frame)
    appeals_n, decisions = int(rates["appeals"].sum()), int(rates["decisions"].sum())
    decided, corrected = int(rates["decided"].sum()), int(rates["corrected"].sum())
    return html.Div(
        [
            kpi_card("appeals-kpi-overdue", ("超期未答复", "Overdue appeals"), f"{overdue:,}", DEFS["overdue"], lang,
                     tone="bad" if overdue else "good"),
            kpi_card("appeals-kpi-open", ("待答复", "Open appeals"), f"{open_.height:,}", DEFS["open"], lang),
            kpi_card("appeals-kpi-rate", ("申诉率", "Appeal rate"), pct(appeals_n / decisions if decisions else None),
                     DEFS["appeal_rate"], lang, sub=f"{appeals_n:,} / {decisions:,}"),
            kpi_card("appeals-kpi-correction", ("纠正率", "Correction rate"), pct(corrected / decided if decided else None),
                     DEFS["correction_rate"], lang, sub=f"{corrected:,} / {decided:,}"),
        ],
        className="appeals-kpis",
        id=ids.kpis,
    )  # fmt: skip


def table(
    head: list[tuple[str, str]], rows: list[list[Any]], lang: str, tid: str | None = None
) -> html.Table:
    children = [
        html.Thead(html.Tr([html.Th(bi_text(*h, lang)) for h in head])),
        html.Tbody([html.Tr([c if isinstance(c, html.Td) else html.Td(c) for c in r]) for r in rows]),
    ]
    if tid:
        return html.Table(children, className="data-table", id=tid)
    return html.Table(children, className="data-table")


def rates_card(rates: pl.DataFrame, lang: str) -> html.Div:
    head = [("决定类型", "Decision"), ("决定数", "Decisions"), ("申诉", "Appeals"), ("申诉率", "Appeal rate"),
            ("已答复", "Answered"), ("纠正", "Corrected"), ("纠正率", "Correction rate")]  # fmt: skip
    rows = [
        [pick(r["name_zh"], r["name_en"], lang), f"{r['decisions']:,}", f"{r['appeals']:,}", pct(r["appeal_rate"]),
         f"{r['decided']:,}", f"{r['corrected']:,}", pct(r["correction_rate"])]
        for r in rates.iter_rows(named=True)
    ]  # fmt: skip
    return html.Div(
        [
            bi_text(
                "各类算法决定被申诉和纠正的比例是多少?",
                "How often is each kind of decision appealed and corrected?",
                lang,
                "card-title",
            ),
            table(head, rows, lang, ids.rates),
            html.P(
                both(
                    "申诉率 = 申诉 / 决定; 纠正率 = 纠正 / 已答复",
                    "appeal rate = appeals / decisions; correction rate = corrected / answered",
                    lang,
                    " · ",
                ),
                className="muted",
            ),
        ],
        className="card",
    )


def appeals_card(frame: pl.DataFrame, lang: str) -> html.Div:
    head = [("编号", "#"), ("案件", "Case"), ("决定", "Decision"), ("部门", "Department"), ("提出", "Filed"),
            ("答复期限", "Due"), ("状态", "Status"), ("理由", "Reason")]  # fmt: skip
    rows = []
    for r in frame.head(200).iter_rows(named=True):
        if r["status"] == "open":
            status = (
                pick("已超期", "overdue", lang)
                if r["overdue"]
                else f"{pick('剩', 'left', lang)} {r['days_left']} {pick('天', 'd', lang)}"
            )
        else:
            status = label(ap.OUTCOMES, r["status"], lang) + (
                pick(" (逾期答复)", " (answered late)", lang) if r["late"] else ""
            )
        rows.append(
            [
                r["id"],
                html.A(f"#{r['case_id']}", href=f"/case?id={r['case_id']}"),
                label(ap.DECISION_TYPES, r["decision_type"], lang),
                r["dept_zh"],
                f"{ts(r['filed_at'])} {r['filed_by']}",
                html.Td(str(r["due_on"]), className="bad" if r["overdue"] else ""),
                html.Td(status, className="bad" if r["overdue"] else ""),
                html.Td((r["reason"] or "")[:80], className="case-note"),
            ]
        )
    body: Any = (
        table(head, rows, lang)
        if rows
        else html.P(pick("暂无申诉", "No appeals yet", lang), className="muted")
    )
    return html.Div(
        [
            bi_text(
                "哪些申诉将要或已经超过 7 个工作日?",
                "Which appeals are due, or past their 7 working days?",
                lang,
                "card-title",
            ),
            html.Div(body, id=ids.table),
        ],
        className="card",
    )


def decide_form(frame: pl.DataFrame, depts: pl.DataFrame, lang: str) -> html.Div:
    open_, _ = ap.open_of(frame=frame)
    options = [
        {
            "label": f"#{r['id']} · {pick('案件', 'case', lang)} {r['case_id']} · {label(ap.DECISION_TYPES, r['decision_type'], lang)}",
            "value": int(r["id"]),
        }
        for r in open_.iter_rows(named=True)
    ]
    return html.Div(
        [
            bi_text("答复申诉", "Answer an appeal", lang, "card-title"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.pick_,
                        options=options,
                        value=int(open_["id"][0]) if open_.height else None,
                        placeholder=pick("选择申诉", "choose an appeal", lang),
                    ),
                    dcc.RadioItems(
                        id=ids.outcome,
                        options=[{"label": both(*v, lang, " "), "value": k} for k, v in ap.OUTCOMES.items()],
                        value="upheld",
                        inline=True,
                    ),
                    dcc.Input(
                        id=ids.score,
                        type="number",
                        min=0,
                        max=100,
                        placeholder=pick("纠正后评分 (0-100)", "corrected score (0-100)", lang),
                    ),
                    dcc.Dropdown(
                        id=ids.dept,
                        options=[
                            {"label": f"{r['name_zh']} {r['name_en']}", "value": int(r["id"])}
                            for r in depts.iter_rows(named=True)
                        ],
                        placeholder=pick("纠正后部门", "corrected department", lang),
                    ),
                    dcc.Textarea(
                        id=ids.note,
                        value="",
                        maxLength=2000,
                        placeholder=pick("答复说明", "Answer", lang),
                        className="case-note-input",
                    ),
                    html.Button(both("答复", "Answer", lang, " "), id=ids.decide, className="panel-action"),
                ],
                className="appeals-form",
            ),
            html.Div(id=ids.decide_msg, role="status"),
        ],
        className="card appeals-decide",
    )


def model_card(lang: str) -> html.Div:
    ex = prio.FEATURES
    rows = [[pick(f.zh, f.en, lang), f"{f.weight:g}", pick(f.how_zh, f.how_en, lang)] for f in ex]
    return html.Div(
        [
            bi_text("优先级模型如何打分?", "How does the priority model score a case?", lang, "card-title"),
            html.P(both(f"模型 {prio.MODEL_VERSION}; 得分 = Σ 权重 × 特征值 (0-1), 满分 100; 阈值 {prio.THRESHOLD:g} 分及以上优先处置",
                        f"Model {prio.MODEL_VERSION}; score = Σ weight × feature value (0-1), out of 100; {prio.THRESHOLD:g} or more is handled first", lang, " / ")),
            table([("特征", "Feature"), ("权重 (分)", "Weight (points)"), ("取值", "Value")], rows, lang),
            model_log_table(lang),
        ],
        className="card",
        id=ids.model,
    )  # fmt: skip


def optimization_card(hot: pl.DataFrame, acts: pl.DataFrame, may_open: bool, lang: str) -> html.Div:
    options = [
        {
            "label": f"{r['problem_zh']} · {r['community_zh']} · {r['n']} {pick('件', 'cases', lang)}",
            "value": f"{r['problem_id']}:{r['community_code']}",
        }
        for r in hot.sort("n", descending=True).head(100).iter_rows(named=True)
    ]
    form: list[Any] = []
    if may_open:
        form = [
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.hotspot,
                        options=options,
                        value=options[0]["value"] if options else None,
                        placeholder=pick("选择热点", "choose a hotspot", lang),
                    ),
                    dcc.Input(
                        id=ids.title,
                        type="text",
                        maxLength=opt.TITLE_MAX,
                        placeholder=pick(
                            "优化措施 (如: 加装路灯)", "Action (e.g. install street lights)", lang
                        ),
                    ),
                    dcc.Input(
                        id=ids.window,
                        type="number",
                        min=opt.WINDOW_RANGE[0],
                        max=opt.WINDOW_RANGE[1],
                        value=opt.WINDOW_DAYS,
                    ),
                    html.Button(
                        both("发起优化", "Open action", lang, " "), id=ids.open_, className="panel-action"
                    ),
                ],
                className="appeals-form",
            ),
            html.Div(id=ids.open_msg, role="status"),
        ]
    head = [("措施", "Action"), ("热点", "Hotspot"), ("发起", "Opened"), ("窗口 (天)", "Window (days)"),
            ("之前 (件/30天)", "Before (cases / 30 d)"), ("之后 (件/30天)", "After (cases / 30 d)"), ("变化", "Change"), ("状态", "Status")]  # fmt: skip
    rows = [
        [r["title"], f"{r['problem_zh']} · {r['community_zh']}", f"{ts(r['opened_at'])} {r['opened_by']}", r["window_days"],
         f"{r['before']} ({r['before_per30']:.1f})",
         f"{r['after']} ({r['after_per30']:.1f})" if r["after_per30"] is not None else pick("观察期未满 1 天", "under 1 day so far", lang),
         "—" if r["change"] is None else f"{r['change'] * 100:+.0f}%",
         pick("进行中", "open", lang) if r["status"] == "open" else pick("已完成", "done", lang)]
        for r in acts.iter_rows(named=True)
    ]  # fmt: skip
    body: Any = (
        table(head, rows, lang)
        if rows
        else html.P(pick("尚未发起优化措施", "No optimization action yet", lang), className="muted")
    )
    return html.Div(
        [
            bi_text("反复出现的热点是否已被优化, 效果如何?", "Are recurring hotspots being optimized, and did cases fall?", lang, "card-title"),
            html.P(both(f"热点: 同一问题类型在同一社区 30 天内 ≥ 5 件; 共 {hot.height} 个, 其中已进入优化 {int(hot['optimized'].sum()) if hot.height else 0} 个",
                        f"Hotspot: one problem type in one community, ≥ 5 cases within 30 days; {hot.height} found, {int(hot['optimized'].sum()) if hot.height else 0} reached optimization", lang, " · "), className="muted"),
            *form,
            html.Div(body, id=ids.actions),
        ],
        className="card",
    )  # fmt: skip
