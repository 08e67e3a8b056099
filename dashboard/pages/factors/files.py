"""The factor page's files: the paper's tables exported (each export logged), and a table imported as a
dataset (checked first, then written through the door)."""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard.exports import tables_csv, tables_xlsx
from dashboard.i18n import both, pick
from dashboard.pages.factors.choice import run
from dashboard.pages.factors.controls import ROLES, choice_of, dataset_options, denied, message
from dashboard.pages.factors.ids import ids
from dashboard.view import PageParams, as_of_text, viewer
from queries import audit, factors, meta, stats
from queries.errors import PoolError


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
        c = choice_of(dataset, year, y, xs, text, robust)
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
    return done, dataset_options(p.lang)
