"""The case page's panels: header with both SLA clocks, stage track, timeline, process, priority
explanation, the actions form and the appeal form. Pure functions of query results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl
from dash import dcc, html

from dashboard.i18n import bi_text, both, pick
from queries import appeals as ap
from queries import case_rules as R
from queries import priority as prio
from queries.timebase import to_local


class ids:
    root = "case-root"
    params = "case-params-store"
    content = "case-content"
    id_input = "case-id-input"
    open_button = "case-open-button"
    body = "case-body"
    case_store = "case-case-store"  # {"id": ..., "version": ...}: the row_version the page showed
    action = "case-action-dropdown"
    note = "case-note-textarea"
    to_stage = "case-to-stage-dropdown"
    to_dept = "case-to-dept-dropdown"
    days = "case-days-input"
    approve = "case-approve-radio"
    satisfaction = "case-satisfaction-radio"
    result = "case-result-radio"
    submit = "case-submit-button"
    message = "case-action-message"
    timeline = "case-timeline-table"
    appeal_type = "case-appeal-type-dropdown"
    appeal_reason = "case-appeal-reason-textarea"
    appeal_submit = "case-appeal-submit-button"
    appeal_message = "case-appeal-message"
    appeals = "case-appeals-table"
    header = "case-header"
    priority = "case-priority-table"
    track = "case-stage-track"
    approve_label = "case-approve-label"
    urgent = "case-urgent-table"


EVENT_LABELS = {
    "open": ("立案", "Opened"),
    "sign": ("签收", "Signed for"),
    "advance": ("推进", "Advanced"),
    "transfer": ("转办", "Transferred"),
    "defer_request": ("申请延期", "Deferral requested"),
    "defer_decision": ("延期审批", "Deferral decided"),
    "evaluate": ("评估", "Evaluated"),
    "feedback": ("反馈", "Feedback"),
    "return_visit": ("回访", "Return visit"),
    "reopen": ("重新办理", "Reopened"),
    "escalate": ("提级督办", "Escalated"),
    "emergency_skip": ("紧急越级", "Emergency skip"),
    "close": ("办结", "Closed"),
    "correction": ("申诉纠正", "Corrected on appeal"),
}
CLASS_LABELS = {
    "enquiry": ("咨询", "Enquiry"),
    "help": ("求助", "Help request"),
    "complaint": ("投诉", "Complaint"),
    "report": ("举报", "Report"),
    "alarm": ("报警", "Alarm"),
}
CHANNEL_LABELS = {
    "hotline": ("12345热线", "12345 hotline"),
    "photo": ("随手拍", "Take-a-photo"),
    "grid": ("网格巡查", "Grid inspection"),
    "iot": ("物联感知", "IoT alarm"),
    "pool_alert": ("数据池预警", "Data-pool alert"),
}
SATISFACTION_LABELS = {
    "satisfied": ("满意", "Satisfied"),
    "basic": ("基本满意", "Basically satisfied"),
    "dissatisfied": ("不满意", "Dissatisfied"),
}
RESULT_LABELS = {
    "resolved": ("已解决", "Resolved"),
    "partly": ("部分解决", "Partly resolved"),
    "unresolved": ("未解决", "Unresolved"),
}


def ts(value: object) -> str:
    return "—" if value is None else to_local(int(str(value))).strftime("%Y-%m-%d %H:%M")


def label(table: Mapping[str, tuple[str, str]], key: object, lang: str) -> str:
    zh, en = table.get(str(key), (str(key), str(key)))
    return pick(zh, en, lang)


def _fact(k: tuple[str, str], v: Any, lang: str, cls: str = "") -> html.Div:
    return html.Div(
        [html.Span(pick(*k, lang), className="kdef-k"), html.Span(v, className=f"kdef-v {cls}")],
        className="case-fact",
    )


def clock(due: object, done: object, now: int, lang: str) -> tuple[str, str]:
    """(text, css class) of one SLA clock: done on time / done late / overdue / due in."""
    if due is None:
        return "—", ""
    d = int(str(due))
    if done is not None:
        late = int(str(done)) > d
        return (pick("超时完成", "done late", lang) if late else pick("按时完成", "done on time", lang)), (
            "bad" if late else "good"
        )
    if now > d:
        return f"{pick('已超时', 'overdue since', lang)} {ts(d)}", "bad"
    return f"{pick('期限', 'due', lang)} {ts(d)}", ""


def header(case: Mapping[str, Any], names: Mapping[str, Any], now: int, lang: str) -> html.Div:
    sign_txt, sign_cls = clock(case["sign_due_at"], case["signed_at"], now, lang)
    close_txt, close_cls = clock(case["close_due_at"], case["closed_at"], now, lang)
    title = (
        f"{pick('案件', 'Case', lang)} #{case['id']} · {pick(names['problem_zh'], names['problem_en'], lang)}"
    )
    flags = []
    if case.get("emergency"):
        flags.append(html.Span(pick("紧急", "Emergency", lang), className="case-flag bad"))
    if R.needs_escalation(
        reopen_count=int(case.get("reopen_count") or 0),
        departments=int(case.get("dept_count") or 1),
        has_lead=bool(case.get("has_lead")),
    ):
        flags.append(html.Span(pick("应提级督办", "Escalation due", lang), className="case-flag bad"))
    return html.Div(
        [
            html.H2([title, *flags], className="case-title"),
            html.Div(
                [
                    _fact(("阶段", "Stage"), R.stage_label(case["stage"]), lang, "case-stage"),
                    _fact(("来源", "Channel"), label(CHANNEL_LABELS, case["channel"], lang), lang),
                    _fact(("类别", "Class"), label(CLASS_LABELS, case["case_class"], lang), lang),
                    _fact(("责任部门", "Department"), pick(names["dept_zh"], names["dept_en"], lang), lang),
                    _fact(("责任人", "Accountable"), names["person_zh"], lang),
                    _fact(("立案", "Opened"), ts(case["opened_at"]), lang),
                    _fact(("签收时钟", "Sign-for clock"), sign_txt, lang, sign_cls),
                    _fact(("办结时钟", "Closing clock"), close_txt, lang, close_cls),
                    _fact(
                        ("重办/转办", "Reopened / transferred"),
                        f"{case['reopen_count']} / {case['transfer_count']}",
                        lang,
                    ),
                    _fact(
                        ("满意度", "Satisfaction"),
                        label(SATISFACTION_LABELS, case.get("satisfaction"), lang)
                        if case.get("satisfaction")
                        else "—",
                        lang,
                    ),
                ],
                className="case-facts",
            ),
        ],
        className="card case-header",
        id=ids.header,
    )


def stage_track(case: Mapping[str, Any], lang: str) -> html.Ol:
    """The seven stages, the ones passed marked with when the case entered them."""
    here = R.STAGES.index(str(case["stage"])) if case["stage"] in R.STAGES else 0
    at = {"monitoring": case.get("opened_at"), "analysis": case.get("analysis_at"), "response": case.get("response_at"),
          "evaluation": case.get("evaluation_at"), "feedback": case.get("feedback_at"),
          "optimization": case.get("optimization_at"), "closed": case.get("closed_at")}  # fmt: skip
    steps = []
    for i, s in enumerate(R.STAGES):
        cls = "done" if i < here else ("current" if i == here else "todo")
        if i > here and at.get(s) is None:
            cls = "todo"
        steps.append(
            html.Li(
                [
                    bi_text(*R.STAGE_LABELS[s], lang),
                    html.Span(ts(at.get(s)) if at.get(s) else "", className="case-step-at"),
                ],
                className=f"case-step {cls}",
            )
        )
    return html.Ol(steps, className="case-track", id=ids.track)


def urgent_table(frame: pl.DataFrame, depts: pl.DataFrame, now: int, lang: str) -> html.Div:
    """The viewer's most urgent open cases, each a link to its page (the case page without an id)."""
    title = bi_text(
        "我最紧急的未办结案件 (逾期优先, 按优先级)",
        "My most urgent open cases (overdue first, by priority)",
        lang,
        "card-title",
    )
    if not frame.height:
        body: Any = html.P(
            pick("您的范围内没有未办结的案件", "No open cases in your scope", lang), className="muted"
        )
    else:
        names = dict(zip(depts["id"].to_list(), depts["name_zh" if lang != "en" else "name_en"], strict=True))
        head = [
            ("案件", "Case"),
            ("问题类型", "Problem"),
            ("类别", "Class"),
            ("阶段", "Stage"),
            ("责任部门", "Department"),
            ("优先级 (0-100)", "Priority (0-100)"),
            ("办结期限", "Closure due"),
        ]
        rows = []
        for r in frame.iter_rows(named=True):
            due_txt, due_cls = clock(r["due_at"], None, now, lang)
            rows.append(
                html.Tr(
                    [
                        html.Td(dcc.Link(f"#{r['id']}", href=f"/case?id={r['id']}")),
                        html.Td(pick(r["problem_zh"], r["problem_en"], lang)),
                        html.Td(label(CLASS_LABELS, r["case_class"], lang)),
                        html.Td(label(R.STAGE_LABELS, r["stage"], lang)),
                        html.Td(names.get(r["dept_id"], "—")),
                        html.Td("—" if r["priority"] is None else f"{r['priority']:.1f}", className="num"),
                        html.Td(due_txt, className=due_cls),
                    ],
                    className="row-overdue" if r["overdue"] else None,
                )
            )
        body = html.Table(
            [html.Thead(html.Tr([html.Th(bi_text(*h, lang)) for h in head])), html.Tbody(rows)],
            className="data-table case-urgent",
        )
    return html.Div([title, body], className="card", id=ids.urgent)


