"""The closed loop's state machine as pure code: which action a person may take on a case at which stage.
No database here, so every rule is tested on plain dicts; queries/case_actions.py applies them.

Stages run monitoring -> analysis -> response -> evaluation -> feedback -> optimization -> closed. The
named failure of the source ("emphasize response, neglect evaluation, weak feedback") is why a case can
leave `evaluation` only by recording an evaluation and `feedback` only by recording the reporter's
satisfaction: neither can be skipped by a plain "advance". Only an emergency case may skip stages, and
the skip is recorded as `emergency_skip`. Signing for a new case moves it from monitoring to analysis; a
transferred case keeps its stage and waits to be signed for by its new department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STAGES = ("monitoring", "analysis", "response", "evaluation", "feedback", "optimization", "closed")
STAGE_LABELS = {
    "monitoring": ("监测", "Monitoring"),
    "analysis": ("研判", "Analysis"),
    "response": ("处置", "Response"),
    "evaluation": ("评估", "Evaluation"),
    "feedback": ("反馈", "Feedback"),
    "optimization": ("优化", "Optimization"),
    "closed": ("办结", "Closed"),
}
ACTIONS = (
    "sign",
    "advance",
    "evaluate",
    "feedback",
    "defer_request",
    "defer_decision",
    "reopen",
    "transfer",
    "escalate",
)
ACTION_LABELS = {
    "sign": ("签收", "Sign for"),
    "advance": ("推进阶段", "Advance stage"),
    "evaluate": ("记录评估", "Record evaluation"),
    "feedback": ("记录反馈与满意度", "Record feedback and satisfaction"),
    "defer_request": ("申请延期", "Request deferral"),
    "defer_decision": ("审批延期", "Decide deferral"),
    "reopen": ("重新办理", "Reopen"),
    "transfer": ("转办", "Transfer"),
    "escalate": ("提级督办", "Escalate"),
}
# Advance moves one stage on; evaluation and feedback have their own actions, so they are not here.
ADVANCE_NEXT = {
    "monitoring": "analysis",
    "analysis": "response",
    "response": "evaluation",
    "optimization": "closed",
}
TRANSFERABLE = ("monitoring", "analysis", "response")
SATISFACTION = ("satisfied", "basic", "dissatisfied")
EVALUATION_RESULTS = ("resolved", "partly", "unresolved")
NOTE_MAX = 2000
# Deferral rule: at most two requests a case, each and in total no longer than the class's own closing
# limit (an enquiry due in 1 working day may gain at most 1 more), and never more than 10 working days.
DEFER_MAX_REQUESTS = 2
DEFER_MAX_DAYS = 10
# Escalation rule (digital city management): reopened 3 times, or passed between 3 departments with
# no lead department fixed.
ESCALATE_REOPENS = 3
ESCALATE_DEPTS = 3
DECIDERS = ("admin",)  # a deferral is approved by the command center, never by the requester


class CaseRefused(ValueError):
    """An action the loop does not allow; `zh`/`en` say why, nothing was written."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Who:
    """The person acting, as far as the rules care: role and department."""

    role: str
    department_id: int | None


def may_act(who: Who, case: Mapping[str, Any]) -> bool:
    """The owning department's head, or an administrator."""
    if who.role == "admin":
        return True
    return who.role == "department_head" and who.department_id == case.get("dept_id")


def check_note(note: str | None, *, required: bool) -> str:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise CaseRefused(
            f"说明过长 ({len(text):,} 字), 最多 {NOTE_MAX:,} 字",
            f"The note is too long ({len(text):,} characters); at most {NOTE_MAX:,}",
        )
    if required and not text:
        raise CaseRefused("请填写说明", "Please write a note")
    return text


def stage_label(stage: str | None) -> str:
    zh, en = STAGE_LABELS.get(str(stage), (str(stage), str(stage)))
    return f"{zh} {en}"


def allowed_actions(who: Who, case: Mapping[str, Any], *, pending_deferral: bool = False) -> list[str]:
    """The actions this person may take on this case now (the page shows only these)."""
    out = []
    for action in ACTIONS:
        try:
            check(who, case, action, pending_deferral=pending_deferral)
        except CaseRefused:
            continue
        out.append(action)
    return out


