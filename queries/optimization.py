"""Optimization, the loop's last stage: an action opened against a recurring hotspot (one problem type in
one community, at least loop.HOTSPOT_MIN cases within loop.HOTSPOT_DAYS days), and its effect on case
counts: the cases of that type and place in the window before the action against the same window after
it (or the part of it that has passed, scaled to 30 days so a young action compares fairly).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import func, insert, select, update

from queries import audit, loop, meta
from queries import case_rules as R
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope, Viewer
from queries.tables import case_item, community, lists_problem, optimization_action

DAY = 86400
WINDOW_DAYS = 90  # default before/after window
WINDOW_RANGE = (14, 365)
TITLE_MAX = 120
OPENERS = ("leader", "admin", "department_head")


class OptimizationRefused(R.CaseRefused):
    """An action that cannot be opened or closed; nothing was written."""


def _scoped(scope: Scope) -> list[Any]:
    cond = []
    if scope.township_code is not None:
        cond.append(optimization_action.c.township_code == scope.township_code)
    return cond


def hotspot_peak(*, problem_id: int, community_code: int, until: int) -> int:
    """Most cases of the type in the community within any HOTSPOT_DAYS window before `until`."""
    with eng.connect() as conn:
        opened = np.array(
            sorted(
                t
                for (t,) in conn.execute(
                    select(case_item.c.opened_at).where(
                        case_item.c.problem_id == problem_id,
                        case_item.c.community_code == community_code,
                        case_item.c.opened_at < until,
                    )
                )
            ),
            dtype=np.int64,
        )
    if not len(opened):
        return 0
    ends = np.searchsorted(opened, opened + loop.HOTSPOT_DAYS * DAY, side="left")
    return int((ends - np.arange(len(opened))).max())


def open_action(
    actor: audit.Actor,
    viewer: Viewer,
    *,
    problem_id: object,
    community_code: object,
    title: str | None,
    note: str | None = None,
    window_days: object = WINDOW_DAYS,
    now: int | None = None,
) -> int:
    """Open an optimization action against a hotspot (leaders, administrators, and the head of the
    department that answers for the problem type)."""
    if viewer.role not in OPENERS:
        raise OptimizationRefused(
            "只有领导、管理员或责任部门负责人可以发起优化",
            "Only leaders, administrators or the responsible department's head open actions",
        )
    try:
        pid, code, window = int(str(problem_id)), int(str(community_code)), int(str(window_days))
    except ValueError:
        raise OptimizationRefused("热点或观察窗口无效", "Bad hotspot or window") from None
    if not WINDOW_RANGE[0] <= window <= WINDOW_RANGE[1]:
        raise OptimizationRefused(
            f"观察窗口须在 {WINDOW_RANGE[0]}-{WINDOW_RANGE[1]} 天之间",
            f"The window must be {WINDOW_RANGE[0]}-{WINDOW_RANGE[1]} days",
        )
    name = (title or "").strip()
    if not name or len(name) > TITLE_MAX:
        raise OptimizationRefused(
            f"请填写标题 (最多 {TITLE_MAX} 字)", f"Give a title (at most {TITLE_MAX} characters)"
        )
    text = R.check_note(note, required=False)
    at = int(now if now is not None else time.time())
    with eng.connect() as conn:
        prob = conn.execute(select(lists_problem.c.owner_dept_id).where(lists_problem.c.id == pid)).first()
        place = conn.execute(select(community.c.township_code).where(community.c.code == code)).first()
    if prob is None or place is None:
        raise OptimizationRefused("没有这个问题类型或社区", "No such problem type or community")
    scope = viewer.scope()
    if viewer.role == "department_head" and prob.owner_dept_id != viewer.department_id:
        raise OptimizationRefused(
            "该问题类型不归您的部门负责", "Your department does not answer for this problem type"
        )
    if scope.township_code is not None and place.township_code != scope.township_code:
        raise OptimizationRefused("该社区不在您的范围内", "That community is outside your scope")
    if hotspot_peak(problem_id=pid, community_code=code, until=at) < loop.HOTSPOT_MIN:
        raise OptimizationRefused(
            f"这里不是热点 ({loop.HOTSPOT_DAYS} 天内未达 {loop.HOTSPOT_MIN} 件)",
            f"Not a hotspot (fewer than {loop.HOTSPOT_MIN} cases within {loop.HOTSPOT_DAYS} days)",
        )
    row = {
        "problem_id": pid,
        "community_code": code,
        "township_code": int(place.township_code),
        "title": name,
        "note": text or None,
        "window_days": window,
        "opened_at": at,
        "opened_by": actor.username[:96],
        "status": "open",
    }
    with audit.write(actor) as tx:
        dup = tx.conn.execute(
            select(optimization_action.c.id).where(
                optimization_action.c.problem_id == pid,
                optimization_action.c.community_code == code,
                optimization_action.c.status == "open",
            )
        ).first()
        if dup is not None:
            raise OptimizationRefused(
                f"该热点已有进行中的优化 (#{dup.id})", f"This hotspot already has an open action (#{dup.id})"
            )
        new_id = int(
            tx.conn.execute(
                insert(optimization_action).values(**row).returning(optimization_action.c.id)
            ).scalar_one()
        )
        meta.move_now(tx.conn, domain="cases")  # cached views show it
        tx.log(
            "case.optimization.open",
            "optimization_action",
            new_id,
            after=row,
            detail={"problem_id": pid, "community": code},
        )
    return new_id


def close_action(
    actor: audit.Actor, viewer: Viewer, *, action_id: object, note: str | None, now: int | None = None
) -> None:
    if viewer.role not in ("leader", "admin"):
        raise OptimizationRefused(
            "只有领导或管理员可以结束优化", "Only leaders and administrators close actions"
        )
    try:
        aid = int(str(action_id))
    except ValueError:
        raise OptimizationRefused("编号无效", "Bad action id") from None
    text = R.check_note(note, required=False)
    at = int(now if now is not None else time.time())
    with audit.write(actor) as tx:
        done = tx.conn.execute(
            update(optimization_action)
            .where(
                optimization_action.c.id == aid,
                optimization_action.c.status == "open",
                *_scoped(viewer.scope()),
            )
            .values(status="done", closed_at=at, closed_by=actor.username[:96], close_note=text or None)
        )
        if done.rowcount != 1:
            raise OptimizationRefused(f"没有进行中的优化 #{aid}", f"No open action #{aid}")
        meta.move_now(tx.conn, domain="cases")
        tx.log(
            "case.optimization.close", "optimization_action", aid, after={"status": "done", "closed_at": at}
        )


@cached(domains=("cases",))
def actions(*, scope: Scope, now: int) -> pl.DataFrame:
    """Actions in the scope with their effect: cases in the window before and after opening, each per 30
    days, and the change. Counted from case_item on its (problem_id) index; actions are few. `now`: pages
    pass the cases' clock (meta.case_clock); opening or closing an action moves the cases' version."""
    o = optimization_action
    with eng.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(
                    o, lists_problem.c.name_zh.label("problem_zh"), community.c.name_zh.label("community_zh")
                )
                .join(lists_problem, lists_problem.c.id == o.c.problem_id)
                .join(community, community.c.code == o.c.community_code)
                .where(*_scoped(scope))
                .order_by(o.c.id.desc())
            ).mappings()
        ]
        for r in rows:
            w = int(r["window_days"]) * DAY
            start = int(r["opened_at"])
            after_end = min(start + w, now)

            def count(a: int, b: int, r: dict[str, Any] = r) -> int:
                return int(
                    conn.execute(
                        select(func.count())
                        .select_from(case_item)
                        .where(
                            case_item.c.problem_id == r["problem_id"],
                            case_item.c.community_code == r["community_code"],
                            case_item.c.opened_at >= a,
                            case_item.c.opened_at < b,
                        )
                    ).scalar_one()
                )

            r["before"] = count(start - w, start)
            r["after"] = count(start, after_end) if after_end > start else 0
            r["after_days"] = max((after_end - start) / DAY, 0.0)
            r["before_per30"] = r["before"] / r["window_days"] * 30
            r["after_per30"] = r["after"] / r["after_days"] * 30 if r["after_days"] >= 1 else None
    schema = {
        "id": pl.Int64,
        "problem_id": pl.Int32,
        "problem_zh": pl.Utf8,
        "community_code": pl.Int64,
        "community_zh": pl.Utf8,
        "township_code": pl.Int64,
        "title": pl.Utf8,
        "note": pl.Utf8,
        "window_days": pl.Int32,
        "opened_at": pl.Int64,
        "opened_by": pl.Utf8,
        "status": pl.Utf8,
        "closed_at": pl.Int64,
        "before": pl.Int64,
        "after": pl.Int64,
        "after_days": pl.Float64,
        "before_per30": pl.Float64,
        "after_per30": pl.Float64,
    }
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    return frame.with_columns(
        change=pl.when(pl.col("before_per30") > 0)
        .then(pl.col("after_per30") / pl.col("before_per30") - 1)
        .otherwise(None)
    )