def timeline_rows(frame: pl.DataFrame, lang: str) -> list[html.Tr]:
    """One table row per event, oldest first."""
    rows = []
    for r in frame.iter_rows(named=True):
        a, b = r["from_stage"], r["to_stage"]
        if a and b and a != b:
            stage = f"{label(R.STAGE_LABELS, a, lang)} → {label(R.STAGE_LABELS, b, lang)}"
        else:
            stage = label(R.STAGE_LABELS, b or a, lang) if (a or b) else "—"
        if r["to_dept_zh"] and r["from_dept_zh"] and r["kind"] != "open":
            dept = f"{r['from_dept_zh']} → {r['to_dept_zh']}"
        else:
            dept = r["to_dept_zh"] or r["from_dept_zh"] or "—"
        who = r["username"] or r["person_zh"] or pick("系统", "system", lang)
        detail = json.loads(r["detail"]) if r["detail"] else {}
        extra = _detail_text(detail, lang)
        rows.append(
            html.Tr(
                [
                    html.Td(ts(r["at"])),
                    html.Td(label(EVENT_LABELS, r["kind"], lang), className=f"ev-{r['kind']}"),
                    html.Td(stage),
                    html.Td(dept),
                    html.Td(who),
                    html.Td(" · ".join(x for x in (extra, r["note"] or "") if x), className="case-note"),
                ]
            )
        )
    return rows


