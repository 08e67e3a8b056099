"""Actions on one case by the people responsible, and the reads of the case drill-down.

Every action goes through the write door (`audit.write`): the case row, its event, the loop's rollups
(`loop.rollup_move`) and the responsibility-log entry land in one transaction or not at all. Concurrency is
optimistic: the page sends back the row_version it showed, and the update only matches that version, so
of two people acting on one case at once the first wins and the second is told, with nothing lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, true, update

from queries import audit, loop, meta
from queries import case_rules as R
from queries import engine as eng
from queries import priority as prio
from queries.cache import cached
from queries.scope import Scope, Viewer
from queries.tables import (
    app_user,
    case_event,
    case_item,
    department,
    lists_data_item,
    lists_duty,
    lists_problem,
    lists_step,
    lists_step_data,
    lists_step_duty,
    person,
)
from queries.worktime import HOUR, add_working_seconds

STAGE_AT = {
    "analysis": "analysis_at",
    "response": "response_at",
    "evaluation": "evaluation_at",
    "feedback": "feedback_at",
    "optimization": "optimization_at",
    "closed": "closed_at",
}
SIGN_LIMIT_S = 2 * HOUR  # a transferred case is signed for again, within 2 working hours
MAX_CASE_ID = 2**62


class CaseConflict(R.CaseRefused):
    """Someone else changed the case since the page showed it; nothing was written."""


@dataclass(frozen=True)
class Done:
    case_id: int
    action: str
    row_version: int
    zh: str
    en: str


def who(viewer: Viewer) -> R.Who:
    return R.Who(viewer.role, viewer.department_id)


def parse_case_id(value: object) -> int:
    """A case id from a URL or a form: a positive whole number, or CaseRefused."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or len(text) > 18 or not 0 < int(text) < MAX_CASE_ID:
        shown = text[:24] + ("…" if len(text) > 24 else "")
        raise R.CaseRefused(
            f"案件编号 {shown!r} 无效 (应为正整数)", f"Bad case id {shown!r} (a positive number)"
        )
    return int(text)


def _visible(scope: Scope) -> Any:
    """Row rule for cases: a township leader their township, a department head their department's."""
    cond: list[ColumnElement[bool]] = [true()]
    if scope.township_code is not None:
        cond.append(case_item.c.township_code == scope.township_code)
    if scope.department_id is not None:
        cond.append(case_item.c.dept_id == scope.department_id)
    return and_(*cond)


def _row(conn: Connection, case_id: int) -> dict[str, Any] | None:
    r = conn.execute(select(case_item).where(case_item.c.id == case_id)).mappings().first()
    return None if r is None else dict(r)


def _unknown(case_id: int) -> R.CaseRefused:
    return R.CaseRefused(f"没有编号为 {case_id} 的案件", f"No case with id {case_id}")


def case_row(*, scope: Scope, case_id: int) -> dict[str, Any] | None:
    """The case as stored, or None when it does not exist or lies outside the scope (the same answer for
    both, so ids outside one's scope cannot be probed)."""
    with eng.connect() as conn:
        r = (
            conn.execute(select(case_item).where(case_item.c.id == case_id, _visible(scope)))
            .mappings()
            .first()
        )
    return None if r is None else dict(r)


@cached(domains=())
def case_names(*, case: Mapping[str, Any]) -> dict[str, Any]:
    """Names for the case header: problem type (and severity), department, accountable person."""
    with eng.connect() as conn:
        p = conn.execute(
            select(lists_problem.c.name_zh, lists_problem.c.name_en, lists_problem.c.severity).where(
                lists_problem.c.id == case["problem_id"]
            )
        ).first()
        d = conn.execute(
            select(department.c.name_zh, department.c.name_en).where(department.c.id == case["dept_id"])
        ).first()
        who_ = None
        if case.get("person_id") is not None:
            who_ = conn.execute(
                select(person.c.name_zh, person.c.title_zh).where(person.c.id == case["person_id"])
            ).first()
    return {
        "problem_zh": p.name_zh if p else str(case["problem_id"]),
        "problem_en": p.name_en if p else str(case["problem_id"]),
        "severity": int(p.severity) if p else 2,
        "dept_zh": d.name_zh if d else str(case["dept_id"]),
        "dept_en": d.name_en if d else str(case["dept_id"]),
        "person_zh": f"{who_.name_zh} ({who_.title_zh})" if who_ else "—",
    }


