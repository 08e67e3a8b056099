"""The closed loop: working time across holidays, every KPI against hand-computed cases (deferred,
reopened, transferred, emergency), the funnel finds exactly the injected stops, and the rollup equals a
recount after rollup_move deltas; the reads on the real test pools (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, delete, insert, select

from queries import loop, meta
from queries.scope import CITY_SCOPE, Scope
from queries.tables import case_item, case_rollup, case_rollup_dur, seed_case_defect
from queries.timebase import LOCAL
from queries.worktime import HOUR, add_working_seconds, working_seconds_between


def ts(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, m, d, h, mi, tzinfo=LOCAL).timestamp())


# --- working time on the official calendar ---------------------------------------------------------------


def test_working_time_skips_national_day_and_counts_its_make_up_saturday() -> None:
    # Wed 30 Sep 2026 16:00 + one working day: 1-7 Oct rest, Thu 8 Oct works -> 8 Oct 16:00
    assert add_working_seconds(ts(2026, 9, 30, 16), 8 * HOUR) == ts(2026, 10, 8, 16)
    # Fri 9 Oct 17:00 + 2 working hours: Sat 10 Oct is a make-up workday -> 10 Oct 10:00
    assert add_working_seconds(ts(2026, 10, 9, 17), 2 * HOUR) == ts(2026, 10, 10, 10)
    # the lunch break does not count
    assert working_seconds_between(ts(2026, 10, 9, 11), ts(2026, 10, 9, 14)) == 2 * HOUR


def test_working_time_across_spring_festival_and_a_year_boundary() -> None:
    # Fri 13 Feb 2026 17:00 + 2 working hours: Sat 14 Feb is a make-up workday
    assert add_working_seconds(ts(2026, 2, 13, 17), 2 * HOUR) == ts(2026, 2, 14, 10)
    # Sat 14 Feb 18:00 + 1 working hour: 15-23 Feb rest -> Tue 24 Feb 10:00
    assert add_working_seconds(ts(2026, 2, 14, 18), HOUR) == ts(2026, 2, 24, 10)
    # Wed 31 Dec 2025 17:00 + 2 working hours: 1 Jan 2026 is a holiday -> Fri 2 Jan? (holiday too) -> 5 Jan
    got = add_working_seconds(ts(2025, 12, 31, 17), 2 * HOUR)
    import chinese_calendar as cc

    day = dt.datetime.fromtimestamp(got, LOCAL).date()
    assert cc.is_workday(day) and day > dt.date(2025, 12, 31)
    assert all(
        not cc.is_workday(dt.date(2026, 1, 1) + dt.timedelta(d))
        for d in range((day - dt.date(2026, 1, 1)).days)
    )


# --- KPIs against hand-computed cases ----------------------------------------------------------------------

OPEN = ts(2026, 9, 7, 10)  # a Monday


def case(cid: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": cid,
        "channel": "hotline",
        "problem_id": 1,
        "township_code": 532503001,
        "community_code": None,
        "grid_id": None,
        "lon": None,
        "lat": None,
        "dept_id": 5,
        "person_id": None,
        "case_class": "help",
        "opened_at": OPEN,
        "sign_due_at": OPEN + 2 * HOUR,
        "signed_at": OPEN + HOUR,
        "close_due_at": ts(2026, 9, 14, 10),
        "closed_at": None,
        "analysis_at": OPEN + HOUR,
        "response_at": None,
        "evaluation_at": None,
        "feedback_at": None,
        "optimization_at": None,
        "stage": "analysis",
        "emergency": False,
        "reopen_count": 0,
        "transfer_count": 0,
        "dept_count": 1,
        "has_lead": True,
        "deferred_s": 0,
        "return_visit": False,
        "satisfaction": None,
        "priority": 50.0,
        "priority_model": "rules-v1",
        "row_version": 1,
    }
    row.update(kw)
    return row


def closed(cid: int, at: int, **kw: Any) -> dict[str, Any]:
    base = dict(
        response_at=OPEN + 3 * HOUR,
        evaluation_at=at - 2 * HOUR,
        feedback_at=at - HOUR,
        closed_at=at,
        stage="closed",
    )
    base.update(kw)
    return case(cid, **base)


HAND = [
    # 1 closed on time, visited, satisfied
    closed(1, ts(2026, 9, 10, 10), return_visit=True, satisfaction="satisfied"),
    # 2 closed late (after its due), visited, dissatisfied, reopened once and closed again
    closed(2, ts(2026, 9, 16, 10), return_visit=True, satisfaction="dissatisfied", reopen_count=1),
    # 3 deferred (approved), still open in response: out of the denominator
    case(
        3,
        deferred_s=24 * HOUR,
        close_due_at=ts(2026, 9, 17, 10),
        response_at=OPEN + 5 * HOUR,
        stage="response",
    ),
    # 4 deferred and closed on time within the extended due: counted
    closed(4, ts(2026, 9, 16, 9), deferred_s=24 * HOUR, close_due_at=ts(2026, 9, 17, 10)),
    # 5 emergency: skipped analysis, closed on time, signed late
    closed(
        5, ts(2026, 9, 8, 10), emergency=True, analysis_at=None, signed_at=OPEN + 3 * HOUR, case_class="alarm"
    ),
    # 6 ping-pong: passed between 3 departments with no lead, responded, never evaluated
    case(6, transfer_count=4, dept_count=3, has_lead=False, response_at=OPEN + 6 * HOUR, stage="response"),
    # 7 transferred once, evaluated, not fed back
    case(
        7,
        transfer_count=1,
        dept_count=2,
        response_at=OPEN + 6 * HOUR,
        evaluation_at=OPEN + 30 * HOUR,
        stage="evaluation",
    ),
    # 8 reopened three times, closed on time, basically satisfied
    closed(8, ts(2026, 9, 11, 10), reopen_count=3, return_visit=True, satisfaction="basic"),
]


def hand_totals() -> dict[str, int]:
    measures, _ = loop.contributions(loop._frame(HAND))
    return {c: int(measures[c].sum()) for c in loop.COUNTS}


def test_every_kpi_by_hand() -> None:
    k = {x.key: x for x in loop.kpis_of(hand_totals())}
    # due = 8 cases - 1 deferred open (3) = 7; closed = 1,2,4,5,8 = 5; on time = 1,4,5,8 = 4
    assert (k["closure"].numerator, k["closure"].denominator) == (5, 7)
    assert (k["on_time"].numerator, k["on_time"].denominator) == (4, 7)
    # signed within 2 working hours: all but 5
    assert (k["sign_on_time"].numerator, k["sign_on_time"].denominator) == (7, 8)
    # responded: all but none? every case except none in analysis -> 1,2,3,4,5,6,7,8 = 8; evaluated = 1,2,4,5,7,8
    assert (k["evaluation"].numerator, k["evaluation"].denominator) == (6, 8)
    # fed back: 1,2,4,5,8 of the 6 evaluated
    assert (k["feedback"].numerator, k["feedback"].denominator) == (5, 6)
    assert (k["return_visit"].numerator, k["return_visit"].denominator) == (3, 5)
    assert (k["satisfaction"].numerator, k["satisfaction"].denominator) == (2, 3)
    # escalate: 6 (three departments, no lead) and 8 (reopened three times)
    assert (k["escalate"].numerator, k["escalate"].denominator) == (2, 8)
    assert k["closure"].value == pytest.approx(5 / 7)
    assert loop.kpis_of(dict.fromkeys(loop.COUNTS, 0))[0].value is None  # no cases: no rate, not 0


def test_stage_durations_by_hand() -> None:
    _, durs = loop.contributions(loop._frame([HAND[0]]))
    got = dict(zip(durs["stage"].to_list(), durs["bucket"].to_list(), strict=True))
    # monitoring 1 h -> bucket (0.5, 1]; response Mon 13:00 -> Thu 08:00 = 8+8+8-... working hours
    assert got["monitoring"] == 1
    assert set(got) == {"monitoring", "analysis", "response", "evaluation", "feedback"}
    # the emergency case has no analysis span
    _, durs5 = loop.contributions(loop._frame([HAND[4]]))
    assert "analysis" not in durs5["stage"].to_list()


# --- the rollup stays equal to a recount ------------------------------------------------------------------


def _table(conn: Any, t: Any, keys: tuple[str, ...]) -> pl.DataFrame:
    rows = [dict(r._mapping) for r in conn.execute(select(t))]
    f = pl.DataFrame(rows, orient="row", infer_schema_length=None)
    return f.with_columns(
        pl.col(c).cast(pl.Int64)
        for c in f.columns
        if c not in ("stage", "case_class", "channel", "emergency")
    ).sort(list(keys))


def test_rollup_equals_a_recount_after_rollup_move_deltas(pool_url: str) -> None:
    eng = create_engine(pool_url)
    with eng.connect() as conn:
        trans = conn.begin()
        try:
            # insert the hand cases, change some, delete one: each through rollup_move
            for row in HAND:
                r = {**row, "id": 10_000_000 + row["id"]}
                conn.execute(insert(case_item).values(r))
                loop.rollup_move(conn, None, r)
            before = {**HAND[2], "id": 10_000_003}
            after = {**before, "stage": "evaluation", "evaluation_at": OPEN + 40 * HOUR, "row_version": 2}
            conn.execute(case_item.update().where(case_item.c.id == 10_000_003).values(after))
            loop.rollup_move(conn, before, after)
            gone = {**HAND[5], "id": 10_000_006}
            conn.execute(delete(case_item).where(case_item.c.id == 10_000_006))
            loop.rollup_move(conn, gone, None)
            roll, dur = loop.recount(conn)
            stored = _table(conn, case_rollup, loop.KEYS)
            stored_dur = _table(conn, case_rollup_dur, loop.DUR_KEYS)
        finally:
            trans.rollback()
    eng.dispose()
    want = roll.with_columns(
        pl.col(c).cast(pl.Int64)
        for c in roll.columns
        if c not in ("stage", "case_class", "channel", "emergency")
    ).sort(list(loop.KEYS))
    assert stored.select(want.columns).equals(want)
    want_dur = dur.with_columns(pl.col(c).cast(pl.Int64) for c in dur.columns if c != "stage").sort(
        list(loop.DUR_KEYS)
    )
    assert stored_dur.select(want_dur.columns).equals(want_dur)
    assert (stored["n"] > 0).all()


# --- the reads on the real pools ---------------------------------------------------------------------------


def _window() -> tuple[int, int]:
    ms = loop.months()
    return ms[0], ms[-1]


def _seeded(pool_url: str, defect: str) -> list[int]:
    eng = create_engine(pool_url)
    with eng.connect() as conn:
        ids = [
            int(r[0])
            for r in conn.execute(
                select(seed_case_defect.c.case_id)
                .where(seed_case_defect.c.defect == defect)
                .order_by(seed_case_defect.c.case_id)
            )
        ]
    eng.dispose()
    return ids


@pytest.mark.parametrize("kind", ["never_evaluated", "never_fed_back", "stuck"])
def test_the_funnel_finds_exactly_the_injected_stops(pool: str, kind: str) -> None:
    a, b = _window()
    as_of = meta.pool_status().as_of
    got = loop.stopped(scope=CITY_SCOPE, as_of=as_of, kind=kind, month_from=a, month_to=b)
    assert got["id"].to_list() == _seeded(pool, kind)
    assert got.height > 0
    frame, stops = loop.funnel(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    assert stops[kind] == got.height
    assert frame["n"].to_list() == sorted(frame["n"].to_list(), reverse=True)  # each stage <= the last


def test_rollup_totals_match_the_cases(pool: str) -> None:
    a, b = _window()
    t = loop.totals(scope=CITY_SCOPE, month_from=a, month_to=b)
    eng = create_engine(pool)
    with eng.connect() as conn:
        n = conn.execute(select(case_item.c.id)).all()
    eng.dispose()
    assert t["n"] == len(n) > 1000
    # signed late, or still unsigned past the due time = exactly the injected late sign-fors
    as_of = meta.pool_status().as_of
    waiting = loop.overdue(scope=CITY_SCOPE, as_of=as_of, clock="sign", limit=100_000)
    assert waiting.height > 0
    seeded = set(_seeded(pool, "overdue_sign"))
    assert set(waiting["id"].to_list()) <= seeded
    assert t["n_signed"] - t["n_signed_on_time"] + waiting.height == len(seeded)


def test_overdue_lists_count_working_time(pool: str) -> None:
    as_of = meta.pool_status().as_of
    close = loop.overdue(scope=CITY_SCOPE, as_of=as_of, clock="close")
    assert close.height > 0
    assert (close["due_at"] < as_of).all() and (close["overdue_wh"] > 0).all()
    row = close.row(0, named=True)
    assert row["overdue_wh"] == pytest.approx(working_seconds_between(row["due_at"], as_of) / HOUR, abs=0.05)
    counts = loop.overdue_counts(scope=CITY_SCOPE, as_of=as_of)
    assert counts["close"] >= close.height and counts["open"] >= counts["close"]
    # every stopped (injected) case is open past its closure due time
    stuck = set(_seeded(pool, "never_evaluated"))
    full = set(loop.overdue(scope=CITY_SCOPE, as_of=as_of, clock="close", limit=100_000)["id"].to_list())
    assert stuck <= full


def test_urgent_lists_overdue_first_then_by_priority(pool: str) -> None:
    as_of = meta.pool_status().as_of
    top = loop.urgent(scope=CITY_SCOPE, as_of=as_of, limit=20)
    assert top.height == 20
    assert top.schema["overdue"] == pl.Boolean and top.schema["priority"] == pl.Float64
    n_late = loop.overdue_counts(scope=CITY_SCOPE, as_of=as_of)["close"]
    assert top["overdue"].to_list() == [True] * min(20, n_late) + [False] * max(0, 20 - n_late)
    assert ((top["due_at"] < as_of) == top["overdue"]).all()
    late = top.filter(pl.col("overdue"))["priority"].fill_null(-1.0).to_list()
    assert late == sorted(late, reverse=True)
    # the highest-priority overdue case of all, by hand
    eng = create_engine(pool)
    with eng.connect() as conn:
        best = conn.execute(
            select(case_item.c.priority)
            .where(case_item.c.closed_at.is_(None), case_item.c.close_due_at < as_of)
            .order_by(case_item.c.priority.desc().nulls_last())
            .limit(1)
        ).scalar_one()
        d = int(top["dept_id"][0])
    eng.dispose()
    assert top["priority"][0] == best
    head = loop.urgent(scope=Scope(None, d, 2), as_of=as_of)
    assert head.height > 0 and set(head["dept_id"].to_list()) == {d}
    assert loop.urgent(scope=CITY_SCOPE, as_of=as_of, limit=10**6).height == loop.URGENT_MAX


def test_rankings_hold_back_small_samples(pool: str) -> None:
    a, b = _window()
    r = loop.rankings(scope=CITY_SCOPE, by="dept", month_from=a, month_to=b, min_sample=100)
    ranked = r.filter(pl.col("rank").is_not_null())
    assert (ranked["n"] >= 100).all() and (r.filter(pl.col("rank").is_null())["n"] < 100).all()
    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    assert ranked["on_time"].to_list() == sorted(ranked["on_time"].to_list(), reverse=True)
    towns = loop.rankings(scope=CITY_SCOPE, by="township", month_from=a, month_to=b)
    assert towns["n"].sum() == loop.totals(scope=CITY_SCOPE, month_from=a, month_to=b)["n"]
    with pytest.raises(ValueError):
        loop.rankings(scope=CITY_SCOPE, by="nope", month_from=a, month_to=b)


def test_every_injected_hotspot_is_flagged(pool: str) -> None:
    a, b = _window()
    hs = loop.hotspots(scope=CITY_SCOPE, month_from=a, month_to=b)
    injected = set(_seeded(pool, "hotspot"))
    eng = create_engine(pool)
    with eng.connect() as conn:
        rows = conn.execute(
            select(case_item.c.id, case_item.c.problem_id, case_item.c.community_code).where(
                case_item.c.id.in_(injected)
            )
        ).all()
    eng.dispose()
    clusters: dict[tuple[int, int], int] = {}
    for _, p, c in rows:
        clusters[(int(p), int(c))] = clusters.get((int(p), int(c)), 0) + 1
    flagged = {
        (int(p), int(c)): int(n) for p, c, n in hs.select("problem_id", "community_code", "n").iter_rows()
    }
    assert clusters and all(flagged.get(k, 0) >= n for k, n in clusters.items())
    assert (hs["n"] >= loop.HOTSPOT_MIN).all()


def test_hotspots_by_brute_force(pool: str) -> None:
    """Every (problem, community) pair's busiest window counted by hand, case by case."""
    a, b = _window()
    lo, hi = loop._month_bounds(a, b)
    hs = loop.hotspots(scope=CITY_SCOPE, month_from=a, month_to=b)
    eng = create_engine(pool)
    with eng.connect() as conn:
        rows = conn.execute(
            select(case_item.c.id, case_item.c.problem_id, case_item.c.community_code, case_item.c.township_code,
                   case_item.c.opened_at)
            .where(case_item.c.opened_at >= lo, case_item.c.opened_at < hi, case_item.c.community_code.is_not(None))
            .order_by(case_item.c.opened_at, case_item.c.id)
        ).all()  # fmt: skip
    eng.dispose()
    pairs: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for cid, p, c, town, at in rows:
        pairs.setdefault((int(p), int(c)), []).append((int(at), int(cid), int(town)))
    want = {}
    width = loop.HOTSPOT_DAYS * 86_400
    for key, cases in pairs.items():
        n, first = max(((sum(1 for t, _, _ in cases if s0 <= t < s0 + width), -s0) for s0, _, _ in cases))
        if n >= loop.HOTSPOT_MIN:
            ids = [cid for t, cid, _ in cases if -first <= t < -first + width]
            want[key] = (n, -first, cases[0][2], ids[: loop.HOTSPOT_IDS])
    got = {
        (r["problem_id"], r["community_code"]): (r["n"], r["first_at"], r["township_code"], r["case_ids"])
        for r in hs.iter_rows(named=True)
    }
    assert want and got == want


