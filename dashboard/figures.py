"""Frame -> figure. Pure functions: no queries, no callbacks. numpy arrays in, so figures build fast."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
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
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'


def _theme(theme: str) -> dict[str, object]:
    return THEMES.get(theme, THEMES["desk"])


def base_layout(fig: go.Figure, *, title: str, subtitle: str, theme: str, margin_l: int = 8) -> go.Figure:
    """Title = the question in the chosen language; subtitle = the other language, then units, period, as-of
    (see i18n.titles). The legend sits under the plot, where it cannot cover the subtitle."""
    th = _theme(theme)
    fs = int(th["font"])  # type: ignore[call-overload]
    lines = subtitle.count("<br>") + 1
    has_legend = sum(1 for t in fig.data if t.showlegend is not False) > 1
    fig.update_layout(
        title=dict(
            text=title,
            subtitle=dict(text=subtitle, font=dict(size=fs - 2, color=th["muted"])),
            font=dict(size=th["title"], color=th["fg"]),
            x=0.01,
            xanchor="left",
            y=0.985,
            yanchor="top",
            yref="container",
        ),
        paper_bgcolor=th["bg"],
        plot_bgcolor=th["bg"],
        font=dict(family=FONT, size=fs, color=th["fg"]),
        margin=dict(
            l=margin_l, r=16, t=int(th["title"]) + 26 + lines * (fs + 2), b=fs * 3 if has_legend else 8
        ),
        showlegend=has_legend,
        legend=dict(orientation="h", yanchor="top", y=-0.05, xanchor="left", x=0, font=dict(size=fs)),
        hoverlabel=dict(font=dict(family=FONT)),
        uirevision="keep",
    )
    fig.update_xaxes(gridcolor=th["grid"], zerolinecolor=th["grid"], automargin=True)
    fig.update_yaxes(gridcolor=th["grid"], zerolinecolor=th["grid"], automargin=True)
    return fig


def sparkline(dates: np.ndarray, values: np.ndarray, *, theme: str, color: str) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines",
            line=dict(color=color, width=2),
            fill="tozeroy",
            fillcolor=_alpha(color, 0.18),
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.update_layout(
        margin=dict(l=0, r=0, t=0, b=0),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, rangemode="tozero"),
        showlegend=False,
        height=None,
    )
    return fig


def ranking(
    labels: Sequence[str],
    values: np.ndarray,
    *,
    title: str,
    subtitle: str,
    theme: str,
    unit_fmt: str,
    highlight: Sequence[bool] | None = None,
    xrange: tuple[float, float] | None = None,
) -> go.Figure:
    th = _theme(theme)
    colors = [th["urban"] if h else th["rural"] for h in (highlight or [True] * len(labels))]
    fig = go.Figure(
        go.Bar(
            y=list(labels),
            x=values,
            orientation="h",
            marker_color=colors,
            text=[unit_fmt.format(v) if v == v else "—" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    base_layout(fig, title=title, subtitle=subtitle, theme=theme)
    fig.update_yaxes(autorange="reversed")
    if xrange:
        fig.update_xaxes(range=list(xrange))
    fig.update_layout(bargap=0.25)
    return fig


def urban_rural(
    labels: Sequence[str],
    urban: np.ndarray,
    rural: np.ndarray,
    *,
    names: tuple[str, str],
    title: str,
    subtitle: str,
    theme: str,
) -> go.Figure:
    th = _theme(theme)
    fig = go.Figure(
        [
            go.Bar(
                name=names[0],
                y=list(labels),
                x=urban,
                orientation="h",
                marker_color=th["urban"],
                hovertemplate="%{y}: %{x:.2f}<extra>" + names[0] + "</extra>",
            ),
            go.Bar(
                name=names[1],
                y=list(labels),
                x=rural,
                orientation="h",
                marker_color=th["rural"],
                hovertemplate="%{y}: %{x:.2f}<extra>" + names[1] + "</extra>",
            ),
        ]
    )
    base_layout(fig, title=title, subtitle=subtitle, theme=theme)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(barmode="group", bargap=0.2, bargroupgap=0.05)
    return fig


def trend(
    dates: np.ndarray,
    values: np.ndarray,
    *,
    rest: np.ndarray | None,
    title: str,
    subtitle: str,
    theme: str,
    name: str,
) -> go.Figure:
    th = _theme(theme)
    fig = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines",
            name=name,
            line=dict(color=th["accent"], width=2.5),
            hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra></extra>",
        )
    )
    if rest is not None and rest.any():
        fig.add_trace(
            go.Scatter(
                x=dates[rest],
                y=values[rest],
                mode="markers",
                name="rest",
                marker=dict(color=th["rural"], size=7),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    base_layout(fig, title=title, subtitle=subtitle, theme=theme)
    fig.update_yaxes(rangemode="tozero", tickformat="~s")
    return fig


def heatmap(
    x: np.ndarray,
    y: Sequence[str],
    z: np.ndarray,
    *,
    title: str,
    subtitle: str,
    theme: str,
    zlabel: str,
) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=list(y),
            z=z,
            colorscale="Blues" if theme == "desk" else "Viridis",
            colorbar=dict(title=dict(text=zlabel), thickness=12),
            hovertemplate="%{y} %{x|%m-%d}: %{z:,}<extra></extra>",
        )
    )
    base_layout(fig, title=title, subtitle=subtitle, theme=theme)
    fig.update_yaxes(autorange="reversed")
    return fig


def stacked(
    labels: Sequence[str],
    series: dict[str, np.ndarray],
    *,
    title: str,
    subtitle: str,
    theme: str,
    colors: Sequence[str],
) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(
                name=name,
                y=list(labels),
                x=vals,
                orientation="h",
                marker_color=colors[i % len(colors)],
                hovertemplate="%{y}: %{x:.1%}<extra>" + name + "</extra>",
            )
            for i, (name, vals) in enumerate(series.items())
        ]
    )
    base_layout(fig, title=title, subtitle=subtitle, theme=theme)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    return fig


def _alpha(hex_color: str, a: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"
