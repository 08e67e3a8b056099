"""Component factories shared by pages: KPI cards with definitions, panels for empty/error states."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from dash import dcc, html

from dashboard.i18n import bi, bi_text, both, pick
from queries.errors import PoolError


@dataclass(frozen=True)
class KpiDef:
    """What a number means: shown on hover next to every KPI."""

    formula: tuple[str, str]
    numerator: tuple[str, str]
    denominator: tuple[str, str]
    period: tuple[str, str]
    source: str  # query module.function

    def render(self, lang: str) -> html.Div:
        return _render_def(self, lang)

    def _build(self, lang: str) -> html.Div:
        def row(label: tuple[str, str], value: tuple[str, str]) -> html.Div:
            return html.Div(
                [
                    html.Span(pick(*label, lang), className="kdef-k"),
                    html.Span(pick(*value, lang), className="kdef-v"),
                ],
                className="kdef-row",
            )

        return html.Div(
            [
                row(("公式", "Formula"), self.formula),
                row(("分子", "Numerator"), self.numerator),
                row(("分母", "Denominator"), self.denominator),
                row(("统计期", "Period"), self.period),
                row(("来源", "Source"), (self.source, self.source)),
            ],
            className="kpi-def",
            role="tooltip",
        )


@functools.lru_cache(maxsize=512)
def _render_def(d: KpiDef, lang: str) -> html.Div:
    # Definitions never change and Dash components are slow to construct (~4 ms for this tree);
    # one shared, id-less instance per definition and language serialises the same every time.
    return d._build(lang)


def kpi_card(
    cid: str,
    label: tuple[str, str],
    value: str,
    definition: KpiDef,
    lang: str,
    *,
    sub: str = "",
    tone: str = "",
) -> html.Div:
    return html.Div(
        [
            bi_text(*label, lang, "kpi-label"),
            html.Div(value, className="kpi-value"),
            html.Div(sub, className="kpi-sub"),
            definition.render(lang),
        ],
        id=cid,
        className=f"kpi {tone}".strip(),
        tabIndex=0,
    )


def error_panel(exc: PoolError, lang: str) -> html.Div:
    return html.Div(
        [
            html.Div("⚠", className="panel-icon"),
            bi("pool_error", lang, "panel-title"),
            html.P(both(exc.zh, exc.en, lang, " / ")),
            html.P(exc.hint, className="panel-hint") if exc.hint else None,
            html.A(bi("retry", lang), href="", className="panel-action"),
        ],
        className="state-panel state-error",
        role="alert",
        id="app-error-panel",
    )


def empty_state(lang: str, what: tuple[str, str] | None = None) -> html.Div:
    return html.Div(
        [bi("no_data", lang, "panel-title"), html.P(both(*what, lang) if what else "")],
        className="state-panel state-empty",
    )


def notice(messages: list[tuple[str, str]], lang: str) -> html.Div | None:
    if not messages:
        return None
    return html.Div(
        [html.Div(both(zh, en, lang, " / ")) for zh, en in messages], className="notice", role="status"
    )


def graph(gid: str, figure: object, cls: str = "chart") -> dcc.Graph:
    """A chart responsive to its card. On hover, one button: save as PNG (for meeting slides); the wall
    theme hides the mode bar entirely (see base.css)."""
    return dcc.Graph(
        id=gid,
        figure=figure,
        className=cls,
        responsive=True,
        config={
            "displaylogo": False,
            "displayModeBar": "hover",
            "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": "png", "filename": gid, "scale": 2},
        },
    )


def delivering_tone(down: int, total: int) -> str:
    """One tone rule for every "N/M delivering" card: green when all deliver, red when any is down."""
    if total == 0:
        return ""
    return "good" if down == 0 else "bad"


def folded(cid: str, text: tuple[str, str], lang: str, cls: str = "folded") -> html.Div:
    """One muted line standing for rows outside the viewer's scope, instead of rows of zeros."""
    return html.Div(both(*text, lang, " / "), id=cid, className=cls)
