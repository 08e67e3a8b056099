"""Frame -> figure. Pure functions: no queries, no callbacks. numpy arrays in, so figures build fast."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go

PALETTE = [
    "#3b82f6",
    "#14b8a6",
    "#f59e0b",
    "#ef4444",
    "#8b5cf6",
    "#22c55e",
    "#ec4899",
    "#0ea5e9",
    "#eab308",
    "#64748b",
    "#f97316",
    "#10b981",
]

THEMES = {
    "desk": dict(
        bg="rgba(0,0,0,0)",
        fg="#1f2937",
        muted="#6b7280",
        grid="#e5e7eb",
        font=12,
        title=14,
        urban="#2563eb",
        rural="#f59e0b",
        accent="#2563eb",
        good="#16a34a",
        bad="#dc2626",
    ),
    "wall": dict(
        bg="rgba(0,0,0,0)",
        fg="#e6edf3",
        muted="#9fb0c3",
        grid="#22324a",
        font=17,
        title=20,
        urban="#60a5fa",
        rural="#fbbf24",
        accent="#38bdf8",
        good="#4ade80",
        bad="#f87171",
    ),
}
# Explicit scales: a scale *name* in an unvalidated figure goes to plotly.js, whose "Blues" runs
# dark-to-light, the reverse of plotly.py's; a list means the same thing everywhere.
BLUES = pc.make_colorscale(pc.sequential.Blues)
VIRIDIS = pc.make_colorscale(pc.sequential.Viridis)
# Date ticks and counts as each language writes them: 9月6日 / Sep 6, and 3,500 rather than SI "3.5k".
DATE_TICKS = {"zh": "%-m月%-d日", "en": "%b %-d"}
DATE_HOVER = {"zh": "%Y年%-m月%-d日", "en": "%Y-%m-%d"}
COUNT_FMT = ","


def date_axis(lang: str) -> dict[str, object]:
    return {
        "tickformat": DATE_TICKS.get(lang, DATE_TICKS["zh"]),
        "hoverformat": DATE_HOVER.get(lang, "%Y-%m-%d"),
    }


FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'


def _theme(theme: str) -> dict[str, object]:
    return THEMES.get(theme, THEMES["desk"])


def chart(
    data: list[dict[str, object]],
    *,
    title: str,
    subtitle: str,
    theme: str,
    xaxis: dict[str, object] | None = None,
    yaxis: dict[str, object] | None = None,
    **layout: object,
) -> go.Figure:
    """One figure from plain trace dicts and one layout dict, built in a single unvalidated step: the
    builders here emit well-formed properties, and plotly's per-property validation and update paths
    cost ~80 ms a chart (the same switch plotly.express uses).

    Title = the question in the chosen language; subtitle = the other language, then units, period,
    as-of (see i18n.titles). The legend sits under the plot, where it cannot cover the subtitle."""
    th = _theme(theme)
    fs = int(th["font"])  # type: ignore[call-overload]
    lines = subtitle.count("<br>") + 1
    has_legend = sum(1 for t in data if t.get("showlegend") is not False) > 1
    axis = {"gridcolor": th["grid"], "zerolinecolor": th["grid"], "automargin": True}
    base = {
        "title": {
            "text": title,
            "subtitle": {"text": subtitle, "font": {"size": fs - 2, "color": th["muted"]}},
            "font": {"size": th["title"], "color": th["fg"]},
            "x": 0.01,
            "xanchor": "left",
            "y": 0.985,
            "yanchor": "top",
            "yref": "container",
        },
        "paper_bgcolor": th["bg"],
        "plot_bgcolor": th["bg"],
        "font": {"family": FONT, "size": fs, "color": th["fg"]},
        "margin": {
            "l": 8,
            "r": 16,
            "t": int(str(th["title"])) + 26 + lines * (fs + 2),
            "b": fs * 3 if has_legend else 8,
        },
        "showlegend": has_legend,
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.05,
            "xanchor": "left",
            "x": 0,
            "font": {"size": fs},
        },
        "hoverlabel": {"font": {"family": FONT}},
        "uirevision": "keep",
        "xaxis": {**axis, **(xaxis or {})},
        "yaxis": {**axis, **(yaxis or {})},
        **layout,
    }
    return go.Figure(data=data, layout=base, _validate=False)


def sparkline(dates: np.ndarray, values: np.ndarray, *, theme: str, color: str) -> dict[str, object]:
    """A tile's trend line as a plain figure dict (twelve of them on the overview)."""
    return {
        "data": [
            {
                "type": "scatter",
                "x": dates,
                "y": values,
                "mode": "lines",
                "line": {"color": color, "width": 2},
                "fill": "tozeroy",
                "fillcolor": _alpha(color, 0.18),
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": {
            "separators": ".,",
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "rangemode": "tozero"},
            "showlegend": False,
        },
    }


