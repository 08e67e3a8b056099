"""Actions on cases through the write door, on SQLite and PostgreSQL: who may act, which transitions the
loop allows, optimistic concurrency, bad input; every test ends with the responsibility log verifying and
the loop's rollups equal to a recount. Each test works on cases of its own (ids above the generated
ones, copied from a generated case) and removes them afterwards, so the shared pools stay as built."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
from sqlalchemy import delete, func, insert, select

from queries import appeals as ap
from queries import audit, loop
from queries import case_actions as ca
from queries import case_rules as R
from queries import engine as eng
from queries import optimization as opt
from queries.calendar import add_working_days
from queries.scope import Viewer
from queries.tables import (
    app_user,
    audit_log,
    case_appeal,
    case_event,
    case_item,
    case_rollup,
    department,
    optimization_action,
    seed_case_defect,
)

BASE_ID = 9 * 10**12
_ids = itertools.count(1)
NOW = 1_763_600_000  # 2025-11-20 08:53 local: a Thursday


def user(name: str) -> Viewer:
    with eng.connect() as conn:
        r = conn.execute(select(app_user).where(app_user.c.username == name)).mappings().one()
    return Viewer(
        r["id"], r["username"], r["display_name"], r["role"], r["department_id"], r["township_code"]
    )


def dept_id(code: str) -> int:
    with eng.connect() as conn:
        return int(conn.execute(select(department.c.id).where(department.c.code == code)).scalar_one())


def other_head(dept: int) -> Viewer:
    return Viewer(0, "other-head", "other", "department_head", dept + 1, None)


@pytest.fixture
def make(pool: str) -> Iterator[Callable[..., int]]:
    """A factory of test cases: a generated case's row with overrides, added with its rollup move."""
    made: list[int] = []
    civil = dept_id("civil_affairs")
    with eng.connect() as conn:
        template = dict(
            conn.execute(
                select(case_item).where(case_item.c.dept_id == civil).order_by(case_item.c.id).limit(1)
            )
            .mappings()
            .one()
        )

    def _make(**kw: Any) -> int:
        cid = BASE_ID + next(_ids)
        row = {
            **template,
            "id": cid,
            "stage": "monitoring",
            "signed_at": None,
            "closed_at": None,
            "analysis_at": None,
            "response_at": None,
            "evaluation_at": None,
            "feedback_at": None,
            "optimization_at": None,
            "satisfaction": None,
            "emergency": False,
            "reopen_count": 0,
            "transfer_count": 0,
            "dept_count": 1,
            "has_lead": True,
            "deferred_s": 0,
            "case_class": "complaint",
            "opened_at": NOW - 3600,
            "sign_due_at": NOW + 3600,
            "close_due_at": NOW + 10 * 86400,
            "row_version": 1,
            **kw,
        }
        with eng.write() as conn:
            conn.execute(insert(case_item).values(**row))
            loop.rollup_move(conn, None, row)
        made.append(cid)
        return cid

    start_log = audit.verify().entries
    yield _make
    with eng.write() as conn:
        for cid in made:
            row = conn.execute(select(case_item).where(case_item.c.id == cid)).mappings().first()
            if row is not None:
                loop.rollup_move(conn, dict(row), None)
            conn.execute(delete(case_item).where(case_item.c.id == cid))
            conn.execute(delete(case_event).where(case_event.c.case_id == cid))
            conn.execute(delete(case_appeal).where(case_appeal.c.case_id == cid))
        conn.execute(delete(optimization_action).where(optimization_action.c.title.like("test:%")))
    verdict = audit.verify()
    assert verdict.ok, verdict.first_break
    assert verdict.entries >= start_log
    _assert_rollup_exact()


def _assert_rollup_exact() -> None:
    with eng.connect() as conn:
        want, _ = loop.recount(conn)
        have = pl.DataFrame([dict(r._mapping) for r in conn.execute(select(case_rollup))])
    keys = list(loop.KEYS)
    w = want.select([*keys, *loop.COUNTS]).sort(keys)
    h = have.select([*keys, *loop.COUNTS]).cast({c: w.schema[c] for c in w.columns}).sort(keys)
    assert w.equals(h)


