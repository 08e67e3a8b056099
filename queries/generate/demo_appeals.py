"""Sample appeals for the demo pool: appeals are user data the generator never makes, so a fresh demo
showed an empty appeals page. `file_samples` files a handful through the real write door
(queries.appeals.file_appeal / decide_appeal, as the demo accounts, each on the responsibility log):
some open and due, some overdue, some upheld, some corrected (a score and a routing).

Only on a pool that has the demo accounts and no appeal yet: a second run, or a pool whose people have
filed appeals of their own, gets nothing added.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from queries import appeals as ap
from queries import audit
from queries import engine as eng
from queries.generate import reference as ref
from queries.scope import Viewer
from queries.tables import app_user, case_appeal, case_item

DAY = 86_400

# (decision type, filer, days ago filed, outcome or None, days ago decided, reason)
SAMPLES: tuple[tuple[str, str, int, str | None, int, str], ...] = (
    (
        "priority",
        "operator",
        1,
        None,
        0,
        "来电人认为漏水已影响三户居民, 评分偏低 / caller: leak reaches three homes",
    ),
    (
        "routing",
        "operator",
        2,
        None,
        0,
        "应由住建部门处理, 不属本部门 / belongs to housing, not this department",
    ),
    ("priority", "minzheng", 3, None, 0, "低保户求助, 请复核优先级 / a low-income household's request"),
    (
        "priority",
        "operator",
        16,
        None,
        0,
        "评分未考虑老人独居 / score ignores an elderly person living alone",
    ),
    ("routing", "operator", 20, None, 0, "派单部门与问题类型不符 / routed to the wrong department"),
    ("priority", "operator", 12, "upheld", 6, "认为评分过高, 占用资源 / score too high"),
    ("routing", "minzheng", 14, "upheld", 9, "本局认为不属职责范围 / outside our remit"),
    ("priority", "operator", 10, "corrected", 4, "同一地点一周内第三次报告 / third report here this week"),
    ("routing", "operator", 9, "corrected", 3, "问题属于另一部门的职责清单 / on another department's list"),
)


def _viewers() -> dict[str, Viewer]:
    names = [u[0] for u in ref.DEMO_USERS]
    with eng.connect() as conn:
        rows = conn.execute(
            select(app_user).where(app_user.c.username.in_(names), app_user.c.active.is_(True))
        ).mappings()
        return {
            r["username"]: Viewer(
                user_id=int(r["id"]),
                username=r["username"],
                display_name=r["display_name"],
                role=r["role"],
                department_id=r["department_id"],
                township_code=r["township_code"],
            )
            for r in rows
        }


def _open_cases(viewer: Viewer, n: int) -> list[dict[str, object]]:
    scope = viewer.scope()
    c = case_item
    q = select(c.c.id, c.c.dept_id, c.c.priority).where(c.c.closed_at.is_(None)).order_by(c.c.id).limit(n)
    if scope.department_id is not None:
        q = q.where(c.c.dept_id == scope.department_id)
    if scope.township_code is not None:
        q = q.where(c.c.township_code == scope.township_code)
    with eng.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def file_samples(*, now: int | None = None) -> int:
    """File the sample appeals; returns how many were filed (0 when not a demo pool or it has appeals).
    Raises CalendarYearUnknown, with nothing filed, past the years chinese-calendar covers."""
    at = int(now if now is not None else time.time())
    # all or none: a year the official calendar does not cover refuses here, before the first appeal
    for _, _, ago, _, _, _ in SAMPLES:
        ap.due_date(at - ago * DAY)
    viewers = _viewers()
    if not {"operator", "minzheng", "leader"} <= viewers.keys():
        return 0  # not a demo pool
    with eng.connect() as conn:
        if int(conn.execute(select(func.count()).select_from(case_appeal)).scalar_one()):
            return 0
        depts = [int(d) for d in conn.execute(select(case_item.c.dept_id).distinct()).scalars()]
    leader = viewers["leader"]
    pools = {u: _open_cases(viewers[u], 20) for u in ("operator", "minzheng")}
    used: set[int] = set()
    filed = 0
    for decision, filer, ago, outcome, decided_ago, reason in SAMPLES:
        case = next((c for c in pools[filer] if int(str(c["id"])) not in used), None)
        if case is None:
            continue
        cid = int(str(case["id"]))
        used.add(cid)
        v = viewers[filer]
        aid = ap.file_appeal(
            audit.Actor.of(v), v, case_id=cid, decision_type=decision, reason=reason, now=at - ago * DAY
        )
        filed += 1
        if outcome is None:
            continue
        extra: dict[str, object] = {}
        if outcome == "corrected" and decision == "priority":
            extra["new_priority"] = min(100.0, float(str(case["priority"] or 50)) + 20)
        elif outcome == "corrected":
            extra["to_dept"] = next(d for d in depts if d != case["dept_id"])
        note = (
            "经复核维持原决定 / reviewed, decision stands"
            if outcome == "upheld"
            else "经复核予以纠正 / corrected"
        )
        ap.decide_appeal(
            audit.Actor.of(leader),
            leader,
            appeal_id=aid,
            outcome=outcome,
            note=note,
            now=at - decided_ago * DAY,
            **extra,
        )
    return filed
