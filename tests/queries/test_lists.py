"""Three-Lists-in-One: the generator injects a recorded gap of every kind at every scale, and the gap
finder finds exactly those (nothing more, nothing less), on SQLite and PostgreSQL; views follow the scope."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest
from sqlalchemy import create_engine, select, update

from queries import audit, cache, lists, meta, owners
from queries import engine as eng
from queries.generate import lists as gen
from queries.generate import reference as ref
from queries.scope import CITY_SCOPE, Viewer
from queries.tables import case_item, data_owner, lists_step, lists_step_duty, person

KEY = ["kind", "problem_id", "step_id", "item_id", "dept_id"]
DEPT_HEAD = Viewer(0, "minzheng", "x", "department_head", department_id=2).scope()
OPERATOR = Viewer(0, "operator", "x", "operator").scope()


def _people() -> dict[tuple[int, str], int]:
    out, pid = {}, 0
    for d in ref.DEPARTMENTS:
        for title in ("局长", "分管副局长", "数据专员"):
            pid += 1
            out[(d[0], title)] = pid
    return out


def _keys(frame: pl.DataFrame) -> set[tuple[object, ...]]:
    return set(frame.select(KEY).iter_rows())


@pytest.mark.parametrize("scale", ["test", "demo", "full"])
def test_every_scale_injects_every_kind_and_the_finder_finds_exactly_them(scale: str) -> None:
    """Demo and full pools are checked on the generator's plan itself (no need to build millions of
    records for the lists): the rows that would be written, read back as a Lists."""
    rows = gen.plan(np.random.default_rng(7), scale, _people())
    seeded = pl.DataFrame(rows["lists_seed_gap"], schema={k: lists.GAP_SCHEMA[k] for k in KEY})
    counts = dict(seeded.group_by("kind").len().iter_rows())
    assert counts == {k: gen.SCALE_GAPS[scale] for k in lists.GAP_KINDS}
    assert len(rows["lists_problem"]) == gen.SCALE_PROBLEMS[scale]
    source_dept = {sid: s.dept_id for sid, _, s in ref.sources()}
    found = lists.find_gaps(lists.lists_from_rows(rows, source_dept))
    assert _keys(found) == _keys(seeded)
    assert found.height == seeded.height  # no gap found twice
    assert found["fix_dept_id"].null_count() == 0  # every gap names who closes it


def test_a_clean_plan_has_no_gaps() -> None:
    """The finder is not merely echoing the record: with the injected gaps mended there are none."""
    rows = gen.plan(np.random.default_rng(7), "test", _people())
    seeded = rows["lists_seed_gap"]
    source_dept = {sid: s.dept_id for sid, _, s in ref.sources()}
    # mend the permission gaps (grant what was withheld) and the ownerless items (give them back)
    for g in seeded:
        if g["kind"] == "permission":
            rows["lists_data_grant"].append({"item_id": g["item_id"], "dept_id": g["dept_id"]})
        if g["kind"] == "no_owner":
            item = rows["lists_data_item"][g["item_id"] - 1]
            item["owner_dept_id"] = source_dept[item["source_id"]]
    found = lists.find_gaps(lists.lists_from_rows(rows, source_dept))
    assert set(found["kind"]) == {"no_process", "void", "overlap", "no_data", "over_limit"}
    assert "permission" not in set(found["kind"]) and "no_owner" not in set(found["kind"])


def test_generated_lists_hold_the_closed_loop() -> None:
    rows = gen.plan(np.random.default_rng(1), "full", _people())
    stages = {s["stage"] for s in rows["lists_step"]}
    assert stages == {"monitoring", "analysis", "response", "evaluation", "feedback", "optimization"}
    channels = {p["channel"] for p in rows["lists_problem"]}
    assert channels == set(gen.CHANNELS)
    # the test scale already has every channel
    assert {p.channel for p in gen.problems_for("test")} == set(gen.CHANNELS)


def test_gap_finder_on_the_pool_matches_the_recorded_gaps(pool: str) -> None:
    found = lists.gaps(scope=CITY_SCOPE)
    seeded = lists.seeded_gaps()
    assert _keys(found) == _keys(seeded)
    assert seeded.height == len(lists.GAP_KINDS) * gen.SCALE_GAPS["test"]
    assert found["fix_zh"].null_count() == 0 and found["fix_person"].null_count() == 0
    counts = lists.gap_counts(scope=CITY_SCOPE)
    assert counts["kind"].to_list() == list(lists.GAP_KINDS)
    assert counts["n"].to_list() == [gen.SCALE_GAPS["test"]] * len(lists.GAP_KINDS)
    # one void is always placed on a high-severity type: the wall's alert is red
    assert lists.alert_level(scope=CITY_SCOPE) == "red"


def test_gap_fixers_follow_the_rules(pool: str) -> None:
    g = lists.gaps(scope=CITY_SCOPE)
    snap = lists.lists_snapshot()
    owner = dict(snap.problems.select("id", "owner_dept_id").iter_rows())
    # a built pool has the default appointments: a department's deputy director, a source's data officer
    for r in g.filter(pl.col("kind").is_in(["no_process", "void", "overlap"])).iter_rows(named=True):
        assert r["fix_dept_id"] == owner[r["problem_id"]]
        assert r["fix_role"] == "department" and r["fix_title"] == "分管副局长"
        assert r["fix_via"] == "appointed"
    item_owner = dict(snap.items.select("id", "owner_dept_id").iter_rows())
    for r in g.filter(pl.col("kind") == "permission").iter_rows(named=True):
        assert r["fix_dept_id"] == item_owner[r["item_id"]] != r["dept_id"]
        assert r["fix_role"] == "data_owner" and r["fix_via"] == "appointed"
    for r in g.filter(pl.col("kind") == "no_owner").iter_rows(named=True):
        # nobody owns the item: the data officer appointed for its source system answers
        assert r["fix_dept_id"] == r["source_dept_id"] and r["fix_title"] == "数据专员"
    for r in g.filter(pl.col("kind") == "over_limit").iter_rows(named=True):
        assert r["step_limit"] > r["problem_limit"]


def test_department_head_sees_only_their_own(pool: str) -> None:
    mine = lists.gaps(scope=DEPT_HEAD)
    everyone = lists.gaps(scope=CITY_SCOPE)
    assert set(mine["fix_dept_id"]) <= {2}
    assert mine.height == everyone.filter(pl.col("fix_dept_id") == 2).height > 0
    ids, frame = lists.matrix(scope=DEPT_HEAD)
    assert ids == [2] and "r2" in frame.columns and "r1" not in frame.columns
    assert frame.height > 0 and (frame["r2"] != "").any()
    assert lists.dept_list(dept_id=1, scope=DEPT_HEAD) is None
    own = lists.dept_list(dept_id=2, scope=DEPT_HEAD)
    assert own is not None and own.name_zh == "市民政局"
    assert own.gaps.height == mine.height and set(own.steps["dept_id"]) == {2}
    assert set(lists.dept_summary(scope=DEPT_HEAD)["dept_id"]) == {2}


def test_matrix_covers_every_type_and_department(pool: str) -> None:
    ids, frame = lists.matrix(scope=CITY_SCOPE)
    assert ids == list(range(1, 19))
    assert frame.height == gen.SCALE_PROBLEMS["test"]
    assert frame.columns[:8] == [
        "problem_id",
        "code",
        "name_zh",
        "name_en",
        "channel",
        "severity",
        "owner_dept_id",
        "gaps",
    ]
    roles = {v for d in ids for v in frame[f"r{d}"]}
    assert roles == {"lead", "support", ""}
    # every gap is marked in at least one cell of the matrix
    assert frame["gaps"].sum() >= lists.gap_counts(scope=CITY_SCOPE)["n"].sum() - gen.SCALE_GAPS["test"]
    no_process = lists.seeded_gaps().filter(pl.col("kind") == "no_process")["problem_id"].to_list()
    row = frame.filter(pl.col("problem_id") == no_process[0])
    assert row["gaps"][0] >= 1 and all(row[f"r{d}"][0] == "" for d in ids)


def test_mapping_of_one_type(pool: str) -> None:
    day = 20777  # 2026-11-20, the test pool's last day
    m = lists.mapping(problem_id=1, scope=CITY_SCOPE, as_of_day=day, as_of=meta.pool_status().as_of)
    assert m is not None and m.problem["code"] == "hotline_outage"
    assert m.steps["seq"].to_list() == list(range(1, 8))
    placed = lists.step_cases(scope=CITY_SCOPE, as_of=meta.pool_status().as_of).filter(
        pl.col("problem_id") == 1, pl.col("step_id").is_not_null()
    )
    assert m.steps["open_cases"].null_count() == 0
    assert m.steps["open_cases"].sum() == placed["open"].sum() > 0
    assert m.steps["overdue_cases"].sum() == placed["overdue"].sum()
    assert m.items.height > 0 and (m.items["load_7d"] > 0).any()
    assert m.items.schema["load_7d"] == pl.Int64
    assert set(m.step_depts["role"]) <= {"lead", "support"}
    assert lists.mapping(problem_id=999, scope=CITY_SCOPE, as_of_day=day, as_of=0) is None


def test_mapping_shows_holes(pool: str) -> None:
    seeded = lists.seeded_gaps()
    void = seeded.filter(pl.col("kind") == "void").row(0, named=True)
    m = lists.mapping(
        problem_id=void["problem_id"], scope=CITY_SCOPE, as_of_day=20777, as_of=meta.pool_status().as_of
    )
    assert m is not None
    assert m.steps.filter(pl.col("id") == void["step_id"])["n_leads"][0] == 0
    perm = seeded.filter(pl.col("kind") == "permission").row(0, named=True)
    snap = lists.lists_snapshot()
    steps = snap.step_data.filter(pl.col("item_id") == perm["item_id"]).join(
        snap.roles.filter(pl.col("dept_id") == perm["dept_id"]), on="step_id"
    )
    pid = snap.steps.filter(pl.col("id") == steps["step_id"][0])["problem_id"][0]
    m = lists.mapping(problem_id=int(pid), scope=CITY_SCOPE, as_of_day=20777, as_of=meta.pool_status().as_of)
    assert m is not None
    assert (perm["item_id"], perm["dept_id"]) in set(m.denied.iter_rows())
    assert not m.step_items.filter(pl.col("item_id") == perm["item_id"])["permitted"].all()


def test_operator_does_not_see_core_items(pool: str) -> None:
    # grid_building uses the resident registry, a core item
    m = lists.mapping(problem_id=3, scope=OPERATOR, as_of_day=20777, as_of=meta.pool_status().as_of)
    assert m is not None and m.hidden_items >= 1
    assert (m.items["classification"] <= 1).all()
    full = lists.mapping(problem_id=3, scope=CITY_SCOPE, as_of_day=20777, as_of=meta.pool_status().as_of)
    assert (
        full is not None and full.hidden_items == 0 and full.items.height == m.items.height + m.hidden_items
    )


def test_summary_compares_every_department(pool: str) -> None:
    s = lists.dept_summary(scope=CITY_SCOPE)
    assert s.height == 18
    assert s["gaps"].sum() == lists.gaps(scope=CITY_SCOPE).height
    assert s.schema["leads"] == pl.Int64
    by = lists.gaps_by_dept(scope=CITY_SCOPE)
    assert by["n"].sum() == s["gaps"].sum() and by["n"].to_list() == sorted(by["n"].to_list(), reverse=True)


def test_the_wall_focuses_on_a_high_severity_void_or_overlap(pool: str) -> None:
    pid = lists.focus_problem(scope=CITY_SCOPE)
    hot = lists.gaps(scope=CITY_SCOPE).filter(pl.col("kind").is_in(["void", "overlap"]))
    assert pid in set(hot.filter(pl.col("severity") == lists.HIGH)["problem_id"].to_list())
    mine = lists.focus_problem(scope=DEPT_HEAD)
    assert mine in set(lists.problems(scope=DEPT_HEAD)["problem_id"].to_list())


def test_export_holds_a_closed_slice_of_the_lists(pool: str) -> None:
    t = lists.export_tables(dept_id=2, scope=CITY_SCOPE)
    assert t is not None and tuple(t) == lists.EXPORT_SHEETS
    problems = set(t["problems"]["code"])
    assert set(t["steps"]["problem"]) <= problems
    steps, items, duties = set(t["steps"]["code"]), set(t["data_items"]["code"]), set(t["duties"]["code"])
    assert set(t["step_data"]["step"]) <= steps and set(t["step_data"]["item"]) <= items
    assert set(t["step_duties"]["step"]) <= steps and set(t["step_duties"]["duty"]) == duties
    assert set(t["grants"]["item"]) <= items
    assert "civil_affairs" in set(t["duties"]["dept"])
    assert set(t["data_items"]["classification"]) <= {"public", "sensitive", "core"}
    assert all(v[-1] in "dh" and v[:-1].isdigit() for v in t["problems"]["limit"].to_list())
    everything = lists.export_tables(dept_id=None, scope=CITY_SCOPE)
    assert everything is not None and everything["problems"].height == gen.SCALE_PROBLEMS["test"]
    assert lists.export_tables(dept_id=1, scope=DEPT_HEAD) is None


@pytest.fixture
def appointments_restored(writable_pool: str) -> Iterator[str]:
    """The writable pool, read uncached; the appointments a test ends are current again afterwards."""
    cache.configure(None)
    with eng.connect() as c:
        ids = [r[0] for r in c.execute(select(data_owner.c.id).where(data_owner.c.ended_at.is_(None)))]
    yield writable_pool
    with create_engine(writable_pool).begin() as c:
        c.execute(update(data_owner).where(data_owner.c.id.in_(ids)).values(ended_at=None))


def test_a_gap_names_the_appointed_owner_else_the_title(appointments_restored: str) -> None:
    actor = audit.Actor(None, "cli:test", "system")
    void = lists.gaps(scope=CITY_SCOPE).filter(pl.col("kind") == "void").row(0, named=True)
    dept = int(void["fix_dept_id"])
    code = ref.DEPARTMENTS[[d[0] for d in ref.DEPARTMENTS].index(dept)][1]
    with eng.connect() as c:
        people = {
            str(t): (int(i), str(n))
            for i, t, n in c.execute(
                select(person.c.id, person.c.title_zh, person.c.name_zh).where(
                    person.c.department_id == dept, person.c.township_code.is_(None)
                )
            )
        }
    officer_id, officer = people["数据专员"]
    with audit.write(actor) as tx:
        owners.appoint(tx, kind="department", code=code, person_id=officer_id)

    def named() -> dict[str, object]:
        g = lists.gaps(scope=CITY_SCOPE)
        return g.filter((pl.col("kind") == "void") & (pl.col("step_id") == void["step_id"])).row(
            0, named=True
        )

    got = named()
    assert (got["fix_person"], got["fix_title"], got["fix_via"]) == (officer, "数据专员", "appointed")
    with audit.write(actor) as tx:
        owners.end(tx, kind="department", code=code)
    got = named()  # nobody appointed: the director answers for the department's processes
    assert (got["fix_person"], got["fix_title"], got["fix_via"]) == (people["局长"][1], "局长", "title")
    mine = lists.dept_list(dept_id=dept, scope=CITY_SCOPE)
    assert mine is not None
    assert set(mine.gaps.filter(pl.col("fix_role") == "department")["fix_title"]) == {"局长"}


def test_what_the_controls_offer_and_accept(pool: str) -> None:
    assert lists.dept_code(dept_id=2) == "civil_affairs" and lists.dept_code(dept_id=999) is None
    by_code = lists.dept_ids_by_code()
    assert by_code["civil_affairs"] == 2 and len(by_code) == len(ref.DEPARTMENTS)
    mine = lists.problem_ids_by_code(scope=DEPT_HEAD)
    every = lists.problem_ids_by_code(scope=CITY_SCOPE)
    assert mine and set(mine.items()) < set(every.items())
    probs = lists.problems(scope=CITY_SCOPE)
    assert every == dict(zip(probs["code"], probs["problem_id"], strict=True))
    assert lists.dept_choices(scope=DEPT_HEAD)["id"].to_list() == [2]
    got = lists.dept_choices(scope=CITY_SCOPE)
    assert got.columns == ["id", "code", "name_zh", "name_en"] and got.height == len(ref.DEPARTMENTS)


def _hand_step_cases(scope_dept: int | None) -> dict[tuple[int, str], tuple[int | None, int, int, int]]:
    """Open cases per (problem type, stage) counted row by row from case_item, each placed at the last
    step of its stage in the type's process, with the number of leads of that step."""
    as_of = meta.pool_status().as_of
    with eng.connect() as c:
        cases = c.execute(
            select(
                case_item.c.problem_id, case_item.c.stage, case_item.c.close_due_at, case_item.c.dept_id
            ).where(case_item.c.closed_at.is_(None))
        ).all()
        steps = c.execute(
            select(lists_step.c.id, lists_step.c.problem_id, lists_step.c.stage, lists_step.c.seq)
        ).all()
        leads = c.execute(select(lists_step_duty.c.step_id).where(lists_step_duty.c.role == "lead")).all()
    last: dict[tuple[int, str], tuple[int, int]] = {}
    for sid, pid, stage, seq in steps:
        if (pid, stage) not in last or seq > last[(pid, stage)][1]:
            last[(pid, stage)] = (sid, seq)
    n_leads: dict[int, int] = {}
    for (sid,) in leads:
        n_leads[sid] = n_leads.get(sid, 0) + 1
    out: dict[tuple[int, str], tuple[int | None, int, int, int]] = {}
    for pid, stage, due, dept in cases:
        if scope_dept is not None and dept != scope_dept:
            continue
        step = last.get((pid, stage), (None, 0))[0]
        _, n, late, _ = out.get((pid, stage), (step, 0, 0, 0))
        out[(pid, stage)] = (step, n + 1, late + int(due < as_of), n_leads.get(step, 0) if step else 0)
    return out