@cached(domains=("cases",))
def timeline(*, case_id: int) -> pl.DataFrame:
    """The case's event log, oldest first, with department and user names (who did what when)."""
    e = case_event
    fd, td = department.alias("fd"), department.alias("td")
    q = (
        select(
            e.c.id,
            e.c.at,
            e.c.kind,
            e.c.from_stage,
            e.c.to_stage,
            fd.c.name_zh.label("from_dept_zh"),
            td.c.name_zh.label("to_dept_zh"),
            person.c.name_zh.label("person_zh"),
            app_user.c.username,
            e.c.note,
            e.c.detail,
        )
        .select_from(
            e.outerjoin(fd, fd.c.id == e.c.from_dept)
            .outerjoin(td, td.c.id == e.c.to_dept)
            .outerjoin(person, person.c.id == e.c.person_id)
            .outerjoin(app_user, app_user.c.id == e.c.user_id)
        )
        .where(e.c.case_id == case_id)
        .order_by(e.c.at, e.c.id)
    )
    return eng.read_frame(q, schema={"id": pl.Int64, "at": pl.Int64})


@cached(domains=())
def process(*, problem_id: int) -> pl.DataFrame:
    """The process its problem type follows (three lists): each step with its stage, time limit, the data
    items it uses and the departments leading it."""
    with eng.connect() as conn:
        steps = conn.execute(
            select(
                lists_step.c.id,
                lists_step.c.seq,
                lists_step.c.name_zh,
                lists_step.c.name_en,
                lists_step.c.stage,
                lists_step.c.limit_hours,
            )
            .where(lists_step.c.problem_id == problem_id)
            .order_by(lists_step.c.seq)
        ).all()
        ids = [s.id for s in steps]
        items: dict[int, list[str]] = {}
        for sid, name in conn.execute(
            select(lists_step_data.c.step_id, lists_data_item.c.name_zh)
            .join(lists_data_item, lists_data_item.c.id == lists_step_data.c.item_id)
            .where(lists_step_data.c.step_id.in_(ids))
        ):
            items.setdefault(sid, []).append(name)
        leads: dict[int, list[str]] = {}
        for sid, name in conn.execute(
            select(lists_step_duty.c.step_id, department.c.name_zh)
            .join(lists_duty, lists_duty.c.id == lists_step_duty.c.duty_id)
            .join(department, department.c.id == lists_duty.c.dept_id)
            .where(lists_step_duty.c.step_id.in_(ids), lists_step_duty.c.role == "lead")
        ):
            leads.setdefault(sid, []).append(name)
    return pl.DataFrame(
        [
            {
                "seq": s.seq,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "stage": s.stage,
                "limit_hours": s.limit_hours,
                "data_items": "、".join(sorted(items.get(s.id, []))) or "—",
                "lead": "、".join(sorted(set(leads.get(s.id, [])))) or "—",
            }
            for s in steps
        ],
        schema={
            "seq": pl.Int32,
            "name_zh": pl.Utf8,
            "name_en": pl.Utf8,
            "stage": pl.Utf8,
            "limit_hours": pl.Int32,
            "data_items": pl.Utf8,
            "lead": pl.Utf8,
        },
    )


@cached(domains=())
def departments() -> pl.DataFrame:
    return eng.read_frame(
        select(department.c.id, department.c.name_zh, department.c.name_en).order_by(department.c.id),
        schema={"id": pl.Int32},
    )


def pending_deferral(conn: Connection, case_id: int) -> int | None:
    """Days asked by the deferral request still waiting for a decision, or None."""
    last = conn.execute(
        select(case_event.c.kind, case_event.c.detail)
        .where(case_event.c.case_id == case_id, case_event.c.kind.in_(("defer_request", "defer_decision")))
        .order_by(case_event.c.at.desc(), case_event.c.id.desc())
        .limit(1)
    ).first()
    if last is None or last.kind != "defer_request":
        return None
    return int(json.loads(last.detail or "{}").get("days", 0)) or None


