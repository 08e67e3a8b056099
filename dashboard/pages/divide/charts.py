"""Frame -> figure for the divide page: urban vs rural against the national benchmarks, and one
township's index over the quarters."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from dashboard import figures
from dashboard.i18n import pick, titles
from queries import divide

SERIES = {
    ("national", "urban"): (("全国城镇 (CNNIC)", "National urban (CNNIC)"), "urban", "dash"),
    ("national", "rural"): (("全国农村 (CNNIC)", "National rural (CNNIC)"), "rural", "dash"),
    ("county", "urban"): (("蒙自 城镇街道", "Mengzi urban sub-districts"), "urban", "solid"),
    ("county", "rural"): (("蒙自 农村乡镇", "Mengzi rural townships"), "rural", "solid"),
}


def benchmark_figure(frame: pl.DataFrame, as_of: str, lang: str, theme: str) -> Any:
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    data: list[dict[str, object]] = []
    for (src, grp), (label, color, dash_) in SERIES.items():
        part = frame.filter((pl.col("source") == src) & (pl.col("group") == grp)).sort("when")
        if part.is_empty():
            continue
        name = pick(*label, lang)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": part["when"].to_numpy().astype("datetime64[D]").astype(str),
                "y": np.round(part["rate"].to_numpy() * 100, 1),
                "line": {"color": th[color], "dash": dash_, "width": 3 if src == "county" else 2},
                "marker": {"size": 8},
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
            }
        )
    title, sub = titles(
        ("城乡互联网普及率差距有多大, 与全国比如何?", "How wide is the urban-rural gap, against the nation?"),
        (
            f"单位: % 居民上网 · 全国: {divide.NATIONAL_SOURCE[0]} · 数据截至 {as_of}",
            f"% of residents online · national: {divide.NATIONAL_SOURCE[1]} · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        data,
        title=title,
        subtitle=sub,
        theme=theme,
        yaxis={"ticksuffix": "%", "rangemode": "tozero"},
        xaxis={"type": "date"},
    )


def trend_figure(frame: pl.DataFrame, name: str, as_of: str, lang: str, theme: str) -> Any:
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    per = frame["period"].to_list()
    lines = (
        ("index", ("数字鸿沟指数", "Divide index"), th["accent"]),
        (divide.INFRA, divide.PART_LABELS[divide.INFRA], th["bad"]),
        (divide.SOCIO, divide.PART_LABELS[divide.SOCIO], th["rural"]),
    )
    data: list[dict[str, object]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": pick(*label, lang),
            "x": per,
            "y": np.round(frame[col].to_numpy(), 1),
            "line": {"color": color, "width": 3 if col == "index" else 2},
            "hovertemplate": f"{pick(*label, lang)} %{{x}}: %{{y:.1f}}<extra></extra>",
        }
        for col, label, color in lines
    ]
    if "county_median" in frame.columns:
        label = ("全市乡镇中位数", "County median township")
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": pick(*label, lang),
                "x": per,
                "y": np.round(frame["county_median"].to_numpy(), 1),
                "line": {"color": th["muted"], "width": 2, "dash": "dash"},
                "hovertemplate": f"{pick(*label, lang)} %{{x}}: %{{y:.1f}}<extra></extra>",
            }
        )
    title, sub = titles(
        (f"{name}: 鸿沟在缩小吗?", f"{name}: is the divide narrowing?"),
        (
            f"0-100, 各季度同一标尺 · 虚线: 全市中位数 · 截至 {as_of}",
            f"0-100, one scale for every quarter · dashed: county median · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        data, title=title, subtitle=sub, theme=theme, yaxis={"range": [-5, 105]}, xaxis={"type": "category"}
    )
