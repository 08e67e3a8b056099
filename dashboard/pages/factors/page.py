"""What goes with better governance in our townships? The second source paper's factor analysis (Tables
2-4) on the pool's own township figures, with the checks the paper lacks (issue 12)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import auth, wall
from dashboard.components import graph, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.factors import views
from dashboard.view import PageParams, as_of_text, guarded, page_params
from queries import factors, meta, stats
from queries.errors import PoolError
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/factors",
    name="factors",
    title="治理因素分析 · Governance factors",
    order=5,
    ready="#factors-models-table",
    roles=("leader", "admin"),  # the shell lists it only for these; render() refuses the rest
)
ROLES: tuple[str, ...] = tuple(dash.page_registry[__name__]["roles"])


class ids:
    root = "factors-root"
    params = "factors-params-store"
    content = "factors-content"
    year = "factors-year-dropdown"
    y = "factors-y-dropdown"
    xs = "factors-x-dropdown"
    robust = "factors-robust-checklist"
    describe = "factors-describe-table"
    corr = "factors-corr-graph"
    vif = "factors-vif-graph"
    models = "factors-models-table"
    loo = "factors-loo-table"
    resid = "factors-resid-graph"
    partial = "factors-partial-graph"
    summary = "factors-summary"
    denied = "factors-denied-panel"
    message = "factors-message"


POOLED = "all"


def _alert(v: Viewer) -> str | None:
    """Amber while the default model (all regressors, the newest year) cannot be trusted: too few degrees
    of freedom, or no overall significance at 10%."""
    if v.role not in ROLES:
        return None
    try:
        a = _analysis(v, factors.years(scope=v.scope())[0], factors.DEPENDENT, factors.REGRESSORS, False)
    except (stats.StatsInputError, IndexError):
        return "amber"
    m = a.models[-1]
    return "amber" if m.few_df or m.f_p >= 0.10 else None


wall.register(__name__, _alert)


def _models(xs: list[str]) -> list[list[str]]:
    """The paper's nested models restricted to the chosen regressors, the full set last."""
    out: list[list[str]] = []
    for m in factors.DEFAULT_MODELS:
        kept = [x for x in m if x in xs]
        if kept and kept not in out:
            out.append(kept)
    if xs and sorted(xs) not in [sorted(m) for m in out]:
        out.append(list(xs))
    return out


def _analysis(v: Viewer, year: int | None, y: str, xs: list[str], robust: bool) -> factors.Analysis:
    return factors.township_analysis(
        scope=v.scope(), year=year, y=y, xs=list(xs), models=_models(list(xs)), robust=robust
    )


def _var_options(lang: str, names: list[str]) -> list[dict[str, str]]:
    return [{"label": views.var_label(n, lang), "value": n} for n in names]


def _years(v: Viewer | None) -> list[int]:
    if v is None or v.role not in ROLES:
        return []
    try:
        return factors.years(scope=v.scope())
    except PoolError:  # the results panel below shows the pool error
        return []


def controls(p: PageParams, years: list[int]) -> html.Div:
    lang = p.lang
    year_opts = [{"label": str(y), "value": str(y)} for y in years]
    year_opts.append({"label": pick("全部年份合并", "All years pooled", lang), "value": POOLED})
    variables = _var_options(lang, list(factors.VARIABLES))
    return html.Div(
        [
            html.Label(
                [
                    bi_text("年份", "Year", lang),
                    dcc.Dropdown(
                        id=ids.year, options=year_opts, value=year_opts[0]["value"], clearable=False
                    ),
                ]
            ),
            html.Label(
                [
                    bi_text("因变量", "Dependent", lang),
                    dcc.Dropdown(id=ids.y, options=variables, value=factors.DEPENDENT, clearable=False),
                ]
            ),
            html.Label(
                [
                    bi_text("自变量", "Regressors", lang),
                    dcc.Dropdown(id=ids.xs, options=variables, value=factors.REGRESSORS, multi=True),
                ],
                className="factors-xs",
            ),
            dcc.Checklist(
                id=ids.robust,
                options=[{"label": both("稳健标准误 (HC1)", "Robust SE (HC1)", lang), "value": "hc1"}],
                value=[],
            ),
        ],
        className="factors-controls card",
    )


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    try:
        v = auth.current_viewer()
    except PoolError:
        v = None
    years = _years(v)
    allowed = v is not None and v.role in ROLES
    first = years[0] if years else None
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            controls(p, years) if allowed else None,
            html.Div(
                guarded(render, p.lang, p, first, factors.DEPENDENT, factors.REGRESSORS, False),
                id=ids.content,
                className="factors",
            ),
        ],
        id=ids.root,
        className="factors",
    )