def ranking(
    labels: Sequence[str],
    values: np.ndarray,
    *,
    title: str,
    subtitle: str,
    theme: str,
    unit_fmt: str,
    highlight: Sequence[bool] | None = None,
    percent: bool = False,
) -> go.Figure:
    """Horizontal bars, best first, starting at zero: a cut axis would turn a 1-point gap into a
    bar twice as long. `highlight` colours urban (True) and rural (False); None = one colour."""
    th = _theme(theme)
    colors = th["accent"] if highlight is None else [th["urban"] if h else th["rural"] for h in highlight]
    bar = {
        "type": "bar",
        "y": list(labels),
        "x": values,
        "orientation": "h",
        "marker": {"color": colors},
        "text": [unit_fmt.format(v) if v == v else "—" for v in values],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    finite = values[np.isfinite(values)] if len(values) else values
    top = float(finite.max()) if finite.size and float(finite.max()) > 0 else 1.0
    return chart(
        [bar],
        title=title,
        subtitle=subtitle,
        theme=theme,
        yaxis={"autorange": "reversed"},
        # room for the value labels outside the longest bar; a rate axis stops just past 100 %
        xaxis={
            "range": [0, min(top * 1.18, 1.12) if percent else top * 1.18],
            **({"tickformat": ".0%"} if percent else {}),
        },
        bargap=0.25,
    )


def urban_rural(
    labels: Sequence[str],
    sides: dict[str, tuple[str, np.ndarray]],
    *,
    title: str,
    subtitle: str,
    theme: str,
) -> go.Figure:
    """Grouped bars per module, one series per side present ("urban" and/or "rural": (name, values)),
    so a single township's chart has no empty legend entry."""
    th = _theme(theme)
    bars = [_hbar(name, labels, vals, str(th[side]), ".2f") for side, (name, vals) in sides.items()]
    return chart(
        bars,
        title=title,
        subtitle=subtitle,
        theme=theme,
        yaxis={"autorange": "reversed"},
        barmode="group",
        bargap=0.2,
        bargroupgap=0.05,
    )


def trend(
    dates: np.ndarray,
    values: np.ndarray,
    *,
    rest: np.ndarray | None,
    title: str,
    subtitle: str,
    theme: str,
    name: str,
    lang: str = "zh",
) -> go.Figure:
    th = _theme(theme)
    data: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": dates,
            "y": values,
            "mode": "lines",
            "name": name,
            "line": {"color": th["accent"], "width": 2.5},
            "hovertemplate": "%{x}: %{y:,}<extra></extra>",
        }
    ]
    if rest is not None and rest.any():
        data.append(
            {
                "type": "scatter",
                "x": dates[rest],
                "y": values[rest],
                "mode": "markers",
                "name": "rest",
                "marker": {"color": th["rural"], "size": 7},
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    return chart(
        data,
        title=title,
        subtitle=subtitle,
        theme=theme,
        xaxis=date_axis(lang),
        yaxis={"rangemode": "tozero", "tickformat": COUNT_FMT},
    )


def heatmap(
    x: np.ndarray,
    y: Sequence[str],
    z: np.ndarray,
    *,
    title: str,
    subtitle: str,
    theme: str,
    zlabel: str,
    lang: str = "zh",
) -> go.Figure:
    hm = {
        "type": "heatmap",
        "x": x,
        "y": list(y),
        "z": z,
        "colorscale": BLUES if theme == "desk" else VIRIDIS,
        "colorbar": {"title": {"text": zlabel}, "thickness": 12},
        "hovertemplate": "%{y} %{x}: %{z:.2f}<extra></extra>",
    }
    return chart(
        [hm],
        title=title,
        subtitle=subtitle,
        theme=theme,
        xaxis=date_axis(lang),
        yaxis={"autorange": "reversed"},
    )


def stacked(
    labels: Sequence[str],
    series: dict[str, np.ndarray],
    *,
    title: str,
    subtitle: str,
    theme: str,
    colors: Sequence[str],
) -> go.Figure:
    bars = [
        _hbar(name, labels, vals, colors[i % len(colors)], ".1%")
        for i, (name, vals) in enumerate(series.items())
    ]
    return chart(
        bars,
        title=title,
        subtitle=subtitle,
        theme=theme,
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"tickformat": ".0%", "range": [0, 1]},
    )


def _hbar(name: str, labels: Sequence[str], vals: np.ndarray, color: str, fmt: str) -> dict[str, object]:
    """One named horizontal bar series, hover showing `fmt` of the value."""
    return {
        "type": "bar",
        "name": name,
        "y": list(labels),
        "x": vals,
        "orientation": "h",
        "marker": {"color": color},
        "hovertemplate": "%{y}: %{x:" + fmt + "}<extra>" + name + "</extra>",
    }


def _alpha(hex_color: str, a: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"