def timeline_table(frame: pl.DataFrame, lang: str) -> html.Div:
    head = [
        ("时间", "When"),
        ("事件", "What"),
        ("阶段", "Stage"),
        ("部门", "Department"),
        ("经办", "Who"),
        ("说明", "Note"),
    ]
    rows = timeline_rows(frame, lang)
    if not rows:
        body: Any = html.P(pick("尚无事件记录", "No events yet", lang), className="muted")
    else:
        body = html.Table(
            [html.Thead(html.Tr([html.Th(bi_text(*h, lang)) for h in head])), html.Tbody(rows)],
            className="data-table case-timeline",
        )
    return html.Div(
        [bi_text("时间线: 谁在何时做了什么", "Timeline: who did what, when", lang, "card-title"), body],
        className="card",
        id=ids.timeline,
    )


def _detail_text(d: Mapping[str, Any], lang: str) -> str:
    parts = []
    if "days" in d:
        parts.append(f"{d['days']} {pick('个工作日', 'working days', lang)}")
    if "approved" in d:
        parts.append(pick("批准", "approved", lang) if d["approved"] else pick("驳回", "refused", lang))
    if "satisfaction" in d:
        parts.append(label(SATISFACTION_LABELS, d["satisfaction"], lang))
    if "result" in d:
        parts.append(label(RESULT_LABELS, d["result"], lang))
    if d.get("skipped"):
        parts.append(
            pick("越过: ", "skipped: ", lang)
            + ", ".join(label(R.STAGE_LABELS, s, lang) for s in d["skipped"])
        )
    if "appeal" in d:
        parts.append(f"{pick('申诉', 'appeal', lang)} #{d['appeal']}")
    return " · ".join(parts)