def row(cid: int) -> dict[str, Any]:
    with eng.connect() as conn:
        return dict(conn.execute(select(case_item).where(case_item.c.id == cid)).mappings().one())


def events(cid: int) -> list[str]:
    with eng.connect() as conn:
        return [
            k
            for (k,) in conn.execute(
                select(case_event.c.kind).where(case_event.c.case_id == cid).order_by(case_event.c.id)
            )
        ]


def log_count() -> int:
    with eng.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def act(v: Viewer, cid: int, action: str, **kw: Any) -> ca.Done:
    kw.setdefault("seen_version", row(cid)["row_version"])
    kw.setdefault("now", NOW)
    return ca.act(audit.Actor.of(v), v, case_id=cid, action=action, **kw)


def test_department_head_walks_a_case_round_the_loop(make: Callable[..., int]) -> None:
    head = user("minzheng")
    cid = make()
    before_log = log_count()
    act(head, cid, "sign")
    assert row(cid)["stage"] == "analysis"
    act(head, cid, "advance", note="派员处置")
    act(head, cid, "advance", note="已处置")
    act(head, cid, "evaluate", result="resolved")
    act(head, cid, "feedback", satisfaction="satisfied", note="电话回复")
    done = act(head, cid, "advance", note="归档")
    r = row(cid)
    assert (r["stage"], r["row_version"], done.row_version) == ("closed", 7, 7)
    assert r["signed_at"] == NOW and r["closed_at"] == NOW and r["satisfaction"] == "satisfied"
    assert events(cid) == ["sign", "advance", "advance", "evaluate", "feedback", "close"]
    assert log_count() == before_log + 6
    with eng.connect() as conn:
        actions = [
            a for (a,) in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id.desc()).limit(6))
        ]
    assert actions[0] == "case.advance" and "case.evaluate" in actions and actions[-1] == "case.sign"


def test_wrong_department_and_non_heads_are_refused_and_nothing_changes(make: Callable[..., int]) -> None:
    cid = make()
    before = (row(cid), log_count())
    for v in (other_head(row(cid)["dept_id"]), user("leader"), user("operator")):
        with pytest.raises(R.CaseRefused) as err:
            act(v, cid, "sign")
        assert "responsible department" in err.value.en or "No case" in err.value.en
    assert (row(cid), log_count()) == before
    assert events(cid) == []


def test_illegal_transitions_are_refused(make: Callable[..., int]) -> None:
    head = user("minzheng")
    cid = make(stage="evaluation", signed_at=NOW - 10)
    before = (row(cid), log_count())
    with pytest.raises(R.CaseRefused, match="not by advancing"):
        act(head, cid, "advance", note="跳过评估")
    with pytest.raises(R.CaseRefused, match="Only an emergency"):
        act(head, make(stage="analysis", signed_at=NOW), "advance", note="x", to_stage="closed")
    with pytest.raises(R.CaseRefused, match="not in feedback"):
        act(head, cid, "feedback", satisfaction="satisfied")
    assert (row(cid), log_count()) == before


def test_emergency_skip_is_recorded_as_such(make: Callable[..., int]) -> None:
    cid = make(stage="analysis", signed_at=NOW - 10, emergency=True)
    act(user("minzheng"), cid, "advance", note="险情, 直接处置完毕", to_stage="evaluation")
    assert row(cid)["stage"] == "evaluation" and events(cid) == ["emergency_skip"]


def test_closed_case_can_only_be_reopened(make: Callable[..., int]) -> None:
    head = user("minzheng")
    cid = make(stage="closed", signed_at=NOW - 100, closed_at=NOW - 50)
    with pytest.raises(R.CaseRefused, match="closed"):
        act(head, cid, "transfer", note="x", to_dept=dept_id("housing"))
    act(head, cid, "reopen", note="群众反映未解决")
    r = row(cid)
    assert (r["stage"], r["reopen_count"], r["closed_at"]) == ("response", 1, None)