def deferral_history(conn: Connection, case_id: int) -> tuple[int, int]:
    """(requests made, working days approved) of a case."""
    requests, approved = 0, 0
    for kind, detail in conn.execute(
        select(case_event.c.kind, case_event.c.detail).where(
            case_event.c.case_id == case_id, case_event.c.kind.in_(("defer_request", "defer_decision"))
        )
    ):
        d = json.loads(detail or "{}")
        if kind == "defer_request":
            requests += 1
        elif d.get("approved"):
            approved += int(d.get("days", 0))
    return requests, approved


@cached(domains=("cases",))
def pending_deferral_days(*, case_id: int) -> int | None:
    with eng.connect() as conn:
        return pending_deferral(conn, case_id)


def allowed(*, viewer: Viewer, case: Mapping[str, Any]) -> list[str]:
    """The actions this viewer may take on the case now."""
    return R.allowed_actions(
        who(viewer), case, pending_deferral=pending_deferral_days(case_id=int(case["id"])) is not None
    )


def _class_limit_days(case_class: str) -> int:
    lim = loop.SLA_LIMITS.get(case_class)
    return lim.close_days if lim else R.DEFER_MAX_DAYS


def _person_for(conn: Connection, dept_id: int, problem_id: int) -> int | None:
    """The accountable person of the department's duty in this problem type's process, else anyone there."""
    hit = conn.execute(
        select(lists_duty.c.person_id)
        .join(lists_step_duty, lists_step_duty.c.duty_id == lists_duty.c.id)
        .join(lists_step, lists_step.c.id == lists_step_duty.c.step_id)
        .where(lists_duty.c.dept_id == dept_id, lists_step.c.problem_id == problem_id)
        .limit(1)
    ).first()
    if hit is None:
        hit = conn.execute(
            select(person.c.id).where(person.c.department_id == dept_id).order_by(person.c.id).limit(1)
        ).first()
    return None if hit is None else int(hit[0])


def _depts_seen(conn: Connection, case_id: int, current: int) -> set[int]:
    seen = {current}
    for a, b in conn.execute(
        select(case_event.c.from_dept, case_event.c.to_dept).where(
            case_event.c.case_id == case_id,
            or_(case_event.c.from_dept.is_not(None), case_event.c.to_dept.is_not(None)),
        )
    ):
        seen.update(x for x in (a, b) if x is not None)
    return seen


