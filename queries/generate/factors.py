"""Generator part: township figures per calendar year for the factor analysis (issue 12).

The data-governance index and platform use come from the pool's own records (the same rules as the
overview and the rollups). On-time closure and satisfaction stand in for the closed-loop issue's case
figures, and the economic regressors for the statistical yearbook's township tables, until those land:
they are drawn here, tied to each township's urban status and internet rate, with a known structure
(infrastructure and fiscal supply help, the rest is noise) so the page has something true to find.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sqlalchemy import Connection, insert

from queries.generate import reference as ref
from queries.generate.parts import BuildContext, Part
from queries.tables import factor_township_year
from queries.timebase import LATE_SECONDS, TZ


def record_figures(records: pl.DataFrame) -> pl.DataFrame:
    """Per township and local calendar year: records, days covered, and the four data-quality rates."""
    first = records.select(pl.col("record_key").is_first_distinct().alias("first")).to_series()
    frame = records.with_columns(
        first.alias("first"),
        pl.from_epoch(pl.col("occurred_at") + TZ, time_unit="s").alias("local"),
    ).with_columns(
        pl.col("local").dt.year().cast(pl.Int16).alias("year"), pl.col("local").dt.date().alias("date")
    )
    return frame.group_by("township_code", "year").agg(
        pl.len().alias("records"),
        pl.col("date").n_unique().alias("days"),
        (1 - ((pl.col("received_at") - pl.col("occurred_at")) > LATE_SECONDS).mean()).alias("on_time"),
        (1 - (pl.col("community_code").is_null() | pl.col("amount").is_null()).mean()).alias("complete"),
        (1 - (pl.col("area_code_raw") != pl.col("township_code").cast(pl.String)).mean()).alias("conform"),
        pl.col("first").mean().alias("unique"),
    )


def township_years(records: pl.DataFrame, rng: np.random.Generator) -> list[dict[str, object]]:
    towns = {t.code: t for t in ref.townships()}
    figs = record_figures(records).sort("township_code", "year")
    years = sorted(set(figs["year"].to_list()))
    base_year = years[0] if years else 2026
    rows: list[dict[str, object]] = []
    for r in figs.iter_rows(named=True):
        t = towns[int(r["township_code"])]
        age = int(r["year"]) - base_year
        urban = 1.0 if t.urban else 0.0
        population = int(t.population * (1.01 if t.urban else 0.995) ** age)
        gdp_pc = float((78_000 if t.urban else 42_000) * 1.05**age * rng.lognormal(0, 0.08))
        tertiary = float(
            np.clip(0.38 + 0.22 * urban + 0.2 * (t.internet_rate - 0.6) + rng.normal(0, 0.03), 0.2, 0.8)
        )
        broadband = float(np.clip(100 * t.internet_rate + 2.5 * age + rng.normal(0, 3), 30, 99.5))
        fiscal = float(np.clip(0.26 - 0.1 * urban + rng.normal(0, 0.04), 0.08, 0.6))
        rnd = float(np.clip(0.006 + 0.014 * urban + rng.normal(0, 0.003), 0.001, 0.05))
        per_1k = float(r["records"]) / population * 1000 / max(1, int(r["days"]))
        data_index = 100 * float(r["on_time"] + r["complete"] + r["conform"] + r["unique"]) / 4
        closure = float(
            np.clip(0.62 + 0.004 * (broadband - 60) + 0.35 * fiscal + rng.normal(0, 0.03), 0.3, 0.995)
        )
        satisfaction = float(
            np.clip(
                0.70 + 0.25 * (tertiary - 0.4) + 0.002 * (broadband - 60) + rng.normal(0, 0.03), 0.3, 0.995
            )
        )
        rows.append(
            {
                "township_code": t.code,
                "year": int(r["year"]),
                "gov_index": gov_index(closure, satisfaction, data_index),
                "on_time_closure": closure,
                "satisfaction": satisfaction,
                "data_index": data_index,
                "tertiary_share": tertiary,
                "platform_per_1k": per_1k,
                "broadband": broadband,
                "fiscal_ratio": fiscal,
                "rnd_ratio": rnd,
                "population": population,
                "gdp_pc": gdp_pc,
                "records": int(r["records"]),
                "days": int(r["days"]),
            }
        )
    return rows


def gov_index(on_time_closure: float, satisfaction: float, data_index: float) -> float:
    """The township governance index, points 0-100: the mean of on-time closure (%), satisfaction (%)
    and the data-governance index (points)."""
    return (100 * on_time_closure + 100 * satisfaction + data_index) / 3


def build(conn: Connection, ctx: BuildContext) -> None:
    rows = township_years(ctx.records, ctx.rng)
    if rows:
        conn.execute(insert(factor_township_year), rows)


PART = Part("factors", (factor_township_year,), build)
