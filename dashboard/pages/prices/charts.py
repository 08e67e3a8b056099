"""Frame -> figure for the price monitor: the warning board, a series with its seasonal band and warnings,
the indicators' own charts, the hog-grain ratio. Pure functions on numpy arrays (see dashboard.figures)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import polars as pl

from dashboard import figures
from dashboard.i18n import pick, titles
from queries import price_signals as sig
from queries import prices

LEVEL_COLORS = ["#22c55e", "#f59e0b", "#ef4444", "#991b1b"]  # normal, watch, abnormal, escalated
LEVEL_WORDS = (("正常", "normal"), ("关注", "watch"), ("异常", "abnormal"), ("升级", "escalated"))
# An empty template: every colour, font and grid here is set by figures.chart or the trace itself, and
# copying plotly's default template costs half of each figure's build (measured: 21 -> 10 ms a chart).
BARE: dict[str, object] = {}


def month_dates(months: np.ndarray) -> np.ndarray:
    """Months (year * 12 + month - 1) -> the 15th of each month, as datetime64[D] for a date axis."""
    y = months // 12
    m = months % 12
    return ((y - 1970) * 12 + m).astype("datetime64[M]").astype("datetime64[D]") + np.timedelta64(14, "D")


def board(frame: pl.DataFrame, *, lang: str, theme: str, as_of: str) -> go.Figure:
    """Products x markets, coloured by the combined level of the newest month; the worst products on top."""
    products, markets = prices.board_axes(frame=frame)
    pidx = {p: i for i, p in enumerate(products["product"])}
    midx = {m: i for i, m in enumerate(markets["market"])}
    z = np.full((len(pidx), len(midx)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    for r in frame.iter_rows(named=True):
        i, j = pidx[r["product"]], midx[r["market"]]
        z[i, j] = r["level"]
        word = pick(*LEVEL_WORDS[int(r["level"])], lang)
        arrow = "↑" if r["side"] == "high" else "↓" if r["side"] == "low" else ""
        text[i, j] = f"{word}{arrow}" if r["qualifies"] or r["level"] else pick("不合格", "n/q", lang)
    scale = [[k / 3, c] for k, c in enumerate(LEVEL_COLORS)]
    hm = {
        "type": "heatmap",
        "x": [pick(a, b, lang) for a, b in zip(markets["market_zh"], markets["market_en"], strict=True)],
        "y": [pick(a, b, lang) for a, b in zip(products["product_zh"], products["product_en"], strict=True)],
        "z": z,
        "zmin": 0,
        "zmax": 3,
        "text": text,
        "texttemplate": "%{text}",
        "colorscale": scale,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>",
    }
    title, sub = titles(
        ("哪些产品、哪些市场价格异常?", "Which products, in which markets, are priced abnormally?"),
        (
            f"综合等级 (IFPA, ALPS, 成本) · 最新月 · 最差在上 · 截至 {as_of}",
            f"combined level (IFPA, ALPS, cost) · newest month · worst on top · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        [hm],
        title=title,
        subtitle=sub,
        theme=theme,
        yaxis={"autorange": "reversed", "gridcolor": "rgba(0,0,0,0)"},
        xaxis={"side": "bottom", "gridcolor": "rgba(0,0,0,0)"},
        template=BARE,
    )


def series(
    months: pl.DataFrame, *, name: str, lang: str, theme: str, as_of: str, qualifies: bool
) -> go.Figure:
    """Monthly price with the seasonal trend and its 1 and 2 sd bands (ALPS), the production cost, and
    every month at level 2 or more marked on its side."""
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    m = months["month"].to_numpy()
    x = month_dates(m)
    price = months["price"].to_numpy()
    nobs = months["n_obs"].to_numpy()
    data: list[dict[str, object]] = []
    if qualifies and months["trend"].null_count() < months.height:
        trend = months["trend"].to_numpy().astype(float)
        sd = months["resid_sd"].fill_null(0).to_numpy().astype(float)
        for k, alpha in ((2, 0.10), (1, 0.18)):
            data.append(
                _band(
                    x,
                    trend - k * sd,
                    trend + k * sd,
                    th,
                    alpha,
                    pick(f"季节趋势 ±{k}σ", f"seasonal trend ±{k}σ", lang),
                )
            )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": trend,
                "mode": "lines",
                "name": pick("季节趋势", "seasonal trend", lang),
                "line": {"color": th["muted"], "dash": "dot", "width": 1.5},
                "hovertemplate": "%{y:.2f}<extra></extra>",
            }
        )
    cost = months["cost"].to_numpy().astype(float)
    if np.isfinite(cost).any():
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": cost,
                "mode": "lines",
                "name": pick("生产成本", "production cost", lang),
                "line": {"color": th["bad"], "dash": "dash", "width": 1.5},
                "hovertemplate": "%{y:.2f}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": x,
            "y": price,
            "customdata": nobs,
            "mode": "lines+markers",
            "name": name,
            "line": {"color": th["accent"], "width": 2.5},
            "marker": {"size": 4},
            "hovertemplate": "%{x|%Y-%m}: %{y:.2f} · n=%{customdata}<extra></extra>",
        }
    )
    lv = months["level"].to_numpy()
    side = months["side"].to_list()
    for s, symbol, color, label in (
        ("high", "triangle-up", th["bad"], pick("偏高预警", "high warning", lang)),
        ("low", "triangle-down", "#7c3aed", pick("偏低预警", "low warning", lang)),
    ):
        mask = (lv >= 2) & np.array([v == s for v in side])
        if mask.any():
            data.append(
                {
                    "type": "scatter",
                    "x": x[mask],
                    "y": price[mask],
                    "mode": "markers",
                    "name": label,
                    "marker": {"symbol": symbol, "size": 11, "color": color},
                    "hovertemplate": "%{x|%Y-%m}: %{y:.2f}<extra>" + label + "</extra>",
                }
            )
    title, sub = titles(
        (f"{name}: 价格是否偏离季节常态?", f"{name}: is the price off its seasonal norm?"),
        (
            f"单位: 元/公斤 · 月均价 (n = 当月观测数) · 截至 {as_of}",
            f"yuan/kg · monthly mean (n = observations that month) · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        data,
        title=title,
        subtitle=sub,
        theme=theme,
        xaxis={"tickformat": "%Y-%m"},
        yaxis={"rangemode": "tozero"},
        template=BARE,
    )


def _band(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, th: dict[str, object], alpha: float, name: str
) -> dict[str, object]:
    return {
        "type": "scatter",
        "x": np.concatenate([x, x[::-1]]),
        "y": np.concatenate([hi, lo[::-1]]),
        "fill": "toself",
        "fillcolor": figures._alpha(str(th["accent"]), alpha),
        "line": {"width": 0},
        "name": name,
        "hoverinfo": "skip",
    }


def indicator(
    months: pl.DataFrame,
    column: str,
    bands: Sequence[float],
    *,
    q: tuple[str, str],
    unit: tuple[str, str],
    lang: str,
    theme: str,
    as_of: str,
) -> go.Figure:
    """One indicator month by month as bars coloured by band, with its band edges drawn."""
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    v = months[column].to_numpy().astype(float)
    x = month_dates(months["month"].to_numpy())
    a = np.abs(np.nan_to_num(v))
    colors = np.where(a >= bands[-1], str(th["bad"]), np.where(a >= bands[0], "#f59e0b", str(th["good"])))
    data: list[dict[str, object]] = [
        {
            "type": "bar",
            "x": x,
            "y": v,
            "marker": {"color": colors.tolist()},
            "name": column.upper(),
            "hovertemplate": "%{x|%Y-%m}: %{y:.2f}<extra></extra>",
        }
    ]
    shapes = [_hline(s * b, str(th["muted"]), "dot") for b in bands for s in (1, -1)]
    title, sub = titles(q, unit, lang)
    empty = (
        [
            {
                "text": pick(
                    "无数据: 历史不足或序列不合格 (见上方说明)",
                    "no figure: history too short or series not qualifying (see above)",
                    lang,
                ),
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"color": str(th["muted"])},
            }
        ]
        if np.isnan(v).all()
        else []
    )
    return figures.chart(
        data,
        title=title,
        subtitle=sub + f" · {pick('截至', 'as of', lang)} {as_of}",
        theme=theme,
        xaxis={"tickformat": "%Y-%m"},
        shapes=shapes,
        annotations=empty,
        template=BARE,
    )


def _hline(y: float, color: str, dash: str) -> dict[str, object]:
    """A horizontal reference line across the plot at `y` (a band edge, a warning line)."""
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": color, "dash": dash, "width": 1},
    }


def hog_grain(weeks: pl.DataFrame, *, lang: str, theme: str, as_of: str) -> go.Figure:
    """Weekly hog-grain ratio with the plan's lines at 5, 6 and 9, and pork's change on a year earlier."""
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    x = (weeks["week"].to_numpy().astype(np.int64) * 7 - 3).astype("datetime64[D]")
    ratio = weeks["ratio"].to_numpy().astype(float)
    fall = weeks["fall_level"].fill_null(0).to_numpy()
    rise = weeks["rise_level"].fill_null(0).to_numpy()
    color = np.where(
        (fall == 1) | (rise == 1),
        str(th["bad"]),
        np.where((fall > 0) | (rise > 0), "#f59e0b", str(th["accent"])),
    )
    data: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": x,
            "y": ratio,
            "mode": "lines+markers",
            "name": pick("猪粮比", "hog-grain ratio", lang),
            "line": {"color": th["accent"], "width": 2},
            "marker": {"color": color.tolist(), "size": 6},
            "hovertemplate": "%{x|%Y-%m-%d}: %{y:.2f}:1<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": weeks["pork_yoy"].to_numpy().astype(float) * 100,
            "mode": "lines",
            "yaxis": "y2",
            "name": pick("猪肉零售价同比 %", "pork retail y/y %", lang),
            "line": {"color": th["rural"], "width": 1.5, "dash": "dot"},
            "hovertemplate": "%{x|%Y-%m-%d}: %{y:.0f}%<extra></extra>",
        },
    ]
    shapes = [
        _hline(y, c, "dash")
        for y, c in (
            (sig.HOG_GRAIN_CRITICAL, str(th["bad"])),
            (sig.HOG_GRAIN_LOW, "#f59e0b"),
        )
    ] + [_hline(sig.HOG_GRAIN_HIGH, "#94a3b8", "dot")]  # a reference from the older plans, not a level
    title, sub = titles(
        ("猪粮比价是否越过国家预警线?", "Is the hog-grain ratio past the national warning lines?"),
        (
            f"比值 (生猪/玉米), 右轴 % · 周度 · 线: 5:1, 6:1, 9:1 参考 · 截至 {as_of}",
            f"ratio (hog / corn), right axis % · weekly · lines at 5:1, 6:1; 9:1 for reference · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        data,
        title=title,
        subtitle=sub,
        theme=theme,
        xaxis={"tickformat": "%Y-%m"},
        yaxis2=right_axis(ticksuffix="%"),
        shapes=shapes,
        template=BARE,
    )


def volumes(frame: pl.DataFrame, *, name: str, lang: str, theme: str, as_of: str) -> go.Figure:
    """The cooperatives' monthly production and sales (bars, tonnes) against the farm-gate price (line,
    right axis): do farmers sell less when the price falls, and does production follow the price?"""
    th = figures.THEMES.get(theme, figures.THEMES["desk"])
    x = month_dates(frame["month"].to_numpy())
    data: list[dict[str, object]] = [
        {
            "type": "bar",
            "x": x,
            "y": frame["produced_kg"].to_numpy().astype(float) / 1000,
            "name": pick("产量 (吨)", "produced (t)", lang),
            "marker": {"color": "#94a3b8"},
            "hovertemplate": "%{x|%Y-%m}: %{y:,.1f} t<extra></extra>",
        },
        {
            "type": "bar",
            "x": x,
            "y": frame["sold_kg"].to_numpy().astype(float) / 1000,
            "name": pick("销量 (吨)", "sold (t)", lang),
            "marker": {"color": th["accent"]},
            "hovertemplate": "%{x|%Y-%m}: %{y:,.1f} t<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": frame["farm_gate_price"].to_numpy().astype(float),
            "mode": "lines",
            "yaxis": "y2",
            "name": pick("地头价 (元/公斤)", "farm-gate price (yuan/kg)", lang),
            "line": {"color": th["bad"], "width": 2},
            "hovertemplate": "%{x|%Y-%m}: %{y:.2f} yuan/kg<extra></extra>",
        },
    ]
    title, sub = titles(
        (
            f"{name}: 合作社的产销是否随价格变化?",
            f"{name}: do the cooperatives' output and sales follow the price?",
        ),
        (
            f"单位: 吨 (柱), 元/公斤 (线, 右轴) · 月度 · 合作社报告 · 截至 {as_of}",
            f"tonnes (bars), yuan/kg (line, right axis) · monthly · cooperatives' reports · as of {as_of}",
        ),
        lang,
    )
    return figures.chart(
        data,
        title=title,
        subtitle=sub,
        theme=theme,
        barmode="group",
        xaxis={"tickformat": "%Y-%m"},
        yaxis2=right_axis(tickformat=".1f", rangemode="tozero"),
        template=BARE,
    )


def right_axis(**extra: object) -> dict[str, object]:
    """A second y axis on the right, over the first, without its own grid."""
    return {
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
        "zeroline": False,
        "automargin": True,
        **extra,
    }
