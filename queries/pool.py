"""Queries of the data-pool page: delivery and quality per source system, module x day volumes,
classification split, and detected defects against the generator's recorded truth."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import func, select

from queries import engine as eng
from queries import meta
from queries.activity import AlertRules, daily_by_module, scope_module_ids, scope_sources, source_outages
from queries.cache import cached
from queries.rollups import measure_sums
from queries.scope import Scope
from queries.tables import rollup_daily, seed_defect_daily

_INT = {"source_id": pl.Int16, "module_id": pl.Int16, "classification": pl.Int16}


def _held_modules(scope: Scope) -> pl.DataFrame:
    return pl.DataFrame({"module_id": scope_module_ids(scope=scope)}, schema={"module_id": pl.Int16})


@cached
def source_quality(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Per source system the scope holds, over [first_day, last_day]: records, defect rates, newest record
    received."""
    r = rollup_daily
    q = (
        select(
            r.c.source_id,
            *measure_sums(r),
            func.max(r.c.max_received_at).label("last_received"),
        )
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.source_id)
    )
    ints = {c: pl.Int64 for c in ("n", "n_late", "n_missing", "n_dup", "n_badcode", "last_received")}
    got = eng.read_frame(q, schema={**_INT, **ints})
    src = meta.source_labels()
    mods = meta.modules().select(
        pl.col("id").alias("module_id"),
        pl.col("name_zh").alias("module_zh"),
        pl.col("name_en").alias("module_en"),
    )
    frame = (
        src.join(mods, on="module_id")
        .join(scope_sources(scope=scope).select("source_id"), on="source_id", how="semi")
        .join(got, on="source_id", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ("n", "n_late", "n_missing", "n_dup", "n_badcode"))
    )
    denom = pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None)
    return frame.with_columns(
        (pl.col("n_late") / denom).alias("late_rate"),
        (pl.col("n_missing") / denom).alias("missing_rate"),
        (pl.col("n_dup") / denom).alias("dup_rate"),
        (pl.col("n_badcode") / denom).alias("badcode_rate"),
    ).sort("module_id", "source_id")


