"""What goes with better governance in our townships? The second source paper's factor analysis (Tables
2-4) on the pool's own township figures, with the checks the paper lacks (issue 12)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import auth, wall
from dashboard.components import graph, notice
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.factors import (
    files,  # noqa: F401  (registers the export and import callbacks)
    views,
)
from dashboard.pages.factors.choice import POOLED, Choice, default_models, run
from dashboard.pages.factors.controls import (
    ROLES,
    as_int,
    choice_of,
    controls,
    defaults,
    denied,
    from_url,
    message,
    set_options,
    var_options,
    year_options,
)
from dashboard.pages.factors.ids import ids
from dashboard.view import PageParams, as_of_text, guarded, page_params, reads, remembered, viewer
from queries import audit, factors, meta, stats
from queries.errors import PoolError
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/factors",
    name="factors",
    title="治理因素分析 · Governance factors",
    order=5,
    ready="#factors-models-table",
    roles=(
        "leader",
        "admin",
    ),  # the shell lists it only for these (a literal: the shell reads it); render() refuses the rest
)
assert tuple(dash.page_registry[__name__]["roles"]) == ROLES


def _alert(v: Viewer) -> str | None:
    """Amber while the default model (all regressors, the newest year) cannot be trusted: too few degrees
    of freedom, or no overall significance at 10%."""
    if v.role not in ROLES:
        return None
    try:
        a = run(v, Choice(None, factors.years(scope=v.scope())[0], factors.DEPENDENT, factors.REGRESSORS))
    except (stats.StatsInputError, IndexError):
        return "amber"
    m = a.models[-1]
    return "amber" if m.few_df or m.f_p >= 0.10 else None


wall.register(__name__, _alert)


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    try:
        v: Viewer | None = auth.current_viewer()
    except PoolError:
        v = None
    panel: Any
    ctl: Any = None
    if v is None or v.role not in ROLES:
        panel = remembered(render, p.lang, p, Choice(None, None, factors.DEPENDENT, factors.REGRESSORS))
    else:
        try:
            c, info, note = from_url(query, v)
        except PoolError as exc:
            c, info, note = None, None, None
            panel = guarded(_raise, p.lang, exc)
        if c is not None and info is not None:
            ctl = controls(p, c, info)
            panel = remembered(render, p.lang, p, c)
            if note is not None:
                panel = [message(note, p.lang, ids.message + "-url"), *panel]
    return html.Div(
        [dcc.Store(id=ids.params, data=p.store()), ctl, html.Div(panel, id=ids.content, className="factors")],
        id=ids.root,
        className="factors",
    )


def _raise(_v: Viewer, exc: PoolError) -> None:
    raise exc


@callback(
    Output(ids.year, "options"),
    Output(ids.year, "value"),
    Output(ids.y, "options"),
    Output(ids.y, "value"),
    Output(ids.xs, "options"),
    Output(ids.xs, "value"),
    Output(ids.models_text, "value"),
    Output(ids.dataset, "value"),
    Input(ids.dataset, "value"),
    Input(ids.set_pick, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def choose(dataset: object, set_id: object, params: object) -> Any:
    """A new dataset resets the variables to its own columns; a saved model set brings its dataset, its
    dependent variable, its regressors and its models."""
    p = PageParams.from_store(params)
    none = (dash.no_update,) * 8
    try:
        v = viewer()
        if v.role not in ROLES:
            return none
        models: list[list[str]] | None = None
        if dash.ctx.triggered_id == ids.set_pick:
            sid = as_int(str(set_id))
            if sid is None:
                return none
            ms = factors.model_set(set_id=sid)
            dataset, models = ms.dataset, ms.models
        info = factors.dataset_info(dataset_id=factors.parse_dataset(dataset), scope=v.scope())
    except (PoolError, PermissionError, stats.StatsInputError):
        return none
    y, xs = defaults(info)
    if models is not None:
        y = ms.y
        xs = list(dict.fromkeys(x for m in models for x in m))
    years = year_options(info, p.lang)
    variables = var_options(p.lang, info.variables)
    text = factors.models_text(models) if models else ""
    return years, years[0]["value"], variables, y, variables, xs, text, info.key


@callback(
    Output(ids.content, "children"),
    Input(ids.dataset, "value"),
    Input(ids.year, "value"),
    Input(ids.y, "value"),
    Input(ids.xs, "value"),
    Input(ids.robust, "value"),
    Input(ids.apply, "n_clicks"),
    State(ids.models_text, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def update(
    dataset: object,
    year: object,
    y: object,
    xs: object,
    robust: object,
    _apply: object,
    text: object,
    params: object,
) -> Any:
    p = PageParams.from_store(params)
    try:
        c = choice_of(dataset, year, y, xs, text, robust)
    except stats.StatsInputError as exc:
        return message((exc.zh, exc.en), p.lang)
    return remembered(render, p.lang, p, c)


@callback(
    Output(ids.set_message, "children"),
    Output(ids.set_pick, "options"),
    Input(ids.set_save, "n_clicks"),
    State(ids.set_name, "value"),
    State(ids.dataset, "value"),
    State(ids.y, "value"),
    State(ids.xs, "value"),
    State(ids.models_text, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def save_set(
    _n: object, name: object, dataset: object, y: object, xs: object, text: object, params: object
) -> Any:
    """Save the models on screen (the typed ones, else the defaults) under a name, through the write door."""
    p = PageParams.from_store(params)
    try:
        v = viewer()
        if v.role not in ROLES:
            return denied(p.lang), dash.no_update
        c = choice_of(dataset, POOLED, y, xs, text, [])
        sid = factors.save_model_set(
            audit.Actor.of(v),
            scope=v.scope(),
            name=name if isinstance(name, str) else "",
            dataset=c.dataset_key,
            y=c.y,
            models=c.models or default_models(c.xs),
        )
    except stats.StatsInputError as exc:
        return message((exc.zh, exc.en), p.lang, ids.set_message + "-error"), dash.no_update
    except PoolError as exc:
        return message((exc.zh, exc.en), p.lang, ids.set_message + "-error"), dash.no_update
    except PermissionError:
        return dash.no_update, dash.no_update
    saved = html.Span(both(f"已保存模型组 #{sid}", f"Saved model set #{sid}", p.lang, " / "), className="ok")
    return saved, set_options(p.lang)


@reads("records", "staff")
def render(v: Viewer, p: PageParams, c: Choice) -> list[Any]:
    """The analysis of a choice, kept (`view.remembered`) until the factor data, the staff's datasets or
    the pool's as-of time it shows (moved by record batches) change: a case action leaves it valid."""
    lang = p.lang
    if v.role not in ROLES:
        return [denied(lang)]
    year, robust = c.year, c.robust
    try:
        a = run(v, c)
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
        if c.dataset_id is None
        else pick("全部行", "all rows", lang)
    )
    if c.dataset_id is not None:
        period = (
            pick(f"导入数据集 #{c.dataset_id}", f"imported dataset #{c.dataset_id}", lang) + " · " + period
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
