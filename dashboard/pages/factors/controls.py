"""The factor page's controls: dataset, year, variables and models, from the URL or the browser's values
(anything may arrive: each is checked), and its messages."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import inputs
from dashboard.i18n import bi_text, both, pick
from dashboard.pages.factors import views
from dashboard.pages.factors.choice import POOLED, Choice
from dashboard.pages.factors.ids import ids
from dashboard.view import PageParams
from queries import factors, stats
from queries.scope import Viewer

ROLES: tuple[str, ...] = ("leader", "admin")  # who may use the page; render() refuses the rest


def var_options(lang: str, names: list[str]) -> list[dict[str, str]]:
    return [{"label": views.var_label(n, lang), "value": n} for n in names]


def dataset_options(lang: str) -> list[dict[str, str]]:
    opts = [
        {"label": pick("本县乡镇指标 (数据池)", "Our townships (the pool)", lang), "value": factors.TOWNSHIP}
    ]
    for r in factors.datasets().iter_rows(named=True):
        opts.append(
            {"label": f"{r['name']} · {r['n_rows']} " + pick("行", "rows", lang), "value": str(r["id"])}
        )
    return opts


def year_options(info: factors.DatasetInfo, lang: str) -> list[dict[str, str]]:
    opts = [{"label": str(y), "value": str(y)} for y in info.years]
    every = ("全部年份合并", "All years pooled") if info.years else ("全部行", "All rows")
    return [*opts, {"label": pick(*every, lang), "value": POOLED}]


def set_options(lang: str) -> list[dict[str, str]]:
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


def as_int(text: str | None) -> int | None:
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
        sid = as_int(flat["set"])
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
        got = as_int(flat["year"])
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
    year_opts = year_options(info, lang)
    variables = var_options(lang, info.variables)

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
                            options=dataset_options(lang),
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
                        dcc.Dropdown(id=ids.set_pick, options=set_options(lang), value=None),
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


def choice_of(dataset: object, year: object, y: object, xs: object, text: object, robust: object) -> Choice:
    """A choice from the controls as the browser posts them (anything may arrive): StatsInputError if bad."""
    ds = factors.parse_dataset(dataset)
    yr: int | None
    if year == POOLED:
        yr = None
    else:
        yr = as_int(str(year))
        if yr is None:
            raise stats.StatsInputError("年份无效", "Not a valid year")
    chosen = [str(x) for x in xs] if isinstance(xs, list) else []
    models = factors.parse_models(text) or None
    hc1 = isinstance(robust, list) and "hc1" in robust
    return Choice(ds, yr, str(y), chosen, models, hc1)


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
