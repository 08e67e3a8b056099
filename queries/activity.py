"""What arrives and what is abnormal, shared by every page: module volumes per day, arrival windows,
source delivery, alerts, and which modules and sources a viewer's scope holds."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import and_, case, func, literal, or_, select

from queries import engine as eng
from queries import meta
from queries.cache import cached
from queries.scope import Scope
from queries.tables import record, rollup_daily
from queries.timebase import DAY, local_day_of

ROLLUP_SCHEMA = {
    "module_id": pl.Int16,
    "township_code": pl.Int64,
    "day": pl.Int32,
    "n": pl.Int64,
    "n_late": pl.Int64,
    "n_missing": pl.Int64,
    "n_dup": pl.Int64,
    "n_badcode": pl.Int64,
}


@cached
def daily_by_module(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Records per module and local day (rollup), days with none included as 0."""
    r = rollup_daily
    q = (
        select(r.c.module_id, r.c.day, func.sum(r.c.n).label("n"))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.module_id, r.c.day)
    )
    got = eng.read_frame(q, schema=ROLLUP_SCHEMA)
    grid = (
        meta.modules()
        .select(pl.col("id").alias("module_id"))
        .join(
            pl.DataFrame({"day": pl.int_range(first_day, last_day + 1, eager=True).cast(pl.Int32)}),
            how="cross",
        )
    )
    return (
        grid.join(got, on=["module_id", "day"], how="left")
        .with_columns(pl.col("n").fill_null(0), pl.col("day").cast(pl.Date).alias("date"))
        .sort("module_id", "day")
    )


@cached
def window_counts(*, scope: Scope, ends: tuple[int, ...], seconds: int) -> pl.DataFrame:
    """Records per module x township that occurred in [end - seconds, end) and had arrived by `end`,
    one bucket per end (raw table, an index range each). Counting only what had arrived keeps a
    comparison with past weeks fair to sources that deliver in nightly batches."""
    r = record
    conds = [and_(r.c.occurred_at >= e - seconds, r.c.occurred_at < e, r.c.received_at < e) for e in ends]
    bucket = case(*[(c, literal(i)) for i, c in enumerate(conds)], else_=literal(-1)).label("bucket")
    q = (
        select(r.c.module_id, r.c.township_code, bucket, func.count().label("n"))
        .where(or_(*conds), scope.where(r))
        .group_by(r.c.module_id, r.c.township_code, bucket)
    )
    return eng.read_frame(
        q, schema={"module_id": pl.Int16, "township_code": pl.Int64, "bucket": pl.Int32, "n": pl.Int64}
    )


@cached
def source_delivery(*, scope: Scope, as_of_day: int) -> pl.DataFrame:
    """Per source system: newest record received, and its average daily volume over the last 28 days."""
    r = rollup_daily
    q = (
        select(
            r.c.source_id,
            func.max(r.c.max_received_at).label("last_received"),
            func.sum(case((r.c.day > as_of_day - 28, r.c.n), else_=0)).label("n_28d"),
        )
        .where(scope.where(r), r.c.day > as_of_day - 40)
        .group_by(r.c.source_id)
    )
    got = eng.read_frame(q, schema={"source_id": pl.Int16, "last_received": pl.Int64, "n_28d": pl.Int64})
    src = meta.source_labels()
    return src.join(got, on="source_id", how="left").with_columns(pl.col("n_28d").fill_null(0))


@dataclass(frozen=True)
class AlertRules:
    outage_hours: float = 6.0
    spike_ratio: float = 2.0
    spike_window_hours: int = 6

    def cache_key(self) -> str:
        return f"{self.outage_hours}-{self.spike_ratio}-{self.spike_window_hours}"


ALERT_SCHEMA = {
    "level": pl.String,  # red | amber
    "kind": pl.String,  # outage | spike
    "module_id": pl.Int16,
    "township_code": pl.Int64,
    "source_id": pl.Int16,
    "value": pl.Float64,  # hours silent, or today's count
    "baseline": pl.Float64,  # expected count, or usual count
}


