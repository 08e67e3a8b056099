"""Appeals against algorithmic decisions on cases (seed 5.2.2: notification - explanation - appeal -
correction): a priority score or a routing (the department a case was sent to) can be appealed; the
appeal is due within 7 working days on the official calendar (`calendar.add_working_days`: the filing day
does not count, weekends and holidays do not, make-up workdays do); leaders record the outcome, upheld or
corrected, and a correction changes the case through the write door like any other action.

Rates per decision type, over the cases in the viewer's scope:
- appeal rate = appeals filed / decisions made (every case carries one priority and one routing decision);
- correction rate = appeals corrected / appeals decided.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select, update

from queries import audit, loop, meta
from queries import case_actions as ca
from queries import case_rules as R
from queries import engine as eng
from queries import priority as prio
from queries.cache import cached
from queries.calendar import CalendarYearUnknown, add_working_days
from queries.scope import Scope, Viewer
from queries.tables import case_appeal, case_item, department
from queries.timebase import TZ

APPEAL_DAYS = 7
DECISION_TYPES = {
    "priority": ("优先级评分", "Priority score"),
    "routing": ("派单部门", "Routing (department)"),
}
OUTCOMES = {"upheld": ("维持", "Upheld"), "corrected": ("纠正", "Corrected")}
DECIDERS = ("leader", "admin")
REASON_MAX = R.NOTE_MAX


class AppealRefused(R.CaseRefused):
    """An appeal or an outcome that cannot be recorded; nothing was written."""


def local_date(ts: int) -> dt.date:
    return dt.datetime.fromtimestamp(int(ts) + TZ, tz=dt.UTC).date()


def due_date(filed_at: int) -> dt.date:
    """7 working days after the local day of filing (CalendarYearUnknown past the calendar's years)."""
    return add_working_days(local_date(filed_at), APPEAL_DAYS)


def file_appeal(
    actor: audit.Actor,
    viewer: Viewer,
    *,
    case_id: object,
    decision_type: str,
    reason: str | None,
    now: int | None = None,
) -> int:
    """Record an appeal (anyone who may see the case, e.g. an operator for a caller on the hotline)."""
    cid = ca.parse_case_id(case_id)
    if decision_type not in DECISION_TYPES:
        raise AppealRefused(
            f"未知的决定类型 {str(decision_type)[:24]!r}",
            f"Unknown decision type {str(decision_type)[:24]!r}",
        )
    text = R.check_note(reason, required=True)
    at = int(now if now is not None else time.time())
    try:
        due = due_date(at)
    except CalendarYearUnknown as exc:
        raise AppealRefused(exc.zh, exc.en) from None
    case = ca.case_row(scope=viewer.scope(), case_id=cid)
    if case is None:
        raise AppealRefused(f"没有编号为 {cid} 的案件", f"No case with id {cid}")
    row = {
        "case_id": cid,
        "decision_type": decision_type,
        "filed_at": at,
        "filed_by": actor.username[:96],
        "reason": text,
        "due_on": due,
        "status": "open",
        "decision": json.dumps(
            {"priority": case["priority"], "model": case["priority_model"], "dept_id": case["dept_id"]}
        ),
    }
    with audit.write(actor) as tx:
        open_same = tx.conn.execute(
            select(case_appeal.c.id).where(
                case_appeal.c.case_id == cid,
                case_appeal.c.decision_type == decision_type,
                case_appeal.c.status == "open",
            )
        ).first()
        if open_same is not None:
            raise AppealRefused(
                f"该案件已有一件未答复的申诉 (#{open_same.id})",
                f"This case already has an open appeal on that decision (#{open_same.id})",
            )
        new_id = int(
            tx.conn.execute(insert(case_appeal).values(**row).returning(case_appeal.c.id)).scalar_one()
        )
        # cached views of cases (the case page, the appeals page) show the new appeal
        meta.move_now(tx.conn, domain="cases")
        tx.log(
            "case.appeal.file",
            "case_appeal",
            new_id,
            after={k: str(v) for k, v in row.items()},
            detail={"case_id": cid, "decision_type": decision_type, "due_on": due.isoformat()},
        )
    return new_id


def decide_appeal(
    actor: audit.Actor,
    viewer: Viewer,
    *,
    appeal_id: object,
    outcome: str,
    note: str | None,
    new_priority: object = None,
    to_dept: object = None,
    now: int | None = None,
) -> None:
    """Record the outcome (leaders and administrators). A corrected priority sets the case's score by hand
    (model "manual"); a corrected routing moves the case to the right department; both in the same
    transaction as the outcome and its log entry."""
    if viewer.role not in DECIDERS:
        raise AppealRefused("只有领导或管理员可以答复申诉", "Only leaders and administrators answer appeals")
    try:
        aid = int(str(appeal_id))
    except ValueError:
        raise AppealRefused("申诉编号无效", "Bad appeal id") from None
    if outcome not in OUTCOMES:
        raise AppealRefused("请选择维持或纠正", "Choose upheld or corrected")
    text = R.check_note(note, required=True)
    at = int(now if now is not None else time.time())
    with audit.write(actor) as tx:
        conn = tx.conn
        a = conn.execute(select(case_appeal).where(case_appeal.c.id == aid)).mappings().first()
        if a is None or ca.case_row(scope=viewer.scope(), case_id=int(a["case_id"])) is None:
            raise AppealRefused(f"没有编号为 {aid} 的申诉", f"No appeal with id {aid}")
        if a["status"] != "open":
            raise AppealRefused("该申诉已答复", "This appeal has already been answered")
        correction: dict[str, Any] = {}
        if outcome == "corrected":
            correction = _correct(tx, dict(a), new_priority=new_priority, to_dept=to_dept, at=at)
        values = {
            "status": outcome,
            "decided_at": at,
            "decided_by": actor.username[:96],
            "outcome_note": text,
            "correction": json.dumps(correction) if correction else None,
        }
        done = conn.execute(
            update(case_appeal)
            .where(case_appeal.c.id == aid, case_appeal.c.status == "open")
            .values(**values)
        )
        if done.rowcount != 1:
            raise AppealRefused("该申诉刚被他人答复", "Someone else has just answered this appeal")
        # cached views of cases and appeals show the answer (and a correction's change to the case)
        meta.move_now(conn, domain="cases")
        tx.log(
            f"case.appeal.{outcome}",
            "case_appeal",
            aid,
            before={"status": "open"},
            after={k: str(v) for k, v in values.items()},
            detail={"case_id": int(a["case_id"]), "decision_type": a["decision_type"], **correction},
        )


def _correct(
    tx: audit.Tx, a: Mapping[str, Any], *, new_priority: object, to_dept: object, at: int
) -> dict[str, Any]:
    conn = tx.conn
    cid = int(a["case_id"])
    before = conn.execute(select(case_item).where(case_item.c.id == cid)).mappings().first()
    if before is None:
        raise AppealRefused(f"案件 {cid} 已不存在", f"Case {cid} no longer exists")
    after = dict(before)
    event: dict[str, Any] = {"case_id": cid, "at": at, "user_id": tx.actor.user_id, "kind": "correction"}
    if a["decision_type"] == "priority":
        try:
            score = float(str(new_priority))
        except ValueError:
            score = -1.0
        if not 0 <= score <= 100:
            raise AppealRefused("请填写 0-100 的纠正后评分", "Give the corrected score, 0 to 100")
        after["priority"], after["priority_model"] = round(score, 1), f"manual:{prio.MODEL_VERSION}"
        change = {"priority": [before["priority"], after["priority"]]}
    else:
        try:
            dest = int(str(to_dept))
        except ValueError:
            raise AppealRefused("请选择纠正后的部门", "Choose the department the case should go to") from None
        if conn.execute(select(department.c.id).where(department.c.id == dest)).first() is None:
            raise AppealRefused(f"没有编号为 {dest} 的部门", f"No department with id {dest}")
        if dest == before["dept_id"]:
            raise AppealRefused(
                "纠正后的部门与原部门相同", "The corrected department is the one it already has"
            )
        after["dept_id"] = dest
        after["transfer_count"] = int(before["transfer_count"]) + 1
        event.update(kind="transfer", from_dept=before["dept_id"], to_dept=dest)
        change = {"dept_id": [before["dept_id"], dest]}
    after["row_version"] = int(before["row_version"]) + 1
    done = conn.execute(
        update(case_item)
        .where(case_item.c.id == cid, case_item.c.row_version == before["row_version"])
        .values(**{k: v for k, v in after.items() if k != "id" and v != before[k]})
    )
    if done.rowcount != 1:
        raise AppealRefused(
            "案件刚被他人更新, 请重试", "The case was just changed by someone else; try again"
        )
    ca.insert_events(
        conn,
        [
            {
                **event,
                "from_stage": before["stage"],
                "to_stage": before["stage"],
                "note": f"申诉 #{a['id']} 纠正 / appeal #{a['id']} corrected",
                "detail": {"appeal": int(a["id"]), **change},
            }
        ],
    )
    loop.rollup_move(conn, dict(before), after)
    return change  # decide_appeal moves the cases' version for the answer and this correction together


def _scoped(scope: Scope) -> Any:
    cond = []
    if scope.township_code is not None:
        cond.append(case_item.c.township_code == scope.township_code)
    if scope.department_id is not None:
        cond.append(case_item.c.dept_id == scope.department_id)
    return cond


def _few() -> Any:
    """Cases that have an appeal: without it SQLite's planner (no statistics) scans every case and looks
    each one up among the few appeals; with it, it looks up the appeals' cases by id."""
    return case_item.c.id.in_(select(case_appeal.c.case_id))


def open_of(*, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The open appeals of an `appeals()` frame, and how many of them are past their due day."""
    open_ = frame.filter(pl.col("status") == "open")
    return open_, int(open_["overdue"].sum()) if open_.height else 0


def due_on_of(*, frame: pl.DataFrame, appeal_id: int) -> str:
    """The due day of one appeal of an `appeals()` frame ("?" when it is not in it)."""
    due = frame.filter(pl.col("id") == appeal_id)["due_on"]
    return str(due[0]) if due.len() else "?"


@cached(domains=("cases",))
def appeals(*, scope: Scope, now: int, status: str | None = None, case_id: int | None = None) -> pl.DataFrame:
    """Appeals on cases in the scope, open ones first (most overdue first), then the newest answered.
    `overdue`: open past its due day as of `now` (pages pass the cases' clock, meta.case_clock, so the
    answer stays valid until it turns); `late`: answered after its due day. Every write of an appeal
    moves the cases' version."""
    a = case_appeal
    q = (
        select(
            a.c.id,
            a.c.case_id,
            a.c.decision_type,
            a.c.filed_at,
            a.c.filed_by,
            a.c.reason,
            a.c.due_on,
            a.c.status,
            a.c.decided_at,
            a.c.decided_by,
            a.c.outcome_note,
            case_item.c.priority,
            case_item.c.priority_model,
            department.c.name_zh.label("dept_zh"),
        )
        .join(case_item, case_item.c.id == a.c.case_id)
        .join(department, department.c.id == case_item.c.dept_id)
        .where(*_scoped(scope), _few())
    )
    if status:
        q = q.where(a.c.status == status)
    if case_id is not None:
        q = q.where(a.c.case_id == case_id)
    frame = eng.read_frame(
        q, schema={"id": pl.Int64, "case_id": pl.Int64, "filed_at": pl.Int64, "decided_at": pl.Int64}
    )
    today = local_date(now)
    frame = frame.with_columns(pl.col("due_on").cast(pl.Date))
    decided_day = pl.from_epoch(pl.col("decided_at") + TZ, time_unit="s").dt.date()
    return frame.with_columns(
        overdue=(pl.col("status") == "open") & (pl.col("due_on") < today),
        late=(pl.col("status") != "open") & (decided_day > pl.col("due_on")),
        days_left=(pl.col("due_on") - pl.lit(today)).dt.total_days(),
    ).sort(["status", "due_on", "id"], descending=[False, False, True])


@cached(domains=("cases",))
def rates(*, scope: Scope) -> pl.DataFrame:
    """Per decision type: decisions, appeals, appeal rate; decided, corrected, correction rate."""
    cond = _scoped(scope)
    with eng.connect() as conn:
        decisions = int(conn.execute(select(func.count()).select_from(case_item).where(*cond)).scalar_one())
        rows = conn.execute(
            select(case_appeal.c.decision_type, case_appeal.c.status, func.count())
            .join(case_item, case_item.c.id == case_appeal.c.case_id)
            .where(*cond, _few())
            .group_by(case_appeal.c.decision_type, case_appeal.c.status)
        ).all()
    counts: dict[tuple[str, str], int] = {(t, s): int(n) for t, s, n in rows}
    out = []
    for key, (zh, en) in DECISION_TYPES.items():
        filed = sum(n for (t, _), n in counts.items() if t == key)
        corrected = counts.get((key, "corrected"), 0)
        decided = corrected + counts.get((key, "upheld"), 0)
        out.append(
            {
                "decision_type": key,
                "name_zh": zh,
                "name_en": en,
                "decisions": decisions,
                "appeals": filed,
                "appeal_rate": filed / decisions if decisions else None,
                "open": counts.get((key, "open"), 0),
                "decided": decided,
                "corrected": corrected,
                "correction_rate": corrected / decided if decided else None,
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "decision_type": pl.Utf8,
            "name_zh": pl.Utf8,
            "name_en": pl.Utf8,
            "decisions": pl.Int64,
            "appeals": pl.Int64,
            "appeal_rate": pl.Float64,
            "open": pl.Int64,
            "decided": pl.Int64,
            "corrected": pl.Int64,
            "correction_rate": pl.Float64,
        },
    )
