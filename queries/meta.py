"""The pool's own facts: data version, as-of time, scale; and the small reference lists pages label with."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl
from sqlalchemy import Connection, delete, func, insert, select

from queries import cache
from queries import engine as eng
from queries.cache import cached
from queries.errors import PoolChanged
from queries.scope import Scope
from queries.tables import department, module, pool_meta, rollup_daily, source_system, township
from queries.timebase import local_day_of


@dataclass(frozen=True)
class PoolStatus:
    data_version: str
    as_of: int  # epoch seconds of the newest record received
    built_at: int
    scale: str
    records: int
    first_day: int
    defects: dict[str, int]
    versions: dict[str, str] = field(default_factory=dict)  # version_keys() as read (cache.pinned)

    @property
    def as_of_day(self) -> int:
        return local_day_of(self.as_of)

    @property
    def case_clock(self) -> int:
        """The time the overdue clocks of the closed loop, the case and the appeals pages read (see
        `case_clock`)."""
        return case_clock(self.as_of)

    def age_minutes(self, now: float | None = None) -> float:
        return ((now if now is not None else time.time()) - self.as_of) / 60.0


def pool_status() -> PoolStatus:
    """Read pool_meta (a handful of rows; not cached, it is what the cache keys on)."""
    with eng.connect() as conn:
        meta = effective(dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all()))
    return PoolStatus(
        data_version=meta.get("data_version", "none"),
        versions={k: meta[k] for k in VERSION_KEYS if k in meta},
        as_of=int(meta.get("as_of", 0)),
        built_at=int(meta.get("built_at", 0)),
        scale=meta.get("scale", "?"),
        records=int(meta.get("records", 0)),
        first_day=int(meta.get("first_day", 0)),
        defects=json.loads(meta.get("defects", "{}")),
    )


T = TypeVar("T")


def consistent(read: Callable[[PoolStatus], T], *, tries: int = 2) -> T:
    """`read(status)` with every cached query inside keyed on that status's data version, repeated if
    the pool was rebuilt meanwhile: an export's "as of" time and its totals always come from one pool.

    Without it a worker that read the new pool's status could, for up to CC_VERSION_TTL_SECONDS, still
    key its cached reads on the old data version and mix the new as-of time with the old totals.
    """
    for _ in range(tries):
        st = pool_status()
        ran = eng.statements_here()
        with cache.pinned(st.versions or {"data_version": st.data_version}):
            out = read(st)
        if eng.statements_here() == ran:
            return out  # all of it from cache entries keyed on st's versions: one snapshot by construction
        if pool_status().data_version == st.data_version:
            return out
    raise PoolChanged(
        "数据池正在更新, 请稍后再试",
        "The pool is being reloaded; please try again in a moment",
        "a new load replaced the data while this was being read",
    )


@cached(domains=())
def modules() -> pl.DataFrame:
    return eng.read_frame(select(module).order_by(module.c.id), schema={"id": pl.Int16})


@cached(domains=())
def townships() -> pl.DataFrame:
    return eng.read_frame(
        select(township).order_by(township.c.code),
        schema={"code": pl.Int64, "urban": pl.Boolean, "population": pl.Int64},
    )


@cached(domains=())
def sources() -> pl.DataFrame:
    q = select(
        source_system,
        department.c.name_zh.label("dept_zh"),
        department.c.name_en.label("dept_en"),
    ).join(department, department.c.id == source_system.c.department_id)
    return eng.read_frame(q.order_by(source_system.c.id), schema={"id": pl.Int16, "module_id": pl.Int16})


def source_labels() -> pl.DataFrame:
    """sources() keyed as `source_id`, with what a row about a source shows: module, names, delivery,
    owning department."""
    return sources().select(
        pl.col("id").alias("source_id"),
        "module_id",
        "code",
        "name_zh",
        "name_en",
        "delivery",
        "dept_zh",
        "dept_en",
    )


@cached(domains=())
def departments() -> pl.DataFrame:
    return eng.read_frame(select(department).order_by(department.c.id), schema={"id": pl.Int16})


@cached(domains=("records",))
def scoped_records(*, scope: Scope) -> int:
    """Records the viewer may see: every count shown to a viewer is within their scope, never the pool's."""
    q = select(func.coalesce(func.sum(rollup_daily.c.n), 0)).where(scope.where(rollup_daily))
    with eng.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