@cached
def alerts(*, scope: Scope, as_of: int, rules: AlertRules) -> pl.DataFrame:
    """Abnormal things, worst first: a source that stopped delivering, a module x township spike."""
    rows: list[dict[str, object]] = []
    as_of_day = local_day_of(as_of)
    delivery = source_delivery(scope=scope, as_of_day=as_of_day)
    for s in delivery.iter_rows(named=True):
        if s["last_received"] is None or s["n_28d"] == 0:
            continue
        silent_h = (as_of - s["last_received"]) / 3600.0
        expected = s["n_28d"] / (28 * 24) * silent_h
        # Silence means something only where records were due: a quiet source in one township (a few
        # records a week, fewer at weekends) is chance, not an outage, for batch sources as for APIs.
        if s["delivery"] == "batch":
            level = "red" if silent_h >= 24 + rules.outage_hours and expected >= 10 else None
        elif silent_h >= rules.outage_hours and expected >= 10:
            level = "red"
        elif silent_h >= rules.outage_hours / 2 and expected >= 10:
            level = "amber"
        else:
            level = None
        if level:
            rows.append(
                dict(
                    level=level,
                    kind="outage",
                    module_id=s["module_id"],
                    township_code=None,
                    source_id=s["source_id"],
                    value=silent_h,
                    baseline=expected,
                )
            )
    w = rules.spike_window_hours * 3600
    ends = tuple(as_of + 1 - 7 * DAY * k for k in range(9))
    counts = window_counts(scope=scope, ends=ends, seconds=w)
    if counts.height:
        today = counts.filter(pl.col("bucket") == 0).select(
            "module_id", "township_code", pl.col("n").alias("now")
        )
        past = counts.filter(pl.col("bucket") > 0)
        keys = today.select("module_id", "township_code")
        # weeks with no record in the window count as 0, so the median is over all 8 past weeks
        full = keys.join(
            pl.DataFrame({"bucket": list(range(1, 9))}, schema={"bucket": pl.Int32}), how="cross"
        )
        base = (
            full.join(past, on=["module_id", "township_code", "bucket"], how="left")
            .with_columns(pl.col("n").fill_null(0))
            .group_by("module_id", "township_code")
            .agg(pl.col("n").median().alias("usual"))
        )
        spikes = today.join(base, on=["module_id", "township_code"], how="left").with_columns(
            pl.col("usual").fill_null(0.0)
        )
        for s in spikes.iter_rows(named=True):
            now, usual = s["now"], s["usual"]
            excess = now - usual
            if now >= rules.spike_ratio * max(usual, 1.0) and excess >= 4 * max(usual, 1.0) ** 0.5 + 5:
                level = "red" if now >= 2 * rules.spike_ratio * max(usual, 1.0) and excess >= 20 else "amber"
                rows.append(
                    dict(
                        level=level,
                        kind="spike",
                        module_id=s["module_id"],
                        township_code=s["township_code"],
                        source_id=None,
                        value=float(now),
                        baseline=float(usual),
                    )
                )
    frame = pl.DataFrame(rows, schema=ALERT_SCHEMA)
    return frame.sort(
        pl.col("level").replace_strict({"red": 0, "amber": 1}, return_dtype=pl.Int8),
        pl.col("value"),
        descending=[False, True],
    )


# --- shaped for the overview page: pages only convert these to components ------------------------


def alert_level(
    *, scope: Scope, as_of: int, rules: AlertRules, kinds: tuple[str, ...] = ("outage", "spike")
) -> str | None:
    """The worst alert level among the given kinds: "red", "amber" or None (for wall takeover)."""
    levels = set(alerts(scope=scope, as_of=as_of, rules=rules).filter(pl.col("kind").is_in(kinds))["level"])
    return "red" if "red" in levels else ("amber" if "amber" in levels else None)


def source_outages(*, scope: Scope, as_of: int, rules: AlertRules) -> dict[int, str]:
    """source id -> "red" | "amber" for sources silent by the outage rule."""
    frame = alerts(scope=scope, as_of=as_of, rules=rules).filter(pl.col("kind") == "outage")
    return {int(r["source_id"]): str(r["level"]) for r in frame.iter_rows(named=True)}


@cached
def scope_sources(*, scope: Scope) -> pl.DataFrame:
    """The source systems a scope holds (any record of theirs visible to it): source_id, module_id,
    names. A department head holds their department's sources, a township leader those that ever
    reported there; pages count and list only these, so a scoped viewer sees no other bureau's rows."""
    r = rollup_daily
    got = eng.read_frame(
        select(r.c.source_id).distinct().where(scope.where(r)),
        schema={"source_id": pl.Int16},
    )
    src = meta.sources().select(pl.col("id").alias("source_id"), "module_id", "code", "name_zh", "name_en")
    return src.join(got, on="source_id", how="semi").sort("source_id")


def scope_module_ids(*, scope: Scope) -> list[int]:
    """Modules with at least one source system in the scope, in module order."""
    return sorted(int(m) for m in scope_sources(scope=scope)["module_id"].unique())


@dataclass(frozen=True)
class Delivering:
    """How many of the scope's modules or sources deliver: `down` have a red outage alert."""

    total: int
    down: int
    outside: int  # modules or sources of the city outside the scope (folded into one line on pages)

    @property
    def up(self) -> int:
        return self.total - self.down


def delivering(*, scope: Scope, as_of: int, rules: AlertRules, by: str) -> Delivering:
    """Delivering modules (by="module") or sources (by="source") within the scope."""
    col = {"module": "module_id", "source": "source_id"}[by]
    held = set(scope_sources(scope=scope)[col].to_list())
    red = alerts(scope=scope, as_of=as_of, rules=rules).filter(
        (pl.col("kind") == "outage") & (pl.col("level") == "red")
    )
    down = {int(x) for x in red[col].to_list()} & held
    city = meta.modules().height if by == "module" else meta.sources().height
    return Delivering(total=len(held), down=len(down), outside=city - len(held))