def test_two_people_at_once_one_wins_the_other_is_told(make: Callable[..., int]) -> None:
    head, admin = user("minzheng"), user("admin")
    cid = make()
    seen = row(cid)["row_version"]
    act(head, cid, "sign", seen_version=seen)
    with pytest.raises(ca.CaseConflict, match="Someone else"):
        act(admin, cid, "transfer", seen_version=seen, note="转住建", to_dept=dept_id("housing"))
    r = row(cid)
    assert (r["dept_id"], r["signed_at"], r["row_version"]) == (dept_id("civil_affairs"), NOW, seen + 1)
    assert events(cid) == ["sign"]


def test_concurrent_writers_on_threads(make: Callable[..., int]) -> None:
    cid = make()
    seen = row(cid)["row_version"]
    head, admin = user("minzheng"), user("admin")
    go = threading.Barrier(2)
    outcomes: list[str] = []

    def run(v: Viewer, action: str, **kw: Any) -> None:
        go.wait()
        try:
            ca.act(audit.Actor.of(v), v, case_id=cid, action=action, seen_version=seen, now=NOW, **kw)
            outcomes.append("ok")
        except ca.CaseConflict:
            outcomes.append("conflict")
        except Exception as exc:  # a lock timeout would be a failure of the design, shown here
            outcomes.append(repr(exc))

    threads = [
        threading.Thread(target=run, args=(head, "sign")),
        threading.Thread(target=run, args=(admin, "escalate"), kwargs={"note": "督办"}),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert row(cid)["row_version"] == seen + 1 and len(events(cid)) == 1


def test_deferral_request_limit_and_approval(make: Callable[..., int]) -> None:
    head, admin = user("minzheng"), user("admin")
    cid = make(case_class="help", signed_at=NOW - 10, stage="response")
    with pytest.raises(R.CaseRefused, match="longer than the rules allow"):
        act(head, cid, "defer_request", note="需协调", days=6)  # help requests: 5 working days at most
    with pytest.raises(R.CaseRefused, match="administrators decide"):
        act(head, cid, "defer_decision", approve=True)
    act(head, cid, "defer_request", note="需协调住建", days=3)
    with pytest.raises(R.CaseRefused, match="already waiting"):
        act(head, cid, "defer_request", note="again", days=1)
    due = row(cid)["close_due_at"]
    act(admin, cid, "defer_decision", approve=True, note="同意")
    r = row(cid)
    assert r["deferred_s"] == 3 * 8 * 3600 and r["close_due_at"] > due
    with pytest.raises(R.CaseRefused, match="at most 2 more"):
        act(head, cid, "defer_request", note="再延", days=3)
    assert events(cid) == ["defer_request", "defer_decision"]


def test_transfer_moves_the_case_and_the_right_to_act(make: Callable[..., int]) -> None:
    head = user("minzheng")
    cid = make(signed_at=NOW - 10, stage="analysis")
    housing = dept_id("housing")
    act(head, cid, "transfer", note="属住建职责", to_dept=housing)
    r = row(cid)
    assert (r["dept_id"], r["transfer_count"], r["dept_count"], r["signed_at"]) == (housing, 1, 2, None)
    assert r["sign_due_at"] > NOW
    with pytest.raises(R.CaseRefused, match="No case"):  # now outside the civil-affairs head's scope
        act(head, cid, "sign")
    with pytest.raises(R.CaseRefused, match="its own department"):
        act(user("admin"), cid, "transfer", note="x", to_dept=housing)


def test_dissatisfied_feedback_reopens(make: Callable[..., int]) -> None:
    cid = make(stage="feedback", signed_at=NOW - 10)
    act(user("minzheng"), cid, "feedback", satisfaction="dissatisfied", note="仍有噪音")
    r = row(cid)
    assert (r["stage"], r["reopen_count"], r["satisfaction"]) == ("response", 1, "dissatisfied")
    assert events(cid) == ["feedback", "reopen"]


@pytest.mark.parametrize(
    ("case_id", "kw", "message"),
    [
        ("999999999999999", {}, "No case with id"),
        ("12abc", {}, "Bad case id"),
        ("-1", {}, "Bad case id"),
        (None, {"note": "x" * 100_000}, "too long"),
        (None, {"seen_version": "x"}, "version is invalid"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    make: Callable[..., int], case_id: str | None, kw: dict[str, Any], message: str
) -> None:
    cid = make()
    before = (row(cid), log_count())
    admin = user("admin")
    args = {"seen_version": 1, **kw}
    with pytest.raises(R.CaseRefused, match=message):
        ca.act(audit.Actor.of(admin), admin, case_id=case_id or cid, action="sign", now=NOW, **args)
    assert (row(cid), log_count()) == before


def test_appeal_due_in_seven_working_days_and_corrected(make: Callable[..., int]) -> None:
    cid = make(priority=20.0, priority_model="prio-2")
    op_, leader = user("operator"), user("leader")
    filed = 1_727_395_200  # 2024-09-27 08:00 local, a Friday before National Day
    aid = ap.file_appeal(
        audit.Actor.of(op_), op_, case_id=cid, decision_type="priority", reason="老人独居, 应优先", now=filed
    )
    with pytest.raises(ap.AppealRefused, match="already has an open appeal"):
        ap.file_appeal(
            audit.Actor.of(op_), op_, case_id=cid, decision_type="priority", reason="again", now=filed
        )
    frame = ap.appeals(scope=leader.scope(), now=filed, case_id=cid)
    assert frame["due_on"].to_list() == [add_working_days(frame["due_on"][0].replace(month=9, day=27), 7)]
    assert str(frame["due_on"][0]) == "2024-10-12" and frame["overdue"].to_list() == [False]
    late = ap.appeals(scope=leader.scope(), now=filed + 20 * 86400, case_id=cid)
    assert late["overdue"].to_list() == [True]
    with pytest.raises(ap.AppealRefused, match="Only leaders"):
        ap.decide_appeal(
            audit.Actor.of(op_), op_, appeal_id=aid, outcome="corrected", note="x", new_priority=80
        )
    with pytest.raises(ap.AppealRefused, match="0 to 100"):
        ap.decide_appeal(
            audit.Actor.of(leader), leader, appeal_id=aid, outcome="corrected", note="x", new_priority=800
        )
    assert row(cid)["priority"] == 20.0
    ap.decide_appeal(
        audit.Actor.of(leader),
        leader,
        appeal_id=aid,
        outcome="corrected",
        note="独居老人, 上调",
        new_priority=80,
    )
    r = row(cid)
    assert (r["priority"], r["priority_model"], r["row_version"]) == (80.0, "manual:prio-2", 2)
    assert events(cid) == ["correction"]
    with pytest.raises(ap.AppealRefused, match="already been answered"):
        ap.decide_appeal(audit.Actor.of(leader), leader, appeal_id=aid, outcome="upheld", note="x")
    rates = ap.rates(scope=leader.scope()).filter(pl.col("decision_type") == "priority").row(0, named=True)
    assert rates["appeals"] >= 1 and rates["corrected"] >= 1
    assert rates["correction_rate"] == rates["corrected"] / rates["decided"]
    assert rates["appeal_rate"] == rates["appeals"] / rates["decisions"]


def test_routing_appeal_corrected_moves_the_case(make: Callable[..., int]) -> None:
    cid = make()
    admin = user("admin")
    aid = ap.file_appeal(
        audit.Actor.of(admin), admin, case_id=cid, decision_type="routing", reason="派错部门", now=NOW
    )
    ap.decide_appeal(
        audit.Actor.of(admin),
        admin,
        appeal_id=aid,
        outcome="corrected",
        note="改派住建",
        to_dept=dept_id("housing"),
    )
    assert row(cid)["dept_id"] == dept_id("housing") and events(cid) == ["transfer"]


def test_optimization_action_on_a_hotspot_with_before_and_after(make: Callable[..., int]) -> None:
    leader = user("leader")
    with eng.connect() as conn:
        hot = conn.execute(
            select(case_item.c.problem_id, case_item.c.community_code, func.max(case_item.c.opened_at))
            .join(seed_case_defect, seed_case_defect.c.case_id == case_item.c.id)
            .where(seed_case_defect.c.defect == "hotspot")
            .group_by(case_item.c.problem_id, case_item.c.community_code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    at = int(hot[2]) + 1
    aid = opt.open_action(
        audit.Actor.of(leader),
        leader,
        problem_id=hot[0],
        community_code=hot[1],
        title="test: 加装路灯",
        window_days=60,
        now=at,
    )
    with pytest.raises(opt.OptimizationRefused, match="already has an open action"):
        opt.open_action(
            audit.Actor.of(leader),
            leader,
            problem_id=hot[0],
            community_code=hot[1],
            title="test: again",
            now=at,
        )
    frame = (
        opt.actions(scope=leader.scope(), now=at + 30 * 86400).filter(pl.col("id") == aid).row(0, named=True)
    )
    with eng.connect() as conn:
        before = conn.execute(
            select(func.count())
            .select_from(case_item)
            .where(
                case_item.c.problem_id == hot[0],
                case_item.c.community_code == hot[1],
                case_item.c.opened_at >= at - 60 * 86400,
                case_item.c.opened_at < at,
            )
        ).scalar_one()
    assert frame["before"] == before >= loop.HOTSPOT_MIN
    assert frame["after_days"] == 30.0 and frame["before_per30"] == pytest.approx(before / 2)
    with pytest.raises(opt.OptimizationRefused, match="Not a hotspot"):
        opt.open_action(
            audit.Actor.of(leader),
            leader,
            problem_id=hot[0],
            community_code=hot[1] + 1,
            title="test: x",
            now=at,
        )


def test_generated_scores_are_the_documented_models(pool: str) -> None:
    from queries import priority as prio
    from queries.tables import lists_problem

    with eng.connect() as conn:
        rows = conn.execute(
            select(case_item, lists_problem.c.severity.label("sev"))
            .join(lists_problem, lists_problem.c.id == case_item.c.problem_id)
            .order_by(case_item.c.id)
            .limit(300)
        ).mappings()
        pairs = [(r["priority"], prio.score(dict(r), severity=r["sev"]), r["priority_model"]) for r in rows]
    assert pairs and all(m == prio.MODEL_VERSION for _, _, m in pairs)
    assert all(stored == pytest.approx(again) for stored, again, _ in pairs)


def test_reopening_rescores_but_a_manual_score_stands(make: Callable[..., int]) -> None:
    from queries import priority as prio

    head = user("minzheng")
    cid = make(stage="closed", signed_at=NOW - 100, closed_at=NOW - 50, priority=1.0, priority_model="prio-2")
    act(head, cid, "reopen", note="复发")
    r = row(cid)
    assert r["priority_model"] == prio.MODEL_VERSION and r["priority"] > 1.0
    manual = make(
        stage="closed", signed_at=NOW - 100, closed_at=NOW - 50, priority=90.0, priority_model="manual:prio-2"
    )
    act(head, manual, "reopen", note="复发")
    assert (row(manual)["priority"], row(manual)["priority_model"]) == (90.0, "manual:prio-2")


def test_an_action_moves_the_data_version_so_cached_views_follow(make: Callable[..., int]) -> None:
    """The loop view, the lists' open cases and the wall are cached on the data version: an action moves
    it (settled at once, or pending within the ingest window) in the action's own transaction."""
    from queries.meta import PENDING
    from queries.tables import pool_meta

    keys = ["data_version", PENDING["data_version"], "version.records", "version.cases"]
    keys += [PENDING["version.records"], PENDING["version.cases"]]

    def versions() -> dict[str, str]:
        with eng.connect() as conn:
            got = conn.execute(select(pool_meta.c.key, pool_meta.c.value).where(pool_meta.c.key.in_(keys)))
            return {str(k): str(v) for k, v in got}

    def settled_or_pending(vs: dict[str, str], key: str) -> str:
        return vs.get(PENDING[key], vs[key])

    cid = make()
    before = versions()
    act(user("minzheng"), cid, "sign")
    after = versions()
    assert after != before and set(after.values()) - set(before.values())
    # the cases' own version moved, the records' did not: cached reads of records stay valid
    assert settled_or_pending(after, "version.cases") != settled_or_pending(before, "version.cases")
    assert settled_or_pending(after, "version.records") == settled_or_pending(before, "version.records")
    with pytest.raises(R.CaseRefused):  # a refused action writes nothing, the version included
        act(other_head(dept_id("civil_affairs")), cid, "advance", note="x")
    assert versions() == after