def check(
    who: Who,
    case: Mapping[str, Any],
    action: str,
    *,
    pending_deferral: bool = False,
    to_stage: str | None = None,
) -> None:
    """Refuse (CaseRefused) an action this person may not take on this case at its stage; the action's own
    inputs (note, days, department) are checked by its function in case_actions."""
    if action not in ACTIONS:
        raise CaseRefused(f"未知操作 {action[:32]!r}", f"Unknown action {action[:32]!r}")
    if action == "defer_decision":
        if who.role not in DECIDERS:
            raise CaseRefused(
                "延期只能由指挥中心管理员审批", "Only the command center's administrators decide deferrals"
            )
    elif not may_act(who, case):
        raise CaseRefused(
            "只有责任部门负责人或管理员可以办理此案件",
            "Only the responsible department's head or an administrator may act on this case",
        )
    stage = str(case.get("stage"))
    label = stage_label(stage)
    if stage == "closed" and action != "reopen":
        raise CaseRefused("案件已办结, 只能重新办理", "The case is closed; it can only be reopened")
    if action == "sign":
        if case.get("signed_at") is not None:
            raise CaseRefused("案件已签收", "The case has already been signed for")
    elif action == "advance":
        if case.get("signed_at") is None:
            raise CaseRefused("请先签收再推进", "Sign for the case before advancing it")
        target = to_stage or ADVANCE_NEXT.get(stage)
        if target is None:
            raise CaseRefused(
                f"{label} 阶段须通过专门操作完成 (记录评估或反馈), 不能直接推进",
                f"A case in {label} moves on only by recording its evaluation or feedback, not by advancing",
            )
        if target not in STAGES or STAGES.index(target) <= STAGES.index(stage):
            raise CaseRefused(
                f"不能从 {label} 推进到 {target[:16]}", f"Cannot advance from {label} to {target[:16]}"
            )
        if target != ADVANCE_NEXT.get(stage) and not case.get("emergency"):
            raise CaseRefused(
                "只有紧急事件可以越级处置",
                "Only an emergency case may skip stages",
            )
    elif action == "evaluate":
        if stage != "evaluation":
            raise CaseRefused(
                f"案件在 {label} 阶段, 不在评估阶段", f"The case is in {label}, not in evaluation"
            )
    elif action == "feedback":
        if stage != "feedback":
            raise CaseRefused(
                f"案件在 {label} 阶段, 不在反馈阶段", f"The case is in {label}, not in feedback"
            )
    elif action == "defer_request":
        if pending_deferral:
            raise CaseRefused("已有待审批的延期申请", "A deferral request is already waiting for a decision")
    elif action == "defer_decision":
        if not pending_deferral:
            raise CaseRefused("没有待审批的延期申请", "There is no deferral request to decide")
    elif action == "reopen":
        if stage not in ("closed", "evaluation", "feedback", "optimization"):
            raise CaseRefused(
                f"案件在 {label} 阶段, 尚未处置完, 无需重办",
                f"The case is still in {label}; only a responded or closed case can be reopened",
            )
    elif action == "transfer" and stage not in TRANSFERABLE:
        raise CaseRefused(
            f"案件在 {label} 阶段, 处置后不能再转办",
            f"The case is in {label}; a case can be transferred only up to its response",
        )


def defer_limit_days(*, class_limit_days: int, approved_days: int, requests: int) -> int:
    """How many more working days a deferral may ask for now (0 = none)."""
    if requests >= DEFER_MAX_REQUESTS:
        return 0
    cap = min(max(int(class_limit_days), 1), DEFER_MAX_DAYS)
    return max(cap - int(approved_days), 0)


def check_defer_days(days: object, *, limit: int) -> int:
    try:
        n = int(str(days).strip())
    except (TypeError, ValueError):
        raise CaseRefused("延期天数须为整数", "The deferral must be a whole number of working days") from None
    if n < 1:
        raise CaseRefused("延期至少 1 个工作日", "A deferral is at least 1 working day")
    if n > limit:
        if limit == 0:
            raise CaseRefused(
                "本案已用完可延期次数或天数, 不能再延期",
                "This case has used up the deferrals the rules allow",
            )
        raise CaseRefused(
            f"延期 {n} 个工作日超出规定, 本案最多还可延期 {limit} 个工作日",
            f"A deferral of {n} working days is longer than the rules allow; at most {limit} more",
        )
    return n


def needs_escalation(*, reopen_count: int, departments: int, has_lead: bool) -> bool:
    """Reopened 3 times, or passed between 3 departments with no lead department fixed."""
    return reopen_count >= ESCALATE_REOPENS or (departments >= ESCALATE_DEPTS and not has_lead)