def act(
    actor: audit.Actor,
    viewer: Viewer,
    *,
    case_id: object,
    action: str,
    seen_version: object,
    note: str | None = None,
    to_stage: str | None = None,
    to_dept: object = None,
    days: object = None,
    approve: bool | None = None,
    satisfaction: str | None = None,
    result: str | None = None,
    now: int | None = None,
) -> Done:
    """Take one action on one case (see case_rules for who may do what when). Refuses with CaseRefused
    (CaseConflict when someone else changed the case meanwhile); on a refusal nothing is written."""
    cid = parse_case_id(case_id)
    if action not in R.ACTIONS:
        raise R.CaseRefused(f"未知操作 {str(action)[:32]!r}", f"Unknown action {str(action)[:32]!r}")
    text = R.check_note(
        note, required=action in ("advance", "reopen", "transfer", "escalate", "defer_request")
    )
    try:
        seen = int(str(seen_version))
    except ValueError:
        raise CaseConflict(
            "页面版本无效, 请刷新后重试", "The page's version is invalid; reload and try again"
        ) from None
    at = int(now if now is not None else time.time())
    scope = viewer.scope()
    with audit.write(actor) as tx:
        conn = tx.conn
        before = _row(conn, cid)
        if (
            before is None
            or conn.execute(select(case_item.c.id).where(case_item.c.id == cid, _visible(scope))).first()
            is None
        ):
            raise _unknown(cid)
        if int(before["row_version"]) != seen:
            raise _conflict(conn, before)
        pending = pending_deferral(conn, cid)
        R.check(who(viewer), before, action, pending_deferral=pending is not None, to_stage=to_stage)
        after = dict(before)
        events: list[dict[str, Any]] = []
        ev = {"case_id": cid, "at": at, "user_id": actor.user_id, "note": text or None}
        stage = str(before["stage"])
        detail: dict[str, Any] = {}
        msg = ("已办理", "Done")
        if action == "sign":
            after["signed_at"] = at
            target = stage
            if stage == "monitoring":  # signing for a new case starts its analysis (as the generator's do)
                target = after["stage"] = "analysis"
                after["analysis_at"] = at
            events.append({**ev, "kind": "sign", "from_stage": stage, "to_stage": target})
            msg = ("已签收", "Signed for")
        elif action == "advance":
            target = to_stage or R.ADVANCE_NEXT[stage]
            skipped = list(R.STAGES[R.STAGES.index(stage) + 1 : R.STAGES.index(target)])
            after["stage"] = target
            after[STAGE_AT[target]] = at
            kind = "close" if target == "closed" else "advance"
            if skipped:
                kind, detail = "emergency_skip", {"skipped": skipped}
            events.append({**ev, "kind": kind, "from_stage": stage, "to_stage": target, "detail": detail})
            msg = (f"已推进到 {R.STAGE_LABELS[target][0]}", f"Advanced to {R.STAGE_LABELS[target][1]}")
        elif action == "evaluate":
            res = result if result in R.EVALUATION_RESULTS else None
            if res is None:
                raise R.CaseRefused("请选择评估结论", "Choose the evaluation's result")
            after["stage"], after["feedback_at"] = "feedback", at
            detail = {"result": res}
            events.append(
                {**ev, "kind": "evaluate", "from_stage": stage, "to_stage": "feedback", "detail": detail}
            )
            msg = ("评估已记录", "Evaluation recorded")
        elif action == "feedback":
            if satisfaction not in R.SATISFACTION:
                raise R.CaseRefused("请选择满意度", "Choose the reporter's satisfaction")
            after["satisfaction"] = satisfaction
            detail = {"satisfaction": satisfaction}
            if satisfaction == "dissatisfied":  # a dissatisfied reporter reopens the case
                after["stage"], after["response_at"] = "response", at
                after["reopen_count"] = int(before["reopen_count"]) + 1
                events.append(
                    {**ev, "kind": "feedback", "from_stage": stage, "to_stage": stage, "detail": detail}
                )
                events.append(
                    {**ev, "kind": "reopen", "from_stage": stage, "to_stage": "response", "note": None}
                )
                msg = ("不满意, 案件已重新办理", "Dissatisfied: the case is reopened")
            else:
                after["stage"], after["optimization_at"] = "optimization", at
                events.append(
                    {
                        **ev,
                        "kind": "feedback",
                        "from_stage": stage,
                        "to_stage": "optimization",
                        "detail": detail,
                    }
                )
                msg = ("反馈已记录", "Feedback recorded")
        elif action == "defer_request":
            requests, approved_days = deferral_history(conn, cid)
            limit = R.defer_limit_days(
                class_limit_days=_class_limit_days(str(before["case_class"])),
                approved_days=approved_days,
                requests=requests,
            )
            n = R.check_defer_days(days, limit=limit)
            detail = {"days": n}
            events.append(
                {**ev, "kind": "defer_request", "from_stage": stage, "to_stage": stage, "detail": detail}
            )
            msg = (f"已申请延期 {n} 个工作日", f"Deferral of {n} working days requested")
        elif action == "defer_decision":
            if approve is None:
                raise R.CaseRefused("请选择批准或驳回", "Choose approve or refuse")
            n = int(pending or 0)
            detail = {"days": n, "approved": bool(approve)}
            if approve:
                # due times count working time (queries/worktime.py): n working days = n x 8 working hours
                after["close_due_at"] = int(add_working_seconds(int(before["close_due_at"]), n * 8 * HOUR))
                after["deferred_s"] = int(before["deferred_s"]) + n * 8 * HOUR
            events.append(
                {**ev, "kind": "defer_decision", "from_stage": stage, "to_stage": stage, "detail": detail}
            )
            msg = ("延期已批准", "Deferral approved") if approve else ("延期已驳回", "Deferral refused")
        elif action == "reopen":
            after["stage"], after["response_at"], after["closed_at"] = "response", at, None
            after["reopen_count"] = int(before["reopen_count"]) + 1
            events.append({**ev, "kind": "reopen", "from_stage": stage, "to_stage": "response"})
            msg = ("案件已重新办理", "Case reopened")
        elif action == "transfer":
            try:
                dest = int(str(to_dept))
            except ValueError:
                raise R.CaseRefused("请选择转办部门", "Choose the department to transfer to") from None
            if dest == int(before["dept_id"]):
                raise R.CaseRefused("不能转办给本部门", "A case cannot be transferred to its own department")
            if conn.execute(select(department.c.id).where(department.c.id == dest)).first() is None:
                raise R.CaseRefused(f"没有编号为 {dest} 的部门", f"No department with id {dest}")
            seen_depts = _depts_seen(conn, cid, int(before["dept_id"]))
            after["dept_id"], after["person_id"] = dest, _person_for(conn, dest, int(before["problem_id"]))
            after["transfer_count"] = int(before["transfer_count"]) + 1
            after["dept_count"] = len(seen_depts | {dest})
            after["signed_at"] = None  # the new department signs for it again
            after["sign_due_at"] = int(add_working_seconds(at, SIGN_LIMIT_S))
            events.append(
                {
                    **ev,
                    "kind": "transfer",
                    "from_stage": stage,
                    "to_stage": stage,
                    "from_dept": before["dept_id"],
                    "to_dept": dest,
                    "person_id": after["person_id"],
                }
            )
            msg = ("已转办", "Transferred")
        elif action == "escalate":
            rule = R.needs_escalation(
                reopen_count=int(before["reopen_count"]),
                departments=int(before["dept_count"]),
                has_lead=bool(before["has_lead"]),
            )
            detail = {"rule_met": rule}
            after["has_lead"] = True  # the command center names the lead department
            events.append(
                {**ev, "kind": "escalate", "from_stage": stage, "to_stage": stage, "detail": detail}
            )
            msg = ("已提级督办", "Escalated")
        # a reopening or a transfer changes the model's features: score again, unless a person set the score
        # on appeal (model "manual:..."), which stands until the next appeal
        moved = any(after[k] != before[k] for k in ("reopen_count", "transfer_count", "emergency"))
        if moved and not str(before.get("priority_model") or "").startswith("manual:"):
            sev = conn.execute(
                select(lists_problem.c.severity).where(lists_problem.c.id == before["problem_id"])
            ).scalar_one()
            after["priority"] = prio.score(after, severity=int(sev))
            after["priority_model"] = prio.MODEL_VERSION
        after["row_version"] = seen + 1
        changes = {k: v for k, v in after.items() if k != "id" and v != before.get(k)}
        done = conn.execute(
            update(case_item).where(case_item.c.id == cid, case_item.c.row_version == seen).values(**changes)
        )
        if done.rowcount != 1:
            raise _conflict(conn, before)
        insert_events(conn, [{"person_id": after.get("person_id"), **e} for e in events])
        loop.rollup_move(conn, before, after)
        # the loop view, the lists' open cases and the wall read cached figures keyed on the data version:
        # a new one (settled within the ingest window, like an API batch's) makes them show this change
        meta.move_now(conn, domain="cases")
        tx.log(
            f"case.{action}",
            "case_item",
            cid,
            before=before,
            after=after,
            detail={
                "stage": [stage, after["stage"]],
                **detail,
                **({"note_chars": len(text)} if text else {}),
            },
        )
    return Done(cid, action, seen + 1, *msg)


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append events with explicit ids: the generator loads case_event with its own ids (so PostgreSQL's
    sequence never moved) and a BIGINT key is no rowid alias on SQLite. The audit chain's lock, taken
    first, makes max(id) + 1 safe against another writer (the door takes the same lock to log anyway)."""
    eng.exclusive(conn, audit.PG_LOCK_KEY)
    next_id = int(conn.execute(select(func.coalesce(func.max(case_event.c.id), 0))).scalar_one()) + 1
    for i, e in enumerate(rows):
        detail = e.get("detail")
        conn.execute(
            insert(case_event).values(
                **{
                    **e,
                    "id": next_id + i,
                    "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
                }
            )
        )


def _conflict(conn: Connection, before: Mapping[str, Any]) -> CaseConflict:
    now = _row(conn, int(before["id"])) or before
    return CaseConflict(
        f"案件刚被他人更新 (现为 {R.STAGE_LABELS.get(str(now['stage']), ('?', '?'))[0]}), 您的操作未保存; 请查看最新状态后再办理",
        f"Someone else just changed this case (now in {R.STAGE_LABELS.get(str(now['stage']), ('?', '?'))[1]}); "
        "your action was not saved. Check its new state, then act again",
    )
