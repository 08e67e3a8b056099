"""What goes with better governance in our townships? The second source paper's factor analysis (Tables
2-4) on the pool's own township figures, with the checks the paper lacks (issue 12)."""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import auth, inputs, wall
from dashboard.components import graph, notice
from dashboard.exports import tables_csv, tables_xlsx
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.factors import views
from dashboard.pages.factors.choice import POOLED, Choice, default_models, run
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
    roles=("leader", "admin"),  # the shell lists it only for these; render() refuses the rest
)
ROLES: tuple[str, ...] = tuple(dash.page_registry[__name__]["roles"])


class ids:
    root = "factors-root"
    params = "factors-params-store"
    content = "factors-content"
    dataset = "factors-dataset-dropdown"
    year = "factors-year-dropdown"
    y = "factors-y-dropdown"
    xs = "factors-x-dropdown"
    robust = "factors-robust-checklist"
    models_text = "factors-models-textarea"
    apply = "factors-apply-button"
    set_pick = "factors-set-dropdown"
    set_name = "factors-set-name-input"
    set_save = "factors-set-save-button"
    set_message = "factors-set-message"
    export_csv = "factors-export-csv-button"
    export_xlsx = "factors-export-xlsx-button"
    download = "factors-download"
    upload = "factors-upload"
    import_name = "factors-import-name-input"
    import_button = "factors-import-button"
    import_message = "factors-import-message"
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


def _var_options(lang: str, names: list[str]) -> list[dict[str, str]]:
    return [{"label": views.var_label(n, lang), "value": n} for n in names]


def _dataset_options(lang: str) -> list[dict[str, str]]:
    opts = [
        {"label": pick("本县乡镇指标 (数据池)", "Our townships (the pool)", lang), "value": factors.TOWNSHIP}
    ]
    for r in factors.datasets().iter_rows(named=True):
        opts.append(
            {"label": f"{r['name']} · {r['n_rows']} " + pick("行", "rows", lang), "value": str(r["id"])}
        )
    return opts


def _year_options(info: factors.DatasetInfo, lang: str) -> list[dict[str, str]]:
    opts = [{"label": str(y), "value": str(y)} for y in info.years]
    every = ("全部年份合并", "All years pooled") if info.years else ("全部行", "All rows")
    return [*opts, {"label": pick(*every, lang), "value": POOLED}]


def _set_options(lang: str) -> list[dict[str, str]]:
    return [
        {"label": f"{r['name']} · {r['created_by']}", "value": str(r["id"])}
        for r in factors.model_sets().iter_rows(named=True)
    ]


def defaults(info: factors.DatasetInfo) -> tuple[str, list[str]]:
    """The dependent variable and regressors a dataset opens with: the paper's on the township figures;
    on an imported table the column that looks like an index as y and the rest as regressors (then the
    user picks)."""
    if info.key == factors.TOWNSHIP:
        return factors.DEPENDENT, list(factors.REGRESSORS)
    y = factors.likely_dependent(info.variables)
    return y, [n for n in info.variables if n != y]