def process_table(frame: pl.DataFrame, lang: str) -> html.Div:
    if frame.height == 0:
        body: Any = html.P(
            pick(
                "该问题类型没有流程 (三单缺口)", "This problem type has no process (a three-lists gap)", lang
            ),
            className="muted",
        )
    else:
        head = [
            ("序", "#"),
            ("步骤", "Step"),
            ("阶段", "Stage"),
            ("时限", "Limit"),
            ("数据项", "Data items"),
            ("牵头部门", "Lead"),
        ]
        body = html.Table(
            [
                html.Thead(html.Tr([html.Th(bi_text(*h, lang)) for h in head])),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(r["seq"]),
                                html.Td(pick(r["name_zh"], r["name_en"], lang)),
                                html.Td(label(R.STAGE_LABELS, r["stage"], lang)),
                                html.Td(f"{r['limit_hours']} {pick('工作小时', 'working h', lang)}"),
                                html.Td(r["data_items"]),
                                html.Td(r["lead"]),
                            ]
                        )
                        for r in frame.iter_rows(named=True)
                    ]
                ),
            ],
            className="data-table",
        )
    return html.Div(
        [
            bi_text(
                "流程与数据 (三单融合)", "Process steps and data items (three lists)", lang, "card-title"
            ),
            body,
        ],
        className="card",
    )


def priority_panel(case: Mapping[str, Any], severity: int, lang: str) -> html.Div:
    ex = prio.explain(case, severity=severity)
    total = float(ex["points"].sum())
    stored, model = case.get("priority"), case.get("priority_model") or "—"
    first = total >= prio.THRESHOLD
    verdict_zh, verdict_en = ("优先处置", "handled first") if first else ("常规处置", "normal order")
    rows = [
        html.Tr(
            [
                html.Td(pick(r["name_zh"], r["name_en"], lang), title=pick(r["how_zh"], r["how_en"], lang)),
                html.Td(f"{r['value']:.2f}"),
                html.Td(f"{r['weight']:g}"),
                html.Td(f"{r['points']:.1f}"),
                html.Td(
                    html.Div(className="case-bar", style={"width": f"{r['points'] / 30 * 100:.0f}%"}),
                    className="case-bar-cell",
                ),
            ]
        )
        for r in ex.iter_rows(named=True)
    ]
    head = [
        ("特征", "Feature"),
        ("取值 (0-1)", "Value (0-1)"),
        ("权重", "Weight"),
        ("得分", "Points"),
        ("", ""),
    ]
    return html.Div(
        [
            bi_text("为何是这个优先级?", "Why this priority?", lang, "card-title"),
            html.P(
                both(
                    f"评分 {total:.1f} 分 (满分 100), 阈值 {prio.THRESHOLD:g} 分: {verdict_zh}; 模型 {prio.MODEL_VERSION}",
                    f"Score {total:.1f} of 100, threshold {prio.THRESHOLD:g}: {verdict_en}; model {prio.MODEL_VERSION}",
                    lang,
                    " / ",
                ),
                className="case-score",
            ),
            html.P(
                both(
                    f"立案时记录的评分: {stored if stored is not None else '—'} (模型 {model})",
                    f"Score recorded on the case: {stored if stored is not None else '—'} (model {model})",
                    lang,
                    " / ",
                ),
                className="muted",
            ),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(bi_text(*h, lang)) if h[0] else html.Th() for h in head])),
                    html.Tbody(rows),
                ],
                className="data-table",
                id=ids.priority,
            ),
            model_log_table(lang),
        ],
        className="card",
    )