@pytest.mark.parametrize("scope", [CITY_SCOPE, DEPT_HEAD], ids=["city", "dept_head"])
def test_open_cases_per_step_match_a_hand_count(pool: str, scope: object) -> None:
    frame = lists.step_cases(scope=scope, as_of=meta.pool_status().as_of)  # type: ignore[arg-type]
    got = {
        (r["problem_id"], r["stage"]): (r["step_id"], r["open"], r["overdue"], r["n_leads"])
        for r in frame.iter_rows(named=True)
    }
    want = _hand_step_cases(None if scope is CITY_SCOPE else 2)
    assert got == want
    assert sum(v[1] for v in want.values()) > 0 and sum(v[2] for v in want.values()) > 0
    assert all(stage != "closed" for _, stage in got)


def test_cases_waiting_at_a_hole_are_named(pool: str) -> None:
    """Open cases at a step nobody leads, or at a stage with no step (a type with no process): found
    exactly, and the injected void and no-process types of the test pool do hold open cases."""
    frame = lists.step_cases(scope=CITY_SCOPE, as_of=meta.pool_status().as_of)
    holes = lists.unanswered_cases(frame)
    want = {
        k for k, (step, n, _, nl) in _hand_step_cases(None).items() if n > 0 and (step is None or nl == 0)
    }
    assert set(zip(holes["problem_id"].to_list(), holes["stage"].to_list(), strict=True)) == want
    assert holes.height > 0