def _int(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def from_url(query: dict[str, Any], v: Viewer) -> tuple[Choice, factors.DatasetInfo, tuple[str, str] | None]:
    """The choice a URL asks for (?dataset=&year=&y=&x=a,b&set=); a bad part falls back to the default and
    says why, never a traceback."""
    flat = inputs.query_flat(query)
    problems: list[tuple[str, str]] = []
    models: list[list[str]] | None = None
    ds_text = flat.get("dataset")
    if "set" in flat:
        sid = _int(flat["set"])
        try:
            if sid is None:
                raise stats.StatsInputError("模型组编号无效", "Not a model set id")
            ms = factors.model_set(set_id=sid)
            ds_text, models = ms.dataset, ms.models
            flat.setdefault("y", ms.y)
            flat.setdefault("x", ",".join(dict.fromkeys(x for m in ms.models for x in m)))
        except stats.StatsInputError as exc:
            problems.append(
                (f"set={inputs.quoted(flat['set'])}: {exc.zh}", f"set={inputs.quoted(flat['set'])}: {exc.en}")
            )
    try:
        info = factors.dataset_info(dataset_id=factors.parse_dataset(ds_text), scope=v.scope())
    except stats.StatsInputError as exc:
        problems.append((exc.zh, exc.en))
        info = factors.dataset_info(dataset_id=None, scope=v.scope())
    y, xs = defaults(info)
    if "y" in flat:
        if flat["y"] in info.variables:
            y = flat["y"]
        else:
            problems.append(
                (
                    f"没有因变量 {inputs.quoted(flat['y'])}",
                    f"No variable {inputs.quoted(flat['y'])} to explain",
                )
            )
    if "x" in flat:
        asked = [x for x in flat["x"].split(",") if x][:40]
        unknown = [x for x in asked if x not in info.variables]
        if unknown or not asked:
            problems.append(
                (
                    f"自变量无效: {inputs.quoted(','.join(unknown))}",
                    f"Not regressors here: {inputs.quoted(','.join(unknown))}",
                )
            )
        else:
            xs = asked
    xs = [x for x in xs if x != y]
    year = info.years[0] if info.years else None
    if "year" in flat:
        got = _int(flat["year"])
        if flat["year"] == POOLED:
            year = None
        elif got in info.years:
            year = got
        else:
            problems.append(
                (
                    f"没有 {inputs.quoted(flat['year'])} 年的数据",
                    f"No figures for year {inputs.quoted(flat['year'])}",
                )
            )
    dataset_id = None if info.key == factors.TOWNSHIP else int(info.key)
    note = (
        (
            "; ".join(zh for zh, _ in problems) + " (已改用默认值)",
            "; ".join(en for _, en in problems) + " (defaults used)",
        )
        if problems
        else None
    )
    return Choice(dataset_id, year, y, xs, models), info, note


def controls(p: PageParams, c: Choice, info: factors.DatasetInfo) -> html.Div:
    lang = p.lang
    year_opts = _year_options(info, lang)
    variables = _var_options(lang, info.variables)

    def field(zh: str, en: str, control: Any, cls: str | None = None) -> html.Label:
        return html.Label([bi_text(zh, en, lang), control], className=cls)

    def box(zh: str, en: str, children: list[Any]) -> html.Details:
        """A folding box of the controls: closed until someone needs it."""
        return html.Details(
            [html.Summary(both(zh, en, lang, " · ")), html.Div(children, className="factors-sets")],
            className="factors-sets-box",
        )

    models_hint = pick(
        "留空 = 论文的嵌套模型. 每行一个模型, 自变量以逗号分隔, 如 M1: broadband, rnd_ratio",
        "Blank = the paper's nested models. One model a line, regressors comma-separated, e.g. M1: broadband, rnd_ratio",
        lang,
    )
    return html.Div(
        [
            html.Div(
                [
                    field(
                        "数据集",
                        "Dataset",
                        dcc.Dropdown(
                            id=ids.dataset,
                            options=_dataset_options(lang),
                            value=c.dataset_key,
                            clearable=False,
                        ),
                    ),
                    field(
                        "年份",
                        "Year",
                        dcc.Dropdown(
                            id=ids.year,
                            options=year_opts,
                            value=str(c.year) if c.year else POOLED,
                            clearable=False,
                        ),
                    ),
                    field(
                        "因变量",
                        "Dependent",
                        dcc.Dropdown(id=ids.y, options=variables, value=c.y, clearable=False),
                    ),
                    field(
                        "自变量",
                        "Regressors",
                        dcc.Dropdown(id=ids.xs, options=variables, value=c.xs, multi=True),
                        "factors-xs",
                    ),
                    dcc.Checklist(
                        id=ids.robust,
                        options=[
                            {"label": both("稳健标准误 (HC1)", "Robust SE (HC1)", lang), "value": "hc1"}
                        ],
                        value=["hc1"] if c.robust else [],
                    ),
                ],
                className="factors-controls",
            ),
            box(
                "嵌套模型组 (自定义, 保存, 载入)",
                "Nested model sets (define, save, load)",
                [
                    field(
                        "模型 (每行一个)",
                        "Models (one a line)",
                        dcc.Textarea(
                            id=ids.models_text,
                            value=factors.models_text(c.models) if c.models else "",
                            placeholder=models_hint,
                            title=models_hint,
                            maxLength=4000,
                            rows=4,
                        ),
                        "factors-models-field",
                    ),
                    html.Button(both("应用模型", "Apply models", lang, " "), id=ids.apply, className="btn"),
                    field(
                        "载入已保存的模型组",
                        "Load a saved set",
                        dcc.Dropdown(id=ids.set_pick, options=_set_options(lang), value=None),
                    ),
                    field(
                        "保存为",
                        "Save as",
                        dcc.Input(id=ids.set_name, type="text", maxLength=96, value=""),
                    ),
                    html.Button(both("保存模型组", "Save set", lang, " "), id=ids.set_save, className="btn"),
                    html.Div(id=ids.set_message, role="status"),
                ],
            ),
            box(
                "导入数据表 (CSV/Excel, 先预检再导入)",
                "Import a table (CSV/Excel, checked before it is stored)",
                [
                    dcc.Upload(
                        html.Div(both("拖入或点击选择文件", "Drop or choose a file", lang, " / ")),
                        id=ids.upload,
                        accept=".csv,.xlsx",
                        multiple=False,
                        className="factors-upload",
                    ),
                    field(
                        "数据集名称",
                        "Dataset name",
                        dcc.Input(id=ids.import_name, type="text", maxLength=128, value=""),
                    ),
                    html.Button(both("确认导入", "Import", lang, " "), id=ids.import_button, className="btn"),
                    html.Div(id=ids.import_message, role="status"),
                ],
            ),
            html.Div(
                [
                    html.Button(
                        both("导出表格 Excel", "Export tables Excel", lang, " "),
                        id=ids.export_xlsx,
                        className="btn",
                    ),
                    html.Button(
                        both("导出表格 CSV", "Export tables CSV", lang, " "),
                        id=ids.export_csv,
                        className="btn",
                    ),
                    dcc.Download(id=ids.download),
                ],
                className="factors-export",
            ),
        ],
        className="factors-controls-card card",
    )


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


def _choice(dataset: object, year: object, y: object, xs: object, text: object, robust: object) -> Choice:
    """A choice from the controls as the browser posts them (anything may arrive): StatsInputError if bad."""
    ds = factors.parse_dataset(dataset)
    yr: int | None
    if year == POOLED:
        yr = None
    else:
        yr = _int(str(year))
        if yr is None:
            raise stats.StatsInputError("年份无效", "Not a valid year")
    chosen = [str(x) for x in xs] if isinstance(xs, list) else []
    models = factors.parse_models(text) or None
    hc1 = isinstance(robust, list) and "hc1" in robust
    return Choice(ds, yr, str(y), chosen, models, hc1)


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
            sid = _int(str(set_id))
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
    years = _year_options(info, p.lang)
    variables = _var_options(p.lang, info.variables)
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
        c = _choice(dataset, year, y, xs, text, robust)
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
        c = _choice(dataset, POOLED, y, xs, text, [])
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
    return saved, _set_options(p.lang)


@callback(
    Output(ids.download, "data"),
    Input(ids.export_csv, "n_clicks"),
    Input(ids.export_xlsx, "n_clicks"),
    State(ids.dataset, "value"),
    State(ids.year, "value"),
    State(ids.y, "value"),
    State(ids.xs, "value"),
    State(ids.models_text, "value"),
    State(ids.robust, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def export(
    _csv: object,
    _xlsx: object,
    dataset: object,
    year: object,
    y: object,
    xs: object,
    text: object,
    robust: object,
    params: object,
) -> Any:
    """Tables 2-4 and the VIF as the paper prints them, for a report; logged on the responsibility chain
    like every export. Nothing is sent for a choice the page itself shows a message for."""
    p = PageParams.from_store(params)
    kind = "xlsx" if dash.ctx.triggered_id == ids.export_xlsx else "csv"
    try:
        v = viewer()
        if v.role not in ROLES:
            return dash.no_update
        c = _choice(dataset, year, y, xs, text, robust)
        st = meta.pool_status()
        a = run(v, c)
        tables = factors.paper_tables(a)
        audit.log_read(
            audit.Actor.of(v),
            f"export.{kind}",
            "factor_analysis",
            c.dataset_key,
            detail={"year": c.year, "y": c.y, "xs": c.xs, "models": len(a.models), "robust": c.robust},
        )
    except (PoolError, PermissionError, stats.StatsInputError):
        return dash.no_update
    period = str(c.year) if c.year is not None else pick("全部合并", "pooled", p.lang)
    header = both(
        f"治理因素分析 · 数据集 {c.dataset_key} · {period} · 因变量 {c.y} · N = {a.n_units}"
        f"{' · HC1 稳健标准误' if c.robust else ''} · *** p<1% ** p<5% * p<10% · 数据截至 {as_of_text(st.as_of)}",
        f"governance factors · dataset {c.dataset_key} · {period} · y {c.y} · N = {a.n_units}"
        f"{' · HC1 robust SE' if c.robust else ''} · *** p<1% ** p<5% * p<10% · data as of {as_of_text(st.as_of)}",
        p.lang,
        " / ",
    )
    titles = {
        "table2": "表2 描述性统计 Table 2 descriptive statistics",
        "table3": "表3 相关系数矩阵 Table 3 correlations",
        "vif": "方差膨胀因子 VIF",
        "table4": "表4 回归结果 Table 4 nested OLS models (standard errors in brackets)",
    }
    name = f"factors-{c.dataset_key}-{period}-{time.strftime('%Y%m%d')}"
    if kind == "xlsx":
        return dcc.send_bytes(tables_xlsx(tables, titles, header), f"{name}.xlsx")
    return dcc.send_string(tables_csv(tables, titles, header), f"{name}.csv")


def _upload(contents: object, filename: object) -> tuple[bytes, str]:
    """The bytes and name of a dcc.Upload's file ("data:<type>;base64,<data>"); StatsInputError if it is
    missing or not that shape."""
    import base64
    import binascii

    if not isinstance(contents, str) or "," not in contents:
        raise stats.StatsInputError("请先选择文件", "Choose a file first")
    if len(contents) > factors.MAX_UPLOAD_BYTES * 4 // 3 + 200:
        raise stats.StatsInputError("文件过大", "The file is too large")
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise stats.StatsInputError("文件内容无法解码", "The file's content cannot be decoded") from None
    name = filename if isinstance(filename, str) and filename else "upload.csv"
    return data, name[:200]


def _checked(contents: object, filename: object) -> tuple[Any, factors.ImportCheck, str]:
    data, name = _upload(contents, filename)
    frame = factors.read_upload(data, name)
    return frame, factors.check_import(frame, label=factors.guess_label(frame)), name


@callback(
    Output(ids.import_message, "children", allow_duplicate=True),
    Input(ids.upload, "contents"),
    State(ids.upload, "filename"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def preview(contents: object, filename: object, params: object) -> Any:
    """The dry run: what an import of this file would store, or why it would store nothing."""
    p = PageParams.from_store(params)
    try:
        v = viewer()
        if v.role not in ROLES:
            return denied(p.lang)
        _frame, chk, name = _checked(contents, filename)
    except stats.StatsInputError as exc:
        return message((exc.zh, exc.en), p.lang, ids.import_message + "-error")
    except PermissionError:
        return dash.no_update
    label = chk.label or pick("(无, 以行号命名)", "(none: rows are numbered)", p.lang)
    return html.Div(
        [
            html.P(
                both(
                    f"预检通过 (尚未导入): {name} · {chk.rows} 行 · 标签列 {label} · 数值列 {len(chk.numeric)} 个 · 缺失 {chk.missing} 格",
                    f"Checked, not yet stored: {name} · {chk.rows} rows · label column {label} · "
                    f"{len(chk.numeric)} numeric columns · {chk.missing} missing cells",
                    p.lang,
                    " / ",
                )
            ),
            html.P(", ".join(chk.numeric), className="muted"),
        ],
        id=ids.import_message + "-preview",
    )


@callback(
    Output(ids.import_message, "children"),
    Output(ids.dataset, "options"),
    Input(ids.import_button, "n_clicks"),
    State(ids.upload, "contents"),
    State(ids.upload, "filename"),
    State(ids.import_name, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def confirm_import(_n: object, contents: object, filename: object, name: object, params: object) -> Any:
    """Store the checked file as a dataset through the write door (checked again: the file is resent)."""
    p = PageParams.from_store(params)
    try:
        v = viewer()
        if v.role not in ROLES:
            return denied(p.lang), dash.no_update
        frame, chk, fname = _checked(contents, filename)
        title = name.strip() if isinstance(name, str) and name.strip() else fname.rsplit(".", 1)[0]
        ds = factors.import_dataset(audit.Actor.of(v), frame, name=title, label=chk.label, filename=fname)
    except stats.StatsInputError as exc:
        return message((exc.zh, exc.en), p.lang, ids.import_message + "-error"), dash.no_update
    except PoolError as exc:
        return message((exc.zh, exc.en), p.lang, ids.import_message + "-error"), dash.no_update
    except PermissionError:
        return dash.no_update, dash.no_update
    done = html.Span(
        both(
            f"已导入数据集 #{ds} ({chk.rows} 行), 可在上方数据集中选择",
            f"Imported dataset #{ds} ({chk.rows} rows); choose it in Dataset above",
            p.lang,
            " / ",
        ),
        className="ok",
        id=ids.import_message + "-done",
    )
    return done, _dataset_options(p.lang)


def message(text: tuple[str, str], lang: str, mid: str = ids.message) -> html.Div:
    return html.Div(both(*text, lang, " / "), id=mid, className="state-panel state-empty", role="alert")


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