def model_log_table(lang: str) -> html.Details:
    log = prio.model_log()
    return html.Details(
        [
            html.Summary(both("模型版本与变更记录", "Model versions and change log", lang, " · ")),
            html.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th(bi_text(*h, lang))
                                for h in (
                                    ("版本", "Version"),
                                    ("日期", "Date"),
                                    ("阈值", "Threshold"),
                                    ("权重", "Weights"),
                                    ("变更", "Change"),
                                )
                            ]
                        )
                    ),
                    html.Tbody(
                        [
                            html.Tr(
                                [
                                    html.Td(r["version"] + (" ✓" if r["current"] else "")),
                                    html.Td(r["date"]),
                                    html.Td(f"{r['threshold']:g}"),
                                    html.Td(r["weights"]),
                                    html.Td(pick(r["change_zh"], r["change_en"], lang)),
                                ]
                            )
                            for r in log.iter_rows(named=True)
                        ]
                    ),
                ],
                className="data-table",
            ),
        ],
        className="case-model-log",
        open=False,
    )


def _opts(table: Mapping[str, tuple[str, str]], keys: Any, lang: str) -> list[dict[str, str]]:
    return [{"label": both(*table[k], lang, " "), "value": k} for k in keys]


def later_stages(case: Mapping[str, Any]) -> list[str]:
    """The stages a case may be advanced to (the next by default; an emergency may skip)."""
    return list(R.STAGES[R.STAGES.index(str(case["stage"])) + 1 :]) if case["stage"] in R.STAGES else []


def transfer_options(case: Mapping[str, Any], depts: pl.DataFrame) -> list[dict[str, Any]]:
    """Every department but the case's own."""
    return [
        {"label": f"{r['name_zh']} {r['name_en']}", "value": int(r["id"])}
        for r in depts.iter_rows(named=True)
        if r["id"] != case["dept_id"]
    ]


def approve_label(pending_days: int | None) -> tuple[str, str]:
    if pending_days is None:
        return ("延期审批", "Deferral decision")
    return (
        f"延期审批 (申请 {pending_days} 个工作日)",
        f"Deferral decision ({pending_days} working days asked)",
    )


def action_options(allowed: list[str], lang: str) -> list[dict[str, str]]:
    return _opts(R.ACTION_LABELS, allowed, lang)


def stage_options(case: Mapping[str, Any], lang: str) -> list[dict[str, str]]:
    return _opts(R.STAGE_LABELS, later_stages(case), lang)


def case_store_data(case: Mapping[str, Any], last_event: int) -> dict[str, int]:
    """What the page shows of the case: its row_version (optimistic concurrency) and the newest event on
    its timeline (an action then appends only the events after it)."""
    return {"id": int(case["id"]), "version": int(case["row_version"]), "last_event": int(last_event)}