# Versions by domain. `data_version` moves on every write, and a `@cached` read that names no domains
# keys on it. Two domains change often and apart from each other: "records" (an ingest batch: records,
# their rollups, quarantine, batches) and "cases" (a case action or an appeal's correction: cases, their
# events and rollups). Each has its own version, `version.records` and `version.cases`; so has what staff
# write at their desks, "staff" (price decisions, factor datasets and model sets, data-owner appointments,
# the twin's drawn hazards and scenarios, the divide's counter edits: `move_now`, seen at once, never
# pending; case writes by a person use it too), `version.staff`; everything else
# (reference lists, prices, the Three Lists, the divide's figures, the twin, boundaries, a rebuild)
# moves `version.base` (`move_all`) together with every domain's key. A read declared
# `@cached(domains=("cases",))` keys on the base and the cases' version only, so a stream of record
# batches leaves it valid (see queries.cache, which checks such declarations in the tests).
BASE_KEY = "version.base"
DOMAINS = cache.DOMAINS
DOMAIN_KEYS = {d: f"version.{d}" for d in DOMAINS}
# what cache.data_version reads: the versions, and the as-of time the cases' clock is taken from
VERSION_KEYS = ("data_version", BASE_KEY, *DOMAIN_KEYS.values(), "as_of")

# The closed loop's overdue clocks read the pool's as-of time rounded down to CASE_CLOCK_SECONDS (from
# CC_CASE_CLOCK_SECONDS): the as-of time moves with every ingest batch, and a clock that moved with it
# would make every cached case figure stale once a minute although no case changed. The loop shows the
# clock it counted at ("逾期按 hh:mm 计 / overdue as of hh:mm").
CASE_CLOCK_SECONDS = 900


def configure_case_clock(seconds: float) -> None:
    global CASE_CLOCK_SECONDS
    CASE_CLOCK_SECONDS = max(1, int(seconds))


def case_clock(as_of: int) -> int:
    return int(as_of) - int(as_of) % CASE_CLOCK_SECONDS


# Ingest-driven versions move at most every `INGEST_WINDOW` seconds (meta.configure_window, from
# CC_INGEST_VERSION_SECONDS). A batch that lands inside the window of the last move does not touch
# `data_version`; it writes its new version, record count and as-of time under the PENDING_* keys,
# and every reader (any worker: the rule is computed from the pool's rows and the clock alone) takes
# the pending state as the pool's once `version_due` has passed. So during a stream of batches every
# cached read is recomputed at most once per window instead of once per batch, and a record that lands
# at time t is read by cached queries no later than t + window + CC_VERSION_TTL_SECONDS. The as-of
# time and record count move together with the version, so "data as of" never claims rows that the
# figures beside it do not hold yet. A rebuild writes a fresh pool_meta (no pending keys): it moves
# at once, as does every other writer of data_version (`move_all`).
INGEST_WINDOW = 0.0
PENDING = {
    "data_version": "pending_version",
    "as_of": "pending_as_of",
    "records": "pending_records",
    **{k: f"pending_{k}" for k in DOMAIN_KEYS.values()},
}
DUE_KEY = "version_due"


def _clock() -> float:
    """Wall-clock seconds: every worker must agree on when a pending version falls due (tests stub it)."""
    return time.time()


def configure_window(seconds: float) -> None:
    """How long ingest-driven data versions stay put (0: every batch moves the version at once)."""
    global INGEST_WINDOW
    INGEST_WINDOW = max(0.0, float(seconds))


def effective(rows: dict[str, str], now: float | None = None) -> dict[str, str]:
    """pool_meta as readers see it at `now`: the pending ingest state once it is due, else the settled one."""
    if PENDING["data_version"] not in rows:
        return rows
    due = float(rows.get(DUE_KEY, 0))
    if (_clock() if now is None else now) < due:
        return rows
    return {**rows, **{key: rows[p] for key, p in PENDING.items() if p in rows}}


