"""Generator part: closed-loop cases and their event logs, with the paper's failures injected and recorded.

Cases arrive through five channels (12345 hotline, take-a-photo reports, grid inspectors, IoT alarms and
data-driven alerts of the pool), follow their problem type's process and owner from the Three Lists, and
run monitoring - analysis - response - evaluation - feedback - (optimization) - closed in working time
(queries/worktime.py). Everything is drawn as numpy arrays, one column at a time (no loop per case).

Normal cases never spend more than `NORMAL_STAGE_MAX_WH` working hours in one stage, so a case sitting in
a stage for `queries.loop.STALL_DAYS` days is exactly an injected failure: `seed_case_defect` says which.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, Table, select

from queries import loop
from queries import priority as prio
from queries.generate.parts import BuildContext, Part
from queries.tables import (
    CASE_TABLES,
    case_event,
    case_item,
    community,
    grid_cell,
    lists_duty,
    lists_problem,
    lists_step,
    lists_step_duty,
    person,
    seed_case_defect,
    township,
)
from queries.timebase import DAY, TZ
from queries.worktime import HOUR, WorkClock

SCALE_CASES = {"test": 2_400, "demo": 60_000, "full": 340_000}
# injected failures per scale: hotspot clusters (problem type x community within HOTSPOT_DAYS)
SCALE_HOTSPOTS = {"test": 4, "demo": 25, "full": 80}
HOTSPOT_CASES = 8  # injected cases per hotspot, on top of what the place already has
NORMAL_STAGE_MAX_WH = 60  # working hours: 7.5 working days, well under STALL_DAYS calendar days
CHUNK = 50_000

# problem channel in the lists -> case channel
_CHANNEL = {
    "hotline": "hotline",
    "petition": "hotline",
    "photo": "photo",
    "grid": "grid",
    "iot": "iot",
    "border": "pool_alert",
    "quality": "pool_alert",
}


def _problems(conn: Connection) -> pl.DataFrame:
    lead = (
        select(lists_step.c.problem_id, lists_duty.c.dept_id, lists_duty.c.person_id)
        .join(lists_step_duty, lists_step_duty.c.step_id == lists_step.c.id)
        .join(lists_duty, lists_duty.c.id == lists_step_duty.c.duty_id)
        .where(lists_step_duty.c.role == "lead", lists_step.c.stage == "response")
        .order_by(lists_step.c.problem_id, lists_step.c.seq, lists_duty.c.id)
    )
    leads: dict[int, tuple[int, int]] = {}
    for pid, dept, pers in conn.execute(lead):
        leads.setdefault(int(pid), (int(dept), int(pers)))
    heads: dict[int, int] = {}
    for pid, dept in conn.execute(select(person.c.id, person.c.department_id).order_by(person.c.id)):
        heads.setdefault(int(dept), int(pid))
    rows = []
    q = select(
        lists_problem.c.id,
        lists_problem.c.channel,
        lists_problem.c.severity,
        lists_problem.c.yearly_volume,
        lists_problem.c.owner_dept_id,
    ).order_by(lists_problem.c.id)
    for pid, channel, severity, volume, owner in conn.execute(q):
        dept, pers = leads.get(int(pid), (int(owner), heads.get(int(owner), 0)))
        rows.append((int(pid), _CHANNEL.get(str(channel), "hotline"), int(severity), int(volume), dept, pers))
    return pl.DataFrame(
        rows, schema=["id", "channel", "severity", "volume", "dept_id", "person_id"], orient="row"
    )


def _case_class(rng: np.random.Generator, channel: np.ndarray, severity: np.ndarray) -> np.ndarray:
    n = len(channel)
    u = rng.random(n)
    hot = np.where(u < 0.45, "enquiry", np.where(u < 0.78, "help", "complaint"))
    out = np.where(channel == "hotline", hot, "report")
    out = np.where(channel == "iot", "alarm", out)
    out = np.where((channel == "pool_alert") & (severity >= 3), "alarm", out)
    return out.astype(object)


def plan(conn: Connection, ctx: BuildContext) -> dict[str, pl.DataFrame]:
    """Every case, event and injected failure of the pool: a pure function of the random stream."""
    rng = ctx.rng
    probs = _problems(conn)
    n = SCALE_CASES[ctx.scale]
    towns = conn.execute(select(township.c.code, township.c.lat, township.c.lon, township.c.urban)).all()
    comms = conn.execute(select(community.c.code, community.c.township_code, community.c.population)).all()
    grids = conn.execute(select(grid_cell.c.id, grid_cell.c.community_code)).all()
    t_ll = {int(t[0]): (float(t[1]), float(t[2]), bool(t[3])) for t in towns}
    c_code = np.array([c[0] for c in comms], dtype=np.int64)
    c_town = np.array([c[1] for c in comms], dtype=np.int64)
    c_pop = np.array([c[2] for c in comms], dtype=float) + 50
    g_by_c: dict[int, list[int]] = {}
    for gid, cc in grids:
        g_by_c.setdefault(int(cc), []).append(int(gid))

    # when: days of the window weighted to workdays, hours to office time
    clock = WorkClock(ctx.first_day - 1, ctx.last_day + 120)
    days = np.arange(ctx.first_day, ctx.last_day + 1)
    w_day = np.where(clock.work[days - clock.first_day], 1.0, 0.45)
    day = rng.choice(days, n, p=w_day / w_day.sum())
    hour_w = np.array(
        [1, 0.5, 0.5, 0.5, 0.5, 1, 2, 5, 11, 14, 14, 12, 6, 5, 11, 13, 12, 10, 5, 3, 2, 2, 1, 1.0]
    )
    sec = rng.choice(24, n, p=hour_w / hour_w.sum()) * HOUR + rng.integers(0, HOUR, n)
    opened = day * DAY - TZ + sec
    # the pool's clock stops at end_ts, part way through the last day: a case drawn later in that day is
    # moved into the half hour before it (just arrived, most not yet signed for), so no case opens after
    # the pool's as-of (its open event would fall outside the window and its log would not start with it)
    late = opened > ctx.end_ts
    opened = np.where(late, ctx.end_ts - 1 - (opened - ctx.end_ts) % (HOUR // 2), opened)

    # what and where
    vol = probs["volume"].to_numpy().astype(float)
    pi = rng.choice(len(vol), n, p=vol / vol.sum())
    ci = rng.choice(len(c_code), n, p=c_pop / c_pop.sum())
    problem_id = probs["id"].to_numpy()[pi]
    channel = probs["channel"].to_numpy()[pi].astype(object)
    severity = probs["severity"].to_numpy()[pi]
    dept = probs["dept_id"].to_numpy()[pi].astype(np.int64)
    pers = probs["person_id"].to_numpy()[pi].astype(np.int64)

    # recurring hotspots: one problem type in one community, many cases within the window
    hot = np.zeros(n, dtype=bool)
    per = HOTSPOT_CASES
    old = np.where(opened < ctx.end_ts - (loop.HOTSPOT_DAYS + 10) * DAY)[0]
    chosen = rng.choice(old, SCALE_HOTSPOTS[ctx.scale] * per, replace=False)
    for k in range(SCALE_HOTSPOTS[ctx.scale]):
        members = chosen[k * per : (k + 1) * per]
        lead_case = members[0]
        pi[members], ci[members] = pi[lead_case], ci[lead_case]
        opened[members] = opened[lead_case] + rng.integers(0, (loop.HOTSPOT_DAYS - 2) * DAY, len(members))
        hot[members] = True
    problem_id = probs["id"].to_numpy()[pi]
    channel = probs["channel"].to_numpy()[pi].astype(object)
    severity = probs["severity"].to_numpy()[pi]
    dept = probs["dept_id"].to_numpy()[pi].astype(np.int64)
    pers = probs["person_id"].to_numpy()[pi].astype(np.int64)
    comm = c_code[ci]
    town = c_town[ci]
    grid = np.zeros(n, dtype=np.int64)
    for c in np.unique(comm):
        idx = np.where(comm == c)[0]
        gl = g_by_c.get(int(c))
        grid[idx] = rng.choice(gl, len(idx)) if gl else 0
    lat0 = np.array([t_ll[int(t)][0] for t in town])
    lon0 = np.array([t_ll[int(t)][1] for t in town])
    spread = np.array([0.012 if t_ll[int(t)][2] else 0.04 for t in town])
    cjit = (comm % 997) / 997.0 - 0.5  # each community sits at its own spot around the seat
    lat = lat0 + cjit * spread * 2 + rng.normal(0, 0.004, n)
    lon = lon0 + ((comm // 7) % 991 / 991.0 - 0.5) * spread * 2 + rng.normal(0, 0.004, n)

    case_class = _case_class(rng, channel, severity)
    emergency = (case_class == "alarm") & (rng.random(n) < 0.15)
    sign_lim = np.array([loop.SLA_LIMITS[c].sign_hours for c in case_class]) * HOUR
    close_lim = np.array([loop.SLA_LIMITS[c].close_days for c in case_class]) * 8 * HOUR

    # injected failures (on cases old enough that a normal one would be long closed)
    u = rng.random(n)
    mature = (opened < ctx.end_ts - (loop.STALL_DAYS + 25) * DAY) & ~hot
    never_eval = mature & (u < 0.06)
    never_fb = mature & (u >= 0.06) & (u < 0.10)
    stuck = mature & (u >= 0.10) & (u < 0.11)
    ping = mature & (u >= 0.11) & (u < 0.12)
    late_sign = (u >= 0.12) & (u < 0.15)
    late_close = mature & (u >= 0.15) & (u < 0.20)

    # durations in working seconds
    def lognorm(median_h: float, sigma: float) -> np.ndarray:
        return np.clip(rng.lognormal(np.log(median_h), sigma, n), 0.05, NORMAL_STAGE_MAX_WH) * HOUR

    sign_d = np.minimum(lognorm(0.5, 0.8), sign_lim * 0.95)
    sign_d = np.where(late_sign, sign_lim + rng.uniform(0.5, 6, n) * HOUR, sign_d)
    ana_d = np.where(emergency, 0, lognorm(2.0, 0.7))
    resp_d = np.minimum(lognorm(1, 0.6) * (close_lim / HOUR) * 0.35, close_lim * 0.7)
    eval_d = lognorm(3.0, 0.6)
    fb_d = lognorm(2.0, 0.6)
    # deferrals: requested by some slow cases; approved ones push the close due time
    defer = (rng.random(n) < 0.05) & ~never_eval & ~never_fb & ~stuck
    approved = defer & (rng.random(n) < 0.8)
    deferred_s = np.where(approved, rng.choice([3, 5], n) * 8 * HOUR, 0).astype(np.int64)
    resp_d = np.where(approved, resp_d + deferred_s * 0.6, resp_d)
    late_extra = np.where(late_close, close_lim * rng.uniform(0.3, 0.6, n) + 8 * HOUR, 0)
    resp_d = resp_d + late_extra

    w0 = clock.elapsed(opened)
    sign_due = clock.at(w0 + sign_lim)
    close_due = clock.at(w0 + close_lim + deferred_s)
    w_sign = w0 + sign_d.astype(np.int64)
    w_ana = w_sign  # signing for a case starts its analysis
    w_resp = w_ana + ana_d.astype(np.int64)
    w_eval = w_resp + resp_d.astype(np.int64)
    w_fb = w_eval + eval_d.astype(np.int64)
    w_close = w_fb + fb_d.astype(np.int64)
    optimize = hot & (rng.random(n) < 0.3)
    w_opt = w_fb + (fb_d * 0.5).astype(np.int64)
    t = {
        k: clock.at(v) for k, v in dict(sign=w_sign, resp=w_resp, eval=w_eval, fb=w_fb, close=w_close).items()
    }
    t_ana = t["sign"]
    t_opt = clock.at(w_opt)
    end = ctx.end_ts
    signed_at = np.where(t["sign"] <= end, t["sign"], -1)
    analysis_at = np.where(~emergency & (t_ana <= end), t_ana, -1)
    response_at = np.where(t["resp"] <= end, t["resp"], -1)
    response_at = np.where(stuck, -1, response_at)
    evaluation_at = np.where((t["eval"] <= end) & ~never_eval & ~stuck, t["eval"], -1)
    feedback_at = np.where((t["fb"] <= end) & (evaluation_at >= 0) & ~never_fb, t["fb"], -1)
    optimization_at = np.where(optimize & (feedback_at >= 0) & (t_opt <= end), t_opt, -1)
    closed_at = np.where((t["close"] <= end) & (feedback_at >= 0), t["close"], -1)
    # late sign-fors of the last week are still waiting: open, unsigned, past their sign-for due time
    pending = late_sign & (opened > end - 7 * DAY) & (sign_due < end) & ~hot
    for a in (signed_at, analysis_at, response_at, evaluation_at, feedback_at, optimization_at, closed_at):
        a[pending] = -1
    stage = np.full(n, "monitoring", dtype=object)
    stage = np.where(signed_at >= 0, "analysis", stage)
    stage = np.where(response_at >= 0, "response", stage)
    stage = np.where(evaluation_at >= 0, "evaluation", stage)
    stage = np.where(feedback_at >= 0, "feedback", stage)
    stage = np.where(optimization_at >= 0, "optimization", stage)
    stage = np.where(closed_at >= 0, "closed", stage)

    # transfers: some cases move once; ping-pong ones pass between three departments with no lead
    transfer_once = (rng.random(n) < 0.07) & ~ping
    transfer_count = np.where(ping, rng.integers(3, 6, n), np.where(transfer_once, 1, 0))
    dept_count = np.where(ping, 3, np.where(transfer_once, 2, 1))
    has_lead = ~ping
    # return visits to about 15% of closed cases; a dissatisfied visit sometimes reopens the case
    first_close = closed_at.copy()
    visit = (closed_at >= 0) & (closed_at + 3 * DAY <= end) & (rng.random(n) < 0.15)
    su = rng.random(n)
    sat = np.where(su < 0.72, "satisfied", np.where(su < 0.9, "basic", "dissatisfied"))
    satisfaction = np.where(visit, sat.astype(object), np.array(None, dtype=object))
    # a dissatisfied reporter sometimes reopens the case: back to response, evaluated, fed back, closed again
    reopened = visit & (sat == "dissatisfied") & (rng.random(n) < 0.5) & ~hot
    reopen_count = reopened.astype(np.int64)
    t_reopen = first_close + 3 * DAY + 600
    t_eval2, t_fb2, t_close2 = t_reopen + DAY, t_reopen + DAY + DAY // 2, t_reopen + 2 * DAY
    closed_at = np.where(reopened, np.where(t_close2 <= end, t_close2, -1), closed_at)
    stage = np.where(reopened & (closed_at < 0), "response", stage)
    stage = np.where(reopened & (closed_at < 0) & (t_eval2 <= end), "evaluation", stage)
    stage = np.where(reopened & (closed_at < 0) & (t_fb2 <= end), "feedback", stage)

    ids = np.arange(1, n + 1, dtype=np.int64)
    order = np.argsort(opened, kind="stable")
    cid = np.empty(n, dtype=np.int64)
    cid[order] = ids  # case ids in opening order

    def nullable(a: np.ndarray) -> pl.Series:
        return pl.Series(a.astype(np.int64)).replace(-1, None)

    rng.uniform(0, 40, n)  # the draw the first, random priority took: kept, so the stream after is unchanged
    # the documented priority model (queries/priority.py), so /case explains exactly the stored score
    prio_score = prio.score_arrays(
        severity=severity,
        emergency=emergency,
        case_class=case_class.astype(str),
        reopen_count=reopen_count,
        transfer_count=transfer_count,
    )
    cases = pl.DataFrame(
        {
            "id": cid,
            "channel": channel.astype(str),
            "problem_id": problem_id,
            "township_code": town,
            "community_code": comm,
            "grid_id": grid,
            "lon": lon,
            "lat": lat,
            "dept_id": dept,
            "person_id": pers,
            "case_class": case_class.astype(str),
            "opened_at": opened,
            "sign_due_at": sign_due,
            "signed_at": nullable(signed_at),
            "close_due_at": close_due,
            "closed_at": nullable(closed_at),
            "analysis_at": nullable(analysis_at),
            "response_at": nullable(response_at),
            "evaluation_at": nullable(evaluation_at),
            "feedback_at": nullable(feedback_at),
            "optimization_at": nullable(optimization_at),
            "stage": stage.astype(str),
            "emergency": emergency,
            "reopen_count": reopen_count,
            "transfer_count": transfer_count,
            "dept_count": dept_count,
            "has_lead": has_lead,
            "deferred_s": deferred_s,
            "return_visit": visit,
            "satisfaction": pl.Series(satisfaction.tolist(), dtype=pl.String),
            "priority": prio_score,
            "priority_model": np.full(n, prio.MODEL_VERSION),
            "row_version": np.ones(n, dtype=np.int64),
        }
    ).sort("id")

    # the event log: one array per kind of event, stacked and sorted by case and time
    ev: list[pl.DataFrame] = []

    def add(
        mask: np.ndarray, at: np.ndarray, kind: str, frm: Any, to: Any, detail: str | None = None
    ) -> None:
        idx = np.where(mask)[0]
        if not len(idx):
            return

        def pick(v: Any) -> list[Any]:
            out = np.asarray(v, dtype=object)[idx] if isinstance(v, np.ndarray) else [v] * len(idx)
            return list(out)

        ev.append(
            pl.DataFrame(
                {
                    "case_id": cid[idx],
                    "at": at[idx].astype(np.int64),
                    "kind": np.full(len(idx), kind),
                    "from_stage": pl.Series(pick(frm), dtype=pl.String),
                    "to_stage": pl.Series(pick(to), dtype=pl.String),
                    "from_dept": pl.Series([None] * len(idx), dtype=pl.Int64),
                    "to_dept": pl.Series(dept[idx], dtype=pl.Int64),
                    "person_id": pers[idx],
                    "detail": pl.Series(np.full(len(idx), detail, dtype=object), dtype=pl.String),
                }
            )
        )

    every = np.ones(n, dtype=bool)
    add(every, opened, "open", None, "monitoring", json.dumps({"channel": "generated"}))
    add(signed_at >= 0, signed_at, "sign", "monitoring", "analysis")
    add(
        emergency & (response_at >= 0),
        response_at,
        "emergency_skip",
        "analysis",
        "response",
        '{"skipped":"analysis"}',
    )
    add(~emergency & (response_at >= 0), response_at, "advance", "analysis", "response")
    add(evaluation_at >= 0, evaluation_at, "evaluate", "response", "evaluation")
    add(feedback_at >= 0, feedback_at, "feedback", "evaluation", "feedback")
    add(optimization_at >= 0, optimization_at, "advance", "feedback", "optimization")
    prev = np.where(optimization_at >= 0, "optimization", "feedback").astype(object)
    add(first_close >= 0, first_close, "close", prev, "closed")
    add(defer & (signed_at >= 0), np.maximum(signed_at, 0) + 3600, "defer_request", "analysis", "analysis")
    add(
        approved & (signed_at >= 0),
        np.maximum(signed_at, 0) + 7200,
        "defer_decision",
        None,
        None,
        '{"approved":true}',
    )
    add(
        defer & ~approved & (signed_at >= 0),
        np.maximum(signed_at, 0) + 7200,
        "defer_decision",
        None,
        None,
        '{"approved":false}',
    )
    add(transfer_once & (signed_at >= 0), np.maximum(signed_at, 0) + 600, "transfer", "analysis", "analysis")
    for k in range(5):
        add(
            ping & (transfer_count > k) & (signed_at >= 0),
            np.maximum(signed_at, 0) + 900 * (k + 1),
            "transfer",
            "analysis",
            "analysis",
        )
    add(
        ping & (transfer_count >= 3) & (signed_at >= 0),
        np.maximum(signed_at, 0) + 6000,
        "escalate",
        "analysis",
        "analysis",
    )
    add(visit, first_close + 3 * DAY, "return_visit", "closed", "closed")
    add(reopened, t_reopen, "reopen", "closed", "response")
    add(reopened, t_eval2, "evaluate", "response", "evaluation")
    add(reopened, t_fb2, "feedback", "evaluation", "feedback")
    add(reopened, t_close2, "close", "feedback", "closed")
    events = pl.concat(ev).filter(pl.col("at") <= end).sort("case_id", "at", maintain_order=True)
    events = events.with_columns(pl.int_range(1, events.height + 1, dtype=pl.Int64).alias("id"))

    defect = {
        "never_evaluated": never_eval & (response_at >= 0),
        "never_fed_back": never_fb & (evaluation_at >= 0),
        "stuck": stuck & (signed_at >= 0),
        "ping_pong": ping,
        "hotspot": hot,
        "overdue_sign": late_sign & ((signed_at >= 0) | pending),
        "overdue_close": late_close & (first_close >= 0) & (first_close > close_due),
    }
    seeds = pl.concat(
        [
            pl.DataFrame({"case_id": np.sort(cid[m]), "defect": np.full(int(m.sum()), k)})
            for k, m in defect.items()
        ]
    )
    return {"case_item": cases, "case_event": events, "seed_case_defect": seeds}


def bulk(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Many rows at once: COPY on PostgreSQL, executemany on SQLite."""
    names = [c.name for c in table.columns if c.name in frame.columns]
    frame = frame.select(names)
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(copy_sql) as cp:
            for lo in range(0, frame.height, CHUNK):
                buf = io.BytesIO()
                frame.slice(lo, CHUNK).write_csv(buf, include_header=False)
                cp.write(buf.getvalue())
        return
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cur = raw.cursor()
    for lo in range(0, frame.height, CHUNK):
        cur.executemany(sql, frame.slice(lo, CHUNK).iter_rows())


def build(conn: Connection, ctx: BuildContext) -> None:
    frames = plan(conn, ctx)
    bulk(conn, case_item, frames["case_item"])
    bulk(conn, case_event, frames["case_event"])
    bulk(conn, seed_case_defect, frames["seed_case_defect"])
    loop.rebuild_rollup(conn)


PART = Part("cases", CASE_TABLES, build)