def actions_panel(
    case: Mapping[str, Any],
    allowed: list[str],
    depts: pl.DataFrame,
    pending_days: int | None,
    lang: str,
    last_event: int = 0,
) -> html.Div:
    title = bi_text("办理", "Act on this case", lang, "card-title")
    store = dcc.Store(id=ids.case_store, data=case_store_data(case, last_event))
    if not allowed:
        return html.Div(
            [
                title,
                store,
                html.P(
                    both(
                        "您不能办理此案件 (只有责任部门负责人或管理员可以办理)",
                        "You cannot act on this case (only the responsible department's head or an administrator)",
                        lang,
                        " / ",
                    ),
                    className="muted",
                    id=ids.message,
                ),
            ],
            className="card case-actions",
        )
    dept_opts = transfer_options(case, depts)

    def field(lab: tuple[str, str], control: Any, label_id: str | None = None) -> html.Div:
        head = bi_text(*lab, lang, "case-field-label")
        return html.Div([html.Span(head, id=label_id) if label_id else head, control], className="case-field")

    return html.Div(
        [
            title,
            store,
            field(
                ("操作", "Action"),
                dcc.Dropdown(
                    id=ids.action,
                    options=action_options(allowed, lang),
                    value=allowed[0],
                    clearable=False,
                ),
            ),
            field(
                ("说明 (最多 2,000 字)", "Note (at most 2,000 characters)"),
                dcc.Textarea(id=ids.note, value="", className="case-note-input", maxLength=R.NOTE_MAX),
            ),
            field(
                ("推进到 (仅紧急事件可越级)", "Advance to (only emergencies may skip)"),
                dcc.Dropdown(
                    id=ids.to_stage,
                    options=stage_options(case, lang),
                    value=None,
                    placeholder=pick("下一阶段", "next stage", lang),
                ),
            ),
            field(("转办部门", "Transfer to"), dcc.Dropdown(id=ids.to_dept, options=dept_opts, value=None)),
            field(
                ("延期工作日", "Deferral, working days"),
                dcc.Input(id=ids.days, type="number", min=1, step=1, value=None),
            ),
            field(
                approve_label(pending_days),
                dcc.RadioItems(
                    id=ids.approve,
                    options=[
                        {"label": pick("批准", "Approve", lang), "value": "yes"},
                        {"label": pick("驳回", "Refuse", lang), "value": "no"},
                    ],
                    value=None,
                    inline=True,
                ),
                ids.approve_label,
            ),
            field(
                ("评估结论", "Evaluation"),
                dcc.RadioItems(
                    id=ids.result, options=_opts(RESULT_LABELS, RESULT_LABELS, lang), value=None, inline=True
                ),
            ),
            field(
                ("满意度", "Satisfaction"),
                dcc.RadioItems(
                    id=ids.satisfaction,
                    options=_opts(SATISFACTION_LABELS, SATISFACTION_LABELS, lang),
                    value=None,
                    inline=True,
                ),
            ),
            html.Button(both("提交", "Submit", lang, " "), id=ids.submit, className="panel-action"),
            html.Div(id=ids.message, role="status"),
        ],
        className="card case-actions",
    )


def appeals_list(frame: pl.DataFrame, lang: str) -> Any:
    head = [("编号", "#"), ("决定", "Decision"), ("提出", "Filed"), ("答复期限", "Due"), ("状态", "Status")]
    rows = [
        html.Tr(
            [
                html.Td(r["id"]),
                html.Td(label(ap.DECISION_TYPES, r["decision_type"], lang)),
                html.Td(f"{ts(r['filed_at'])} {r['filed_by']}"),
                html.Td(str(r["due_on"]), className="bad" if r["overdue"] else ""),
                html.Td(
                    (pick("已超期", "overdue", lang) if r["overdue"] else pick("待答复", "open", lang))
                    if r["status"] == "open"
                    else label(ap.OUTCOMES, r["status"], lang)
                ),
            ]
        )
        for r in frame.iter_rows(named=True)
    ]
    if not rows:
        return html.P(pick("本案尚无申诉", "No appeals on this case", lang), className="muted")
    return html.Table(
        [html.Thead(html.Tr([html.Th(bi_text(*h, lang)) for h in head])), html.Tbody(rows)],
        className="data-table",
    )


def appeal_panel(frame: pl.DataFrame, lang: str) -> html.Div:
    return html.Div(
        [
            bi_text("申诉 (7 个工作日内答复)", "Appeal (answered within 7 working days)", lang, "card-title"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.appeal_type,
                        options=_opts(ap.DECISION_TYPES, ap.DECISION_TYPES, lang),
                        value="priority",
                        clearable=False,
                    ),
                    dcc.Textarea(
                        id=ids.appeal_reason,
                        value="",
                        maxLength=R.NOTE_MAX,
                        placeholder=pick("申诉理由", "Reason for the appeal", lang),
                        className="case-note-input",
                    ),
                    html.Button(
                        both("提出申诉", "File appeal", lang, " "),
                        id=ids.appeal_submit,
                        className="panel-action",
                    ),
                ],
                className="case-appeal-form",
            ),
            html.Div(id=ids.appeal_message, role="status"),
            html.Div(appeals_list(frame, lang), id=ids.appeals),
        ],
        className="card",
    )
