"""Frames of the loop view -> figures (pure: no queries, no callbacks)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from dashboard.figures import THEMES, chart
from dashboard.i18n import pick, titles
from queries import case_rules, loop

# opaque cell colours so plotly picks readable cell text on either theme
HEAT = {"desk": {"cell0": "#f1f5ff", "cell1": "#1d4ed8"}, "wall": {"cell0": "#13223b", "cell1": "#0ea5e9"}}
# the stage names of the rules, but the first stage says what waiting in it means on these charts
STAGE_LABELS = {**case_rules.STAGE_LABELS, "monitoring": ("监测(待签收)", "Monitoring (to sign for)")}


def funnel_figure(frame: pl.DataFrame, period: tuple[str, str], asof: str, lang: str, theme: str) -> Any:
    """How many of the period's cases reached each stage of the loop."""
    th = THEMES.get(theme, THEMES["desk"])
    labels = [pick(z, e, lang) for z, e in zip(frame["zh"], frame["en"], strict=True)]
    n = frame["n"].to_numpy()
    first = max(int(n[0]), 1) if len(n) else 1
    colors = [th["accent"]] * len(n)
    if len(n) >= 5:  # evaluation and feedback: the stages the paper says are neglected
        colors[3] = colors[4] = th["rural"]
    data: list[dict[str, object]] = [
        {
            "type": "funnel",
            "y": labels,
            "x": n,
            "marker": {"color": colors},
            "text": [f"{int(v):,} · {v / first:.0%}" for v in n],
            "textinfo": "text",
            "hovertemplate": "%{y}: %{x:,} " + pick("件", "cases", lang) + "<extra></extra>",
        }
    ]
    t, s = titles(
        ("案件在闭环的哪一步停下?", "Where do cases stop in the loop?"),
        (
            f"单位: 件 · 占受理 % · {period[0]} 受理 · 数据截至 {asof}",
            f"unit: cases · % of opened · opened {period[1]} · as of {asof}",
        ),
        lang,
    )
    return chart(data, title=t, subtitle=s, theme=theme, yaxis={"automargin": True})


def durations_figure(frame: pl.DataFrame, period: tuple[str, str], asof: str, lang: str, theme: str) -> Any:
    """Share of the stage's cases per duration bucket (working hours), one row per stage."""
    th = HEAT[theme if theme in HEAT else "desk"]
    labels = loop.bucket_labels()
    stages = [s for s in loop.STAGES if s in set(frame["stage"].to_list())]
    z = np.zeros((len(stages), len(labels)))
    counts = np.zeros((len(stages), len(labels)), dtype=np.int64)
    for st, b, n in frame.iter_rows():
        if st in stages and 0 <= int(b) < len(labels):
            counts[stages.index(st), int(b)] = int(n)
    totals = counts.sum(axis=1, keepdims=True)
    z = np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)
    ylab = [pick(*STAGE_LABELS[s], lang) for s in stages]
    data: list[dict[str, object]] = [
        {
            "type": "heatmap",
            "z": z,
            "x": labels,
            "y": ylab,
            "customdata": counts,
            "colorscale": [[0, th["cell0"]], [1, th["cell1"]]],
            "zmin": 0,
            "zmax": max(float(z.max()) if z.size else 1.0, 0.01),
            "texttemplate": "%{z:.0%}",
            "hovertemplate": "%{y} · %{x}: %{customdata:,} "
            + pick("件", "cases", lang)
            + " (%{z:.1%})<extra></extra>",
            "showscale": False,
        }
    ]
    t, s = titles(
        ("每个环节用了多少工作时间?", "How long does each stage take, in working hours?"),
        (
            f"单位: 工作小时 (每日8小时, 法定节假日不计) · 占该环节案件 % · {period[0]} 受理 · 数据截至 {asof}",
            f"unit: working hours (8 a day, official holidays excluded) · % of the stage's cases · "
            f"opened {period[1]} · as of {asof}",
        ),
        lang,
    )
    return chart(data, title=t, subtitle=s, theme=theme, yaxis={"autorange": "reversed"})