@cached
def classification_split(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Records per module the scope holds and classification (0 public, 1 sensitive, 2 core), with each
    class's share."""
    r = rollup_daily
    q = (
        select(r.c.module_id, r.c.classification, func.sum(r.c.n).label("n"))
        .where(scope.where(r), r.c.day.between(first_day, last_day))
        .group_by(r.c.module_id, r.c.classification)
    )
    got = eng.read_frame(q, schema={**_INT, "n": pl.Int64})
    grid = _held_modules(scope).join(
        pl.DataFrame({"classification": [0, 1, 2]}, schema={"classification": pl.Int16}), how="cross"
    )
    frame = grid.join(got, on=["module_id", "classification"], how="left").with_columns(
        pl.col("n").fill_null(0)
    )
    return frame.with_columns(
        (pl.col("n") / pl.col("n").sum().over("module_id").clip(lower_bound=1)).alias("share")
    ).sort("module_id", "classification")


@cached
def detected_vs_injected(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """Defects the rollups detect among the scope's records that occurred in [first_day, last_day],
    beside what the generator recorded it injected into those same records.

    Only meaningful for a synthetic pool; a real pool has no seed_defect rows and shows injected = 0.
    Both sides follow the scope and the window, so every role sees the same rule at work."""
    r = rollup_daily
    q = select(
        func.sum(r.c.n_late).label("late"),
        func.sum(r.c.n_missing).label("missing"),
        func.sum(r.c.n_dup).label("duplicate"),
        func.sum(r.c.n_badcode).label("badcode"),
        func.sum(r.c.n).label("records"),
    ).where(scope.where(r), r.c.day.between(first_day, last_day))
    detected = eng.read_frame(
        q, schema={k: pl.Int64 for k in ("late", "missing", "duplicate", "badcode", "records")}
    )
    # the generator's truth, rolled up at load by the scope's columns and the local day the record
    # occurred (seed_defect_daily; empty in a real pool): the same rows as seed_defect joined to the
    # window's records, without visiting them
    d = seed_defect_daily
    truth = eng.read_frame(
        select(d.c.defect, func.sum(d.c.n).label("injected"))
        .where(scope.where(d), d.c.day.between(first_day, last_day))
        .group_by(d.c.defect),
        schema={"defect": pl.String, "injected": pl.Int64},
    )
    row = detected.row(0, named=True) if detected.height else {}
    records = int(row.get("records") or 0)
    out = pl.DataFrame(
        {
            "defect": ["duplicate", "missing", "late", "badcode"],
            "detected": [int(row.get(k) or 0) for k in ("duplicate", "missing", "late", "badcode")],
        }
    )
    return (
        out.join(truth, on="defect", how="left")
        .with_columns(pl.col("injected").fill_null(0))
        .with_columns((pl.col("detected") / max(records, 1)).alias("rate"), pl.lit(records).alias("records"))
    )


@cached
def module_day_relative(*, scope: Scope, first_day: int, last_day: int) -> tuple[list[int], pl.DataFrame]:
    """Each module's daily records divided by its own median over the window (1 = a usual day), as a
    matrix: (days, frame with module_id, name_zh, name_en and one Float64 column per day, in order).
    Only the modules the scope holds."""
    daily = daily_by_module(scope=scope, first_day=first_day, last_day=last_day)
    rel = daily.with_columns(
        (pl.col("n") / pl.col("n").median().over("module_id").clip(lower_bound=1)).alias("rel")
    )
    wide = rel.pivot(on="day", index="module_id", values="rel", sort_columns=True)
    days = sorted(int(c) for c in wide.columns if c != "module_id")
    mods = _held_modules(scope).join(
        meta.modules().select(pl.col("id").alias("module_id"), "name_zh", "name_en"), on="module_id"
    )
    frame = mods.join(wide, on="module_id", how="left").select(
        "module_id", "name_zh", "name_en", *[pl.col(str(d)).cast(pl.Float64) for d in days]
    )
    return days, frame.sort("module_id")


@cached
def classification_wide(*, scope: Scope, first_day: int, last_day: int) -> pl.DataFrame:
    """classification_split() side by side: module, names, and the share of public, sensitive and core."""
    split = classification_split(scope=scope, first_day=first_day, last_day=last_day)
    wide = split.pivot(on="classification", index="module_id", values="share", sort_columns=True)
    wide = wide.rename({str(i): name for i, name in enumerate(("public", "sensitive", "core"))})
    mods = meta.modules().select(pl.col("id").alias("module_id"), "name_zh", "name_en")
    return mods.join(wide, on="module_id", how="inner").sort("module_id")


@dataclass(frozen=True)
class QualityTotals:
    """The pool page's KPI row over a window: records and the four defect rates."""

    records: int
    sources: int
    rates: dict[str, float | None]  # duplicate, missing, late, badcode


@cached
def quality_totals(*, scope: Scope, first_day: int, last_day: int) -> QualityTotals:
    q = source_quality(scope=scope, first_day=first_day, last_day=last_day)
    n = int(q["n"].sum())
    cols = {"duplicate": "n_dup", "missing": "n_missing", "late": "n_late", "badcode": "n_badcode"}
    return QualityTotals(
        records=n,
        sources=q.height,
        rates={k: (int(q[c].sum()) / n if n else None) for k, c in cols.items()},
    )


@cached
def source_health(
    *, scope: Scope, first_day: int, last_day: int, as_of: int, rules: AlertRules
) -> pl.DataFrame:
    """source_quality() with each source's outage level ("red", "amber" or "") and its defect rate
    (all four defects / records), worst first: red outages, amber, then by defect rate. The order a
    hands-off wall needs, where only the top rows are sure to be read."""
    q = source_quality(scope=scope, first_day=first_day, last_day=last_day)
    out = source_outages(scope=scope, as_of=as_of, rules=rules)
    levels = pl.DataFrame(
        {"source_id": list(out), "outage": list(out.values())},
        schema={"source_id": pl.Int16, "outage": pl.String},
    )
    denom = pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None)
    return (
        q.join(levels, on="source_id", how="left")
        .with_columns(
            pl.col("outage").fill_null(""),
            ((pl.col("n_late") + pl.col("n_missing") + pl.col("n_dup") + pl.col("n_badcode")) / denom).alias(
                "defect_rate"
            ),
        )
        .sort(
            pl.col("outage").replace_strict({"red": 0, "amber": 1, "": 2}, return_dtype=pl.Int8),
            pl.col("defect_rate"),
            pl.col("source_id"),
            descending=[False, True, False],
            nulls_last=True,
        )
    )