def test_scope_keeps_a_department_head_to_their_cases(pool: str) -> None:
    a, b = _window()
    as_of = meta.pool_status().as_of
    depts = loop.rankings(scope=CITY_SCOPE, by="dept", month_from=a, month_to=b)
    d = int(depts["unit"][0])
    head = Scope(None, d, 2)
    assert loop.totals(scope=head, month_from=a, month_to=b)["n"] == int(depts["n"][0])
    pts = loop.map_points(scope=head, as_of=as_of, month_from=a, month_to=b)
    allpts = loop.map_points(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    assert 0 < pts.height < allpts.height
    assert set(allpts["state"].unique().to_list()) <= set(loop.OVERDUE_STATES)


def test_the_generator_writes_every_defect_kind(pool: str) -> None:
    eng = create_engine(pool)
    with eng.connect() as conn:
        kinds = {r[0] for r in conn.execute(select(seed_case_defect.c.defect).distinct())}
    eng.dispose()
    assert kinds == {
        "never_evaluated",
        "never_fed_back",
        "stuck",
        "ping_pong",
        "hotspot",
        "overdue_sign",
        "overdue_close",
    }


def test_map_cells_count_every_open_case_once(pool: str) -> None:
    a, b = _window()
    as_of = meta.pool_status().as_of
    pts = loop.map_points(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    cells = loop.map_cells(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    counts = loop.state_counts(pts)
    assert int(cells["n"].sum()) == pts.height == sum(counts.values()) > 0
    assert {s: int(cells[s].sum()) for s in loop.OVERDUE_STATES} == counts
    assert cells.height < pts.height  # cells gather neighbouring cases
    layer = loop.map_layer(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    assert layer.counts == counts
    if pts.height > loop.MAP_POINTS_MAX:
        assert not layer.clustered and layer.frame.equals(cells)
    else:
        assert layer.clustered and layer.frame.equals(pts)


def test_map_layer_switches_to_cells_above_the_point_limit(pool: str, monkeypatch: Any) -> None:
    a, b = _window()
    as_of = meta.pool_status().as_of
    pts = loop.map_points(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
    for limit, clustered in ((pts.height, True), (pts.height - 1, False)):
        monkeypatch.setattr(loop, "MAP_POINTS_MAX", limit)
        layer = loop.map_layer.__wrapped__(scope=CITY_SCOPE, as_of=as_of, month_from=a, month_to=b)
        assert layer.clustered is clustered
        n = layer.frame.height if clustered else int(layer.frame["n"].sum())
        assert n == pts.height > 0


def test_every_case_log_starts_with_its_one_open_event(pool: str) -> None:
    """No case opens after the pool's clock, and each case's event log (by time, then id, as the case page
    reads it) starts with exactly one open event at the case's opened_at."""
    from queries.tables import case_event

    as_of = meta.pool_status().as_of
    eng = create_engine(pool)
    with eng.connect() as conn:
        opened = dict(conn.execute(select(case_item.c.id, case_item.c.opened_at)).all())
        events = conn.execute(
            select(case_event.c.case_id, case_event.c.kind, case_event.c.at).order_by(
                case_event.c.case_id, case_event.c.at, case_event.c.id
            )
        ).all()
    eng.dispose()
    assert opened and max(opened.values()) <= as_of
    first: dict[int, tuple[str, int]] = {}
    n_open: dict[int, int] = {}
    for cid, kind, at in events:
        first.setdefault(cid, (kind, at))
        n_open[cid] = n_open.get(cid, 0) + (kind == "open")
    assert set(first) == set(opened)  # every case has a log
    assert {cid for cid, (kind, at) in first.items() if kind != "open" or at != opened[cid]} == set()
    assert set(n_open.values()) == {1}