def new_version(now: float | None = None) -> str:
    return f"{int((time.time() if now is None else now) * 1000)}-{uuid.uuid4().hex[:8]}"


def move_version(
    conn: Connection, *, domain: str, records_added: int, newest_received: int, now: float | None = None
) -> str:
    """A new data version after a write to `domain` ("records" or "cases"), in the writer's
    transaction: every cached read of that domain (and every read that names no domain) in every
    worker keys on it (workers re-read it at most CC_VERSION_TTL_SECONDS apart), so all move on.
    Also counts the records in and moves the as-of time forward (never back). Inside the window of
    the last move the new state is written as pending (see INGEST_WINDOW above)."""
    if domain not in DOMAIN_KEYS:
        raise ValueError(f"unknown domain {domain!r}; domains: {DOMAINS}")
    t = _clock() if now is None else float(now)
    rows = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    # the newest state, settled or not: counts build on it, and a pending move of another domain is
    # carried along (settling this one must not drop it)
    latest = {**rows, **{key: rows[p] for key, p in PENDING.items() if p in rows}}
    version = new_version(t)
    state = {
        **{k: latest[k] for k in DOMAIN_KEYS.values() if k in latest},
        "data_version": version,
        DOMAIN_KEYS[domain]: version,
        "records": str(int(latest.get("records", 0)) + int(records_added)),
        "as_of": str(max(int(latest.get("as_of", 0)), int(newest_received))),
    }
    if t >= float(rows.get(DUE_KEY, 0)):
        values = {**state, DUE_KEY: repr(t + INGEST_WINDOW)}
        gone = list(PENDING.values())
    else:
        values = {PENDING[k]: v for k, v in state.items()}
        gone = []
    conn.execute(delete(pool_meta).where(pool_meta.c.key.in_([*values, *gone])))
    conn.execute(insert(pool_meta), [{"key": k, "value": v} for k, v in values.items()])
    return version


def move_now(conn: Connection, *, domain: str) -> str:
    """A new version of `domain` and of the data version, in the writer's transaction, seen at once: for
    what staff write at their desks ("staff": a price decision, a factor dataset or model set; "cases": a
    case action, an appeal, an optimization action), which they expect on their next look, so never held
    pending like an ingest batch. Records and as-of time stay. Pending ingest state, if any, takes the
    domain's new version, so its settling cannot bring the old one back, and a new data version."""
    if domain not in DOMAIN_KEYS:
        raise ValueError(f"unknown domain {domain!r}; domains: {DOMAINS}")
    version = new_version()
    rows = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    values = {"data_version": version, DOMAIN_KEYS[domain]: version}
    if PENDING["data_version"] in rows:
        # the pending batch takes this domain's new version, and a data version of its own: were it this
        # one, its settling would not move the data version, and reads keyed on it (every read that
        # declares no domain) would go on serving answers without the batch's records
        values |= {PENDING[DOMAIN_KEYS[domain]]: version, PENDING["data_version"]: new_version()}
    conn.execute(delete(pool_meta).where(pool_meta.c.key.in_(list(values))))
    conn.execute(insert(pool_meta), [{"key": k, "value": v} for k, v in values.items()])
    return version


def all_versions(version: str) -> dict[str, str]:
    """Every version key at `version`: what a rebuild writes, and what `move_all` moves."""
    return {"data_version": version, BASE_KEY: version, **{k: version for k in DOMAIN_KEYS.values()}}


def move_all(conn: Connection) -> str:
    """A new version of everything, in the writer's transaction: for writes outside the two domains
    (reference lists, prices, the Three Lists, the divide's figures, the twin, boundaries). Pending
    ingest state stays pending: it settles onto its own keys when due."""
    version = new_version()
    values = all_versions(version)
    conn.execute(delete(pool_meta).where(pool_meta.c.key.in_(list(values))))
    conn.execute(insert(pool_meta), [{"key": k, "value": v} for k, v in values.items()])
    return version
