"""Generator part: the digital-divide inputs per township and quarter, and the offline service counters.

Realistic rather than random: the latest quarter's share of residents online is the township's rate in
reference.py (urban sub-districts 0.78-0.88, near CNNIC's urban benchmark; the remote Miao townships
0.47-0.49, well below the rural one), and earlier quarters are lower by a yearly growth that is faster
in the countryside. The other indicators follow a township's remoteness with small noise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select

from queries.generate import reference as ref
from queries.generate.parts import BuildContext, Part
from queries.tables import community, divide_counter, divide_counter_visit, divide_indicator

EPOCH = dt.date(1970, 1, 1)
GROWTH = {True: 0.012, False: 0.025}  # yearly gain in the share online, urban / rural
TRAINEES_PER_SESSION = (18, 35)


def quarters(first_day: int, last_day: int) -> list[tuple[str, int, int]]:
    """(label, first day, last day) of each calendar quarter the window touches, clipped to it."""
    out = []
    d = EPOCH + dt.timedelta(days=first_day)
    start = dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    while (start - EPOCH).days <= last_day:
        nxt = dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
        lo = max(first_day, (start - EPOCH).days)
        hi = min(last_day, (nxt - EPOCH).days - 1)
        out.append((f"{start.year}Q{(start.month - 1) // 3 + 1}", lo, hi))
        start = nxt
    return out


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return float(min(hi, max(lo, x)))


def indicator_rows(rng: np.random.Generator, periods: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    rows = []
    towns = ref.townships()
    rates = np.array([t.internet_rate for t in towns])
    top, bottom = float(rates.max()), float(rates.min())
    last_mid = (periods[-1][1] + periods[-1][2]) / 2
    for t in towns:
        remote = (top - t.internet_rate) / (top - bottom)  # 0 = city centre, 1 = the remotest township
        ethnic = t.kind == "ethnic_township"
        base = {
            "aged65": 0.095 + 0.08 * remote + rng.normal(0, 0.006),
            "minority": (0.82 if ethnic else 0.36 + 0.3 * remote) + rng.normal(0, 0.02),
            "low_edu": 0.16 + 0.38 * remote + rng.normal(0, 0.015),
            "dibao": 0.015 + 0.075 * remote + rng.normal(0, 0.004),
            "bb_cov": 0.995 - 0.32 * remote**1.3 + rng.normal(0, 0.01),
            "mob_cov": 0.998 - 0.11 * remote + rng.normal(0, 0.005),
            "mbps": 240 - 185 * remote + rng.normal(0, 8),
            "sessions": 3 + 14 * remote,
        }
        for label, lo, hi in periods:
            years_back = (last_mid - (lo + hi) / 2) / 365.25
            online = _clip(t.internet_rate - GROWTH[t.urban] * years_back + rng.normal(0, 0.004))
            sessions = int(rng.poisson(base["sessions"] * (hi - lo + 1) / 91))
            rows.append(
                {
                    "township_code": t.code,
                    "period": label,
                    "first_day": lo,
                    "last_day": hi,
                    "population": round(t.population * (1 + rng.normal(0, 0.004))),
                    "internet_rate": round(online, 4),
                    "household_broadband": round(
                        _clip(online * (0.93 if t.urban else 0.72) + rng.normal(0, 0.01)), 4
                    ),
                    "broadband_coverage": round(_clip(base["bb_cov"] + 0.02 * -years_back), 4),
                    "mobile_coverage": round(_clip(base["mob_cov"] + 0.01 * -years_back), 4),
                    "download_mbps": round(max(8.0, base["mbps"] * (1 - 0.08 * years_back)), 1),
                    "smartphone_rate": round(_clip(online + 0.05 + rng.normal(0, 0.01)), 4),
                    "aged65_share": round(_clip(base["aged65"] + 0.003 * -years_back), 4),
                    "minority_share": round(_clip(base["minority"]), 4),
                    "low_education_share": round(_clip(base["low_edu"] - 0.005 * -years_back), 4),
                    "dibao_share": round(_clip(base["dibao"]), 4),
                    "training_sessions": sessions,
                    "training_attendees": int(sum(rng.integers(*TRAINEES_PER_SESSION, sessions))),
                }
            )
    return rows


def counter_rows(conn: Connection) -> list[dict[str, Any]]:
    """One service hall per township and one agency station per community or village."""
    comms = conn.execute(
        select(community.c.code, community.c.township_code, community.c.name_zh).order_by(community.c.code)
    ).all()
    out = []
    for i, t in enumerate(ref.townships()):
        out.append(
            {
                "id": i + 1,
                "township_code": t.code,
                "name_zh": f"{t.name_zh}便民服务中心",
                "name_en": f"{t.name_en} service hall",
                "kind": "hall",
            }
        )
    for j, (_code, town, name) in enumerate(comms):
        out.append(
            {
                "id": 100 + j,
                "township_code": town,
                "name_zh": f"{name}代办点",
                "name_en": f"Agency station, {name}",
                "kind": "station",
            }
        )
    return out


def visit_rows(
    rng: np.random.Generator,
    counters: list[dict[str, Any]],
    indicators: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Visits follow the residents offline: fewer online, more counter visits, more of them assisted."""
    by = {(r["township_code"], r["period"]): r for r in indicators}
    halls = {c["township_code"]: 0 for c in counters}
    for c in counters:
        halls[c["township_code"]] += 1
    out = []
    for (town, period), ind in by.items():
        days = ind["last_day"] - ind["first_day"] + 1
        offline = 1 - ind["internet_rate"]
        for c in (c for c in counters if c["township_code"] == town):
            weight = 0.4 if c["kind"] == "hall" else 0.6 / max(1, halls[town] - 1)
            mean = ind["population"] * (0.004 + 0.02 * offline) * days / 91 * weight
            visits = int(rng.poisson(max(mean, 1.0)))
            assisted = int(rng.binomial(visits, _clip(0.2 + 0.6 * offline)))
            out.append(
                {"counter_id": c["id"], "period": period, "visits": visits, "assisted_online": assisted}
            )
    return out


def build(conn: Connection, ctx: BuildContext) -> None:
    periods = quarters(ctx.first_day, ctx.last_day)
    indicators = indicator_rows(ctx.rng, periods)
    counters = counter_rows(conn)
    conn.execute(insert(divide_indicator), indicators)
    conn.execute(insert(divide_counter), counters)
    conn.execute(insert(divide_counter_visit), visit_rows(ctx.rng, counters, indicators))
    ctx.meta["divide_periods"] = ",".join(p[0] for p in periods)


PART = Part(
    name="divide",
    tables=(divide_indicator, divide_counter, divide_counter_visit),  # dependency order
    build=build,
)
