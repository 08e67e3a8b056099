"""Vectorised record synthesis: one module at a time, numpy arrays out (no Python loop per record)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from queries import calendar as cal
from queries.generate.reference import HOUR_PROFILES, Module, Township, Village
from queries.timebase import DAY, LATE_SECONDS, TZ

COLUMNS = (
    "module_id",
    "source_id",
    "dept_id",
    "type_id",
    "township_code",
    "community_code",
    "grid_id",
    "occurred_at",
    "received_at",
    "classification",
    "qty",
    "amount",
    "record_key",
    "area_code_raw",
)


@dataclass
class Geo:
    """Geography as arrays, for vectorised draws."""

    township_codes: np.ndarray  # (T,)
    township_urban: np.ndarray  # (T,) bool
    township_rate: np.ndarray  # (T,) internet rate
    comm_codes: np.ndarray  # (C,)
    comm_township_idx: np.ndarray  # (C,)
    comm_pop: np.ndarray  # (C,)
    comm_kind_village: np.ndarray  # (C,) bool
    grid_start: np.ndarray  # (C,) first grid id
    grid_count: np.ndarray  # (C,)
    raw_codes: np.ndarray  # (T, 5) area code as sources write it: canonical, then four inconsistent forms
    comm_names: list[str]


def build_geo(rng: np.random.Generator, towns: list[Township], vills: list[Village]) -> Geo:
    t_index = {t.code: i for i, t in enumerate(towns)}
    comm_codes = np.array([v.code for v in vills], dtype=np.int64)
    comm_t = np.array([t_index[v.township_code] for v in vills])
    is_village = np.array([v.kind == "village" for v in vills])
    pop = np.zeros(len(vills))
    for ti, t in enumerate(towns):
        members = np.where(comm_t == ti)[0]
        weights = rng.dirichlet(np.full(len(members), 4.0)) * np.where(is_village[members], 0.6, 1.4)
        pop[members] = np.round(t.population * weights / weights.sum())
    grid_count = np.where(is_village, rng.integers(3, 6, len(vills)), rng.integers(6, 11, len(vills)))
    grid_start = np.concatenate([[1], 1 + np.cumsum(grid_count)[:-1]])
    raw = np.empty((len(towns), 5), dtype=object)
    for ti, t in enumerate(towns):
        raw[ti] = [str(t.code), f"{t.code}000", "532503", f"蒙自{t.name_zh}", f"5325-03-{t.code % 1000:03d}"]
    return Geo(
        township_codes=np.array([t.code for t in towns], dtype=np.int64),
        township_urban=np.array([t.urban for t in towns]),
        township_rate=np.array([t.internet_rate for t in towns]),
        comm_codes=comm_codes,
        comm_township_idx=comm_t,
        comm_pop=pop,
        comm_kind_village=is_village,
        grid_start=grid_start.astype(np.int64),
        grid_count=grid_count.astype(np.int64),
        raw_codes=raw,
        comm_names=[v.name_zh for v in vills],
    )


# Places with their own pull on a module: industrial parks in the new city and Caoba, border trade
# through the bonded zone, tourists at Bisezhai station and Nanhu lake.
PLACE_PULL: dict[str, dict[str, float]] = {
    "parks": {"雨过铺": 4.0, "草坝": 3.0},
    "trade": {"雨过铺": 3.0},
    "tourism": {"碧色寨": 12.0, "南湖": 6.0},
}


def community_weights(geo: Geo, module: Module, towns: list[Township]) -> np.ndarray:
    w = geo.comm_pop * geo.township_rate[geo.comm_township_idx] ** module.urban_pull
    for key, factor in PLACE_PULL.get(module.code, {}).items():
        for ci, name in enumerate(geo.comm_names):
            if name.startswith(key):
                w[ci] *= factor
        for ti, t in enumerate(towns):
            if t.name_zh.startswith(key):
                w[geo.comm_township_idx == ti] *= factor
    return w / w.sum()


def day_weights(rng: np.random.Generator, module: Module, days: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    by_kind = np.array([module.workday, module.restday, module.holiday])[kinds]
    growth = 1.0 + 0.25 * (days - days[0]) / 365.0  # platform adoption keeps growing
    noise = rng.lognormal(0.0, 0.06, len(days))
    return by_kind * cal.season_factor(module.season, days) * growth * noise


@dataclass
class ModuleBatch:
    cols: dict[str, np.ndarray]
    defects: dict[str, np.ndarray]  # defect -> boolean mask over rows
    is_duplicate: bool = False  # rows re-entered by a second department


def synthesize(
    rng: np.random.Generator,
    module: Module,
    n: int,
    geo: Geo,
    towns: list[Township],
    source_ids: list[int],
    source_dept: dict[int, int],
    type_ids: list[int],
    days: np.ndarray,
    kinds: np.ndarray,
    end_ts: int,
    key_base: int,
) -> ModuleBatch:
    hours = np.array(HOUR_PROFILES[module.hours], dtype=float)
    cell = np.outer(day_weights(rng, module, days, kinds), hours / hours.sum()).ravel()
    counts = rng.multinomial(n, cell / cell.sum())
    cell_idx = np.repeat(np.arange(len(cell)), counts)
    day = days[cell_idx // 24]
    hour = cell_idx % 24
    occurred = day * DAY - TZ + hour * 3600 + rng.integers(0, 3600, n)

    comm = rng.choice(len(geo.comm_codes), size=n, p=community_weights(geo, module, towns))
    t_idx = geo.comm_township_idx[comm]
    grid = geo.grid_start[comm] + (rng.random(n) * geo.grid_count[comm]).astype(np.int64)

    src_share = np.array([s.share for s in module.sources])
    src_pos = rng.choice(len(module.sources), size=n, p=src_share / src_share.sum())
    source = np.array(source_ids)[src_pos]
    dept = np.array([source_dept[s] for s in source_ids])[src_pos]
    type_p = np.array([t[2] for t in module.types])
    type_id = np.array(type_ids)[rng.choice(len(type_ids), size=n, p=type_p / type_p.sum())]

    klass = np.empty(n, dtype=np.int64)
    missing_p = np.empty(n)
    badcode_p = np.empty(n)
    late_p = np.empty(n)
    batch = np.zeros(n, dtype=bool)
    u = rng.random(n)
    for pos, s in enumerate(module.sources):
        m = src_pos == pos
        c = np.cumsum(s.classes)
        klass[m] = np.searchsorted(c / c[-1], u[m], side="right")
        missing_p[m] = s.missing_rate
        badcode_p[m] = s.badcode_rate
        late_p[m] = s.late_rate
        batch[m] = s.delivery == "batch"
    klass = np.minimum(klass, 2)
    rural = ~geo.township_urban[t_idx]

    # Delivery: APIs in minutes (slower where the network is weaker), batches the next night at 02:00-04:00.
    api_delay = rng.lognormal(np.log(180.0), 1.0, n) * np.where(rural, 3.0, 1.0)
    next_night = (((occurred + TZ) // DAY) + 1) * DAY - TZ + 2 * 3600 + rng.integers(0, 7200, n)
    received = np.where(batch, next_night, occurred + np.minimum(api_delay, 20 * 3600).astype(np.int64))
    late = rng.random(n) < late_p * np.where(rural, 2.0, 1.0)
    received = np.where(late, received + LATE_SECONDS + rng.integers(3600, 5 * DAY, n), received)

    mu_q, sig_q = module.qty[3], module.qty[4]
    qty = np.maximum(1.0, np.round(rng.lognormal(mu_q, sig_q, n)))
    amount = np.round(rng.lognormal(module.amount[3], module.amount[4], n), 2)

    missing = rng.random(n) < missing_p
    miss_comm = missing & (rng.random(n) < 0.5)
    community_code = geo.comm_codes[comm].astype(float)
    community_code[miss_comm] = np.nan
    grid_f = grid.astype(float)
    grid_f[miss_comm] = np.nan
    amount[missing & ~miss_comm] = np.nan

    badcode = rng.random(n) < badcode_p
    variant = np.where(badcode, rng.integers(1, 5, n), 0)
    raw = geo.raw_codes[t_idx, variant]

    keep = received <= end_ts  # what has not arrived yet is not in the pool
    cols = {
        "module_id": np.full(n, module.id, dtype=np.int64),
        "source_id": source.astype(np.int64),
        "dept_id": dept.astype(np.int64),
        "type_id": type_id.astype(np.int64),
        "township_code": geo.township_codes[t_idx],
        "community_code": community_code,
        "grid_id": grid_f,
        "occurred_at": occurred.astype(np.int64),
        "received_at": received.astype(np.int64),
        "classification": klass,
        "qty": qty,
        "amount": amount,
        "record_key": key_base + np.arange(n, dtype=np.int64),
        "area_code_raw": raw,
    }
    cols = {k: v[keep] for k, v in cols.items()}
    defects = {"missing": missing[keep], "badcode": badcode[keep], "late": late[keep]}
    return ModuleBatch(cols, defects)


def duplicate(
    rng: np.random.Generator,
    batch: ModuleBatch,
    from_source: int,
    to_source: int,
    to_dept: int,
    to_classes: tuple[float, float, float],
    rate: float,
    end_ts: int,
) -> ModuleBatch:
    """Re-enter a share of one source's records in another department's system (same business key)."""
    pick = (batch.cols["source_id"] == from_source) & (rng.random(len(batch.cols["source_id"])) < rate)
    cols = {k: v[pick].copy() for k, v in batch.cols.items()}
    m = int(pick.sum())
    cols["source_id"][:] = to_source
    cols["dept_id"][:] = to_dept
    c = np.cumsum(to_classes)
    cols["classification"] = np.minimum(np.searchsorted(c / c[-1], rng.random(m), side="right"), 2)
    cols["received_at"] = cols["received_at"] + rng.integers(1800, 20 * 3600, m)
    keep = cols["received_at"] <= end_ts
    cols = {k: v[keep] for k, v in cols.items()}
    # The copy inherits the original's flaws; the truth says so, so detection can be checked exactly.
    canonical = np.array([str(c) for c in cols["township_code"]], dtype=object)
    defects = {
        "missing": np.isnan(cols["community_code"]) | np.isnan(cols["amount"]),
        "badcode": cols["area_code_raw"] != canonical,
        "late": (cols["received_at"] - cols["occurred_at"]) > LATE_SECONDS,
    }
    return ModuleBatch(cols, defects, is_duplicate=True)