@callback(
    Output(ids.content, "children"),
    Input(ids.year, "value"),
    Input(ids.y, "value"),
    Input(ids.xs, "value"),
    Input(ids.robust, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def update(year: object, y: object, xs: object, robust: object, params: object) -> Any:
    p = PageParams.from_store(params)
    yr: int | None
    if year == POOLED:
        yr = None
    else:
        try:
            yr = int(str(year))
        except ValueError:
            return message(("年份无效", "Not a valid year"), p.lang)
    chosen = [str(x) for x in xs] if isinstance(xs, list) else []
    hc1 = isinstance(robust, list) and "hc1" in robust
    return guarded(render, p.lang, p, yr, str(y), chosen, hc1)


def message(text: tuple[str, str], lang: str) -> html.Div:
    return html.Div(
        both(*text, lang, " / "), id=ids.message, className="state-panel state-empty", role="alert"
    )


def denied(lang: str) -> html.Div:
    return html.Div(
        [
            html.Div("🔒", className="panel-icon"),
            bi_text(
                "无权查看治理因素分析", "You may not view the governance factor analysis", lang, "panel-title"
            ),
            html.P(
                both("此页面供领导和分析人员使用.", "This page is for leaders and analysts.", lang, " / ")
            ),
        ],
        className="state-panel state-empty",
        id=ids.denied,
        role="alert",
    )


def render(v: Viewer, p: PageParams, year: int | None, y: str, xs: list[str], robust: bool) -> list[Any]:
    lang = p.lang
    if v.role not in ROLES:
        return [denied(lang)]
    try:
        a = _analysis(v, year, y, xs, robust)
    except stats.StatsInputError as exc:
        return [message((exc.zh, exc.en), lang)]
    as_of = as_of_text(meta.pool_status().as_of)
    th = p.theme
    notes: list[tuple[str, str]] = []
    if a.dropped:
        notes.append(
            (f"因缺失值剔除: {'、'.join(a.dropped)}", f"Left out for missing values: {', '.join(a.dropped)}")
        )
    if robust:
        notes.append(("标准误为 HC1 稳健标准误", "Standard errors are robust (HC1)"))
    period = (
        pick(f"{year} 年", f"year {year}", lang)
        if year is not None
        else pick("全部年份合并", "all years pooled", lang)
    )

    def card(title: tuple[str, str], body: Any, cls: str = "card") -> html.Div:
        return html.Div([html.Div(bi_text(*title, lang), className="card-title"), body], className=cls)

    summary = card(
        ("结论 (数据截至 " + as_of + ")", "What it says (data as of " + as_of + ")"),
        html.Ul([html.Li(both(zh, en, lang, " / ")) for zh, en in views.summary(a, lang)], id=ids.summary),
    )
    models = card(
        ("表4 嵌套回归模型 · " + period, "Table 4 nested OLS models · " + period),
        views.model_table(a, lang, ids.models),
        "card factors-wide",
    )
    corr = html.Div(
        graph(ids.corr, views.corr_figure(a, theme=th, lang=lang, as_of=as_of)), className="card chart-card"
    )
    if th == "wall":
        return [notice(notes, lang), html.Div([models, corr], className="pool-row"), summary]
    return [
        notice(notes, lang),
        summary,
        html.Div(
            [
                card(
                    ("表2 描述性统计 · " + period, "Table 2 descriptive statistics · " + period),
                    views.describe_table(a, lang, ids.describe),
                ),
                corr,
            ],
            className="pool-row",
        ),
        html.Div(
            [
                models,
                html.Div(
                    graph(ids.vif, views.vif_figure(a, theme=th, lang=lang, as_of=as_of)),
                    className="card chart-card",
                ),
            ],
            className="pool-row",
        ),
        html.Div(
            [
                html.Div(
                    graph(ids.resid, views.residual_figure(a, theme=th, lang=lang, as_of=as_of)),
                    className="card chart-card",
                ),
                html.Div(
                    graph(ids.partial, views.partial_figure(a, a.xs[0], theme=th, lang=lang, as_of=as_of)),
                    className="card chart-card",
                ),
            ],
            className="pool-row",
        ),
        card(
            ("逐一剔除敏感性 (完整模型)", "Leave-one-out sensitivity (full model)"),
            views.loo_table(a, lang, ids.loo),
        ),
    ]