def test_each_gap_carries_the_open_cases_waiting_on_it(pool: str) -> None:
    as_of = meta.pool_status().as_of
    g = lists.gaps_with_cases(scope=CITY_SCOPE, as_of=as_of)
    assert g.height == lists.gaps(scope=CITY_SCOPE).height
    hand = _hand_step_cases(None)
    at_step: dict[int, tuple[int, int]] = {}
    at_type: dict[int, tuple[int, int]] = {}
    for (pid, _stage), (step, n, late, _) in hand.items():
        if step is None:
            o, lt = at_type.get(pid, (0, 0))
            at_type[pid] = (o + n, lt + late)
        else:
            at_step[step] = (n, late)
    for r in g.iter_rows(named=True):
        if r["item_id"] is not None:
            assert r["open_cases"] is None
        elif r["kind"] == "no_process":
            assert (r["open_cases"], r["overdue_cases"]) == at_type.get(r["problem_id"], (0, 0))
        else:
            assert (r["open_cases"], r["overdue_cases"]) == at_step.get(r["step_id"], (0, 0))
    voids = g.filter(pl.col("kind").is_in(["void", "no_process"]))
    assert voids["open_cases"].sum() > 0  # the injected holes do hold cases on the test pool


def test_a_department_s_case_figures_match_a_hand_count(pool: str) -> None:
    as_of = meta.pool_status().as_of
    with eng.connect() as c:
        rows = c.execute(
            select(case_item.c.closed_at, case_item.c.close_due_at).where(case_item.c.dept_id == 2)
        ).all()
    want = {
        "open": sum(1 for closed, _ in rows if closed is None),
        "overdue": sum(1 for closed, due in rows if closed is None and due < as_of),
        "closed": sum(1 for closed, _ in rows if closed is not None),
        "closed_on_time": sum(1 for closed, due in rows if closed is not None and closed <= due),
    }
    assert want["open"] > 0 and want["closed"] > 0
    d = lists.dept_list(dept_id=2, scope=DEPT_HEAD, as_of=as_of)
    assert d is not None and d.cases == want
    assert "open_cases" in d.gaps.columns
    assert lists.dept_list(dept_id=2, scope=DEPT_HEAD) is not None
