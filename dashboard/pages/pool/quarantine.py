"""The quarantine on the pool page: held rows per source system counted by reason (every role), the rows
themselves in a server-paged grid with an export (administrators, and department heads for their
department's sources), and a held row's correction form: release it (validated again) or discard it.
Who may do what is decided in queries/quarantine.py; every callback asks again, never trusting the page."""

from __future__ import annotations

import json
import time
from typing import Any

import polars as pl
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from dashboard import auth
from dashboard.components import empty_state, notice
from dashboard.components.grids import NO_ROWS, block_answer, block_of, columns_in, head_row, infinite_grid
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi_text, both, pick
from dashboard.inputs import store
from dashboard.pages.pool.names import ids
from dashboard.view import PageParams
from queries import audit, meta, quarantine
from queries.errors import PoolError
from queries.ingest.reasons import REASONS
from queries.ingest.write import IngestError, LandResult, discard, release
from queries.scope import Viewer
from queries.timebase import to_local

BLOCK = 100  # held rows per server request
RAW_SHOWN = 160  # characters of a raw row in the grid; the whole row opens in the detail panel
OUTCOME_WORDS = {
    "accepted": ("已入库", "accepted"),
    "duplicate": ("重复, 未再入库", "duplicate, not added again"),
    "quarantined": ("仍被隔离", "still quarantined"),
}


def _when(ts: int) -> str:
    return to_local(ts).strftime("%Y-%m-%d %H:%M")


def _reasons_text(codes: list[str], lang: str) -> str:
    return "; ".join(pick(zh, en, lang) for zh, en in quarantine.reason_words(codes))


def counts_table(frame: pl.DataFrame, lang: str) -> html.Table:
    """One line per source system and reason: the source's held rows on its first line."""
    head = head_row(
        [("来源系统", "Source system"), ("被隔离行", "Held rows"), ("原因", "Reason"), ("行数", "Rows")], lang
    )
    body, last = [], None
    for r in frame.iter_rows(named=True):
        first = r["source_id"] != last
        last = r["source_id"]
        ((zh, en),) = quarantine.reason_words([r["reason"]])
        body.append(
            html.Tr(
                [
                    html.Td(pick(r["name_zh"], r["name_en"], lang) if first else ""),
                    html.Td(f"{r['rows']:,}" if first else ""),
                    html.Td(html.Span(pick(zh, en, lang), title=both(zh, en, lang, " / "))),
                    html.Td(f"{r['n']:,}"),
                ],
                className="q-first" if first else "",
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="truth-table q-counts", id=ids.q_counts)


def _options(frame: pl.DataFrame, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    srcs = frame.unique("source_id", keep="first", maintain_order=True)
    sources = [
        {"label": f"{pick(r['name_zh'], r['name_en'], lang)} ({r['rows']:,})", "value": int(r["source_id"])}
        for r in srcs.iter_rows(named=True)
    ]
    codes = sorted(
        set(frame["reason"].to_list()), key=lambda c: list(REASONS).index(c) if c in REASONS else 999
    )
    reasons = [{"label": _reasons_text([c], lang), "value": c} for c in codes]
    return sources, reasons


def rows_grid(p: PageParams) -> Any:
    lang = p.lang

    col = columns_in(lang)

    return infinite_grid(
        ids.q_grid,
        [
            col("id", "编号", "No.", width=90, type="numericColumn"),
            col("at", "隔离时间", "Held at", width=150),
            col("source", "来源系统", "Source system", width=170, tooltipField="source"),
            col("key", "业务主键", "Business key", width=130),
            col("reasons", "原因", "Reasons", flex=1, minWidth=220, tooltipField="reasons"),
            col(
                "raw",
                "原始行 (点击查看)",
                "Row as sent (click to open)",
                flex=2,
                minWidth=260,
                tooltipField="raw",
            ),
        ],
        p.theme,
        BLOCK,
        getRowId="params.data.id",
    )


def section(v: Viewer, p: PageParams) -> html.Div:
    lang = p.lang
    frame = quarantine.counts(viewer=v)
    title = html.Div(
        [
            bi_text("隔离区: 被拒收的行", "Quarantine: rows refused on arrival", lang),
            html.Span(
                pick(
                    f" · 按来源系统和原因 · 实时, 截至 {_when(int(time.time()))}",
                    f" · by source system and reason · live, as of {_when(int(time.time()))}",
                    lang,
                ),
                className="chart-foot",
            ),
        ],
        className="card-title",
    )
    store_ = dcc.Store(id=ids.q_params, data=p.store())
    if frame.is_empty():
        return html.Div(
            [
                title,
                store_,
                empty_state(
                    lang,
                    (
                        "您范围内的来源系统没有被隔离的行",
                        "No held rows from the source systems in your scope",
                    ),
                ),
            ],
            className="card q-section",
        )
    parts: list[Any] = [title, store_, counts_table(frame, lang)]
    if not quarantine.may_see_rows(v):
        parts.append(
            html.Div(
                notice(
                    [
                        (
                            "原始行可能含敏感值, 仅管理员和来源系统所属部门的负责人可以查看、导出和放行.",
                            "Rows as sent may hold sensitive values: only administrators and the head of the "
                            "source system's department may read, export and release them.",
                        )
                    ],
                    lang,
                ),
                id=ids.q_counts_only,
            )
        )
        return html.Div(parts, className="card q-section")
    sources, reasons = _options(frame, lang)
    parts += [
        html.Div(
            [
                dcc.Dropdown(
                    id=ids.q_source,
                    options=sources,
                    placeholder=pick("全部来源系统", "All source systems", lang),
                    clearable=True,
                ),
                dcc.Dropdown(
                    id=ids.q_reason,
                    options=reasons,
                    placeholder=pick("全部原因", "All reasons", lang),
                    clearable=True,
                ),
                html.Button(both("导出 CSV", "Export CSV", lang), id=ids.q_export, className="btn"),
                dcc.Download(id=ids.q_download),
            ],
            className="card-toolbar q-toolbar",
        ),
        html.Div(rows_grid(p), id=ids.q_grid_box, className="q-grid"),
        html.Div(
            html.P(
                pick(
                    "点击一行查看原始数据; 有权限时可在此修正后放行.",
                    "Click a row to open it; where you may, correct it here and release it.",
                    lang,
                ),
                className="chart-foot",
            ),
            id=ids.q_detail,
        ),
    ]
    return html.Div(parts, className="card q-section")


def _viewer() -> Viewer | None:
    try:
        return auth.current_viewer()
    except PoolError:
        return None


def _lang(params: object) -> str:
    return PageParams.from_store(params).lang


def _id(value: object, top: int = 2**53) -> int | None:
    """A positive integer id from the browser (a string of digits too), else None: anything posted to a
    callback must not reach the database as a number it cannot hold."""
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < top else None


def _source(value: object) -> int | None:
    return _id(value, 2**15)


def _reason(value: object) -> str | None:
    return value if isinstance(value, str) and value in REASONS else None


@callback(
    Output(ids.q_grid_box, "children"),
    Input(ids.q_source, "value"),
    Input(ids.q_reason, "value"),
    State(ids.q_params, "data"),
    prevent_initial_call=True,
)
def refilter(_source_: object, _reason_: object, params: object) -> Any:
    """A new filter: a fresh grid, which asks for its first block with the filter in place."""
    return rows_grid(PageParams.from_store(params))


@callback(
    Output(ids.q_grid_box, "children", allow_duplicate=True),
    Input(ids.q_answer, "children"),
    State(ids.q_params, "data"),
    prevent_initial_call=True,
)
def after_action(_answer: object, params: object) -> Any:
    """A row released or discarded leaves the list: the grid asks the server again."""
    return rows_grid(PageParams.from_store(params))


def rows_for(
    v: Viewer, start: int, want: int, source_id: int | None, reason: str | None, lang: str
) -> dict[str, Any]:
    frame = quarantine.held_rows(viewer=v, source_id=source_id, reason=reason, offset=start, limit=want)
    by_id = {
        r["source_id"]: pick(r["name_zh"], r["name_en"], lang)
        for r in meta.source_labels().iter_rows(named=True)
    }
    rows = [
        {
            "id": r["id"],
            "at": _when(r["at"]),
            "source": by_id.get(r["source_id"], str(r["source_id"])),
            "key": r["record_key"] or "—",
            "reasons": _reasons_text(json.loads(r["reasons"]), lang),
            "raw": r["raw"][:RAW_SHOWN] + ("…" if len(r["raw"]) > RAW_SHOWN else ""),
        }
        for r in frame.iter_rows(named=True)
    ]
    return block_answer(rows, start, want)


@callback(
    Output(ids.q_grid, "getRowsResponse"),
    Input(ids.q_grid, "getRowsRequest"),
    State(ids.q_source, "value"),
    State(ids.q_reason, "value"),
    State(ids.q_params, "data"),
    prevent_initial_call=True,
)
def get_rows(request: object, source: object, reason: object, params: object) -> Any:
    v = _viewer()
    block = block_of(request, BLOCK)
    if v is None or block is None or not quarantine.may_see_rows(v):
        return NO_ROWS
    try:
        return rows_for(v, block[0], block[1], _source(source), _reason(reason), _lang(params))
    except PoolError:
        return no_update


EXPORT_LABELS = {
    "id": "编号 No.",
    "held_at": "隔离时间 Held at",
    "source": "来源系统 Source",
    "row_no": "批内行号 Row in batch",
    "record_key": "业务主键 Business key",
    "reasons": "原因代码 Reason codes",
    "reasons_zh": "原因",
    "reasons_en": "Reasons",
    "raw": "原始行 Row as sent (JSON)",
}


@callback(
    Output(ids.q_download, "data"),
    Input(ids.q_export, "n_clicks"),
    State(ids.q_source, "value"),
    State(ids.q_reason, "value"),
    prevent_initial_call=True,
)
def export(_: int | None, source: object, reason: object) -> Any:
    """The held rows the viewer may read (with the grid's filter), logged on the chain before they leave."""
    v = _viewer()
    if v is None or not quarantine.may_see_rows(v):
        return no_update
    try:
        frame = quarantine.export(viewer=v, source_id=_source(source), reason=_reason(reason))
        codes = {r["source_id"]: r["code"] for r in meta.source_labels().iter_rows(named=True)}
    except PoolError:
        return no_update
    out = (
        frame.with_columns(
            pl.col("at").map_elements(_when, return_dtype=pl.String).alias("held_at"),
            pl.col("source_id").replace_strict(codes, default=None, return_dtype=pl.String).alias("source"),
            pl.col("reasons")
            .map_elements(lambda t: " ".join(json.loads(t)), return_dtype=pl.String)
            .alias("codes"),
            pl.col("reasons")
            .map_elements(lambda t: _reasons_text(json.loads(t), "zh"), return_dtype=pl.String)
            .alias("reasons_zh"),
            pl.col("reasons")
            .map_elements(lambda t: _reasons_text(json.loads(t), "en"), return_dtype=pl.String)
            .alias("reasons_en"),
        )
        .drop("reasons")
        .rename({"codes": "reasons"})
    )
    header = (
        f"隔离区导出 / quarantine export · {v.username} · {_when(int(time.time()))} · {frame.height} 行 rows"
    )
    stamp = time.strftime("%Y%m%d-%H%M")
    return dcc.send_string(csv_for_excel(out, EXPORT_LABELS, header), f"quarantine-{stamp}.csv")


def detail(v: Viewer, row: dict[str, Any], lang: str) -> list[Any]:
    """A held row: its reasons, every field as sent, and (for those who may) a form to correct and release
    it or to discard it with a note."""
    editable = quarantine.may_release(v, row["source_id"])
    fields = []
    for key, value in row["raw"].items():
        shown = "" if value is None else str(value)
        fields.append(
            html.Div(
                [
                    html.Label(key, htmlFor=json.dumps({"type": ids.q_field, "key": key})),
                    dcc.Input(
                        id={"type": ids.q_field, "key": key},
                        value=shown,
                        disabled=not editable,
                        debounce=True,
                        className="q-input",
                    )
                    if editable
                    else html.Code(shown or "∅"),
                ],
                className="q-field",
            )
        )
    parts: list[Any] = [
        html.Div(
            bi_text(
                f"被隔离行 {row['id']} (批次 {row['batch_id']} 第 {row['row_no'] + 1} 行)",
                f"Held row {row['id']} (batch {row['batch_id']}, row {row['row_no'] + 1})",
                lang,
            ),
            className="card-title",
        ),
        html.Ul(
            [html.Li(both(zh, en, lang, " / ")) for zh, en in quarantine.reason_words(row["reasons"])],
            className="q-reasons",
        ),
        html.Div(fields, className="q-fields"),
        dcc.Store(id=ids.q_row, data=row["id"]),
    ]
    if editable:
        parts += [
            html.Div(
                [
                    html.Button(
                        both("修正后放行", "Release with corrections", lang),
                        id=ids.q_release,
                        className="btn btn-primary",
                    ),
                    dcc.Input(
                        id=ids.q_note,
                        placeholder=pick("丢弃理由 (必填)", "why discard (required)", lang),
                        className="q-note",
                    ),
                    html.Button(both("丢弃", "Discard", lang), id=ids.q_discard, className="btn"),
                ],
                className="q-actions",
            ),
            html.Div(id=ids.q_answer, role="status"),
        ]
    else:
        parts.append(
            html.P(
                pick(
                    "只有管理员和该来源系统所属部门的负责人可以放行或丢弃.",
                    "Only administrators and the head of the source system's department may release or discard it.",
                    lang,
                ),
                className="chart-foot",
            )
        )
    return parts


@callback(
    Output(ids.q_detail, "children"),
    Input(ids.q_grid, "cellClicked"),
    State(ids.q_params, "data"),
    prevent_initial_call=True,
)
def open_row(clicked: object, params: object) -> Any:
    v = _viewer()
    lang = _lang(params)
    if v is None or not quarantine.may_see_rows(v):
        return no_update
    qid = _id(store(clicked).get("rowId"))
    if qid is None:
        return no_update
    try:
        row = quarantine.held_row(viewer=v, quarantine_id=qid)
    except PoolError:
        return no_update
    if row is None:
        return notice(
            [("该行已不在隔离区 (已放行或已丢弃)", "That row is no longer held (released or discarded)")],
            lang,
        )
    return detail(v, row, lang)


def answer(result: LandResult, lang: str) -> html.Div:
    """What the release did to the row: its new outcome and, if still held, why."""
    out = result.outcomes.row(0, named=True) if result.outcomes.height else None
    lines = [both(result.message("zh"), result.message("en"), lang, " / ")]
    if out is not None:
        zh, en = OUTCOME_WORDS.get(out["outcome"], (out["outcome"], out["outcome"]))
        lines.append(both(f"结果: {zh}", f"Outcome: {en}", lang, " / "))
        if out["outcome"] == "quarantined":
            lines += [both(z, e, lang, " / ") for z, e in quarantine.reason_words(out["reasons"])]
    tone = "alert-ok" if out is not None and out["outcome"] != "quarantined" else "alert-red"
    return html.Div([html.Div(line) for line in lines], className=f"alert {tone}", id=f"{ids.q_answer}-text")


def _corrections(values: object, field_ids: object, raw: dict[str, Any]) -> dict[str, Any]:
    """The fields the user changed: key -> new text (None where emptied)."""
    out: dict[str, Any] = {}
    if not isinstance(values, list) or not isinstance(field_ids, list):
        return out
    for value, fid in zip(values, field_ids, strict=False):
        key = fid.get("key") if isinstance(fid, dict) else None
        if not isinstance(key, str) or key not in raw:
            continue
        new = value.strip() if isinstance(value, str) else None
        old = raw[key]
        if (new or None) != (None if old is None or str(old) == "" else str(old)):
            out[key] = new or None
    return out


@callback(
    Output(ids.q_answer, "children"),
    Input(ids.q_release, "n_clicks"),
    Input(ids.q_discard, "n_clicks"),
    State(ids.q_row, "data"),
    State({"type": ids.q_field, "key": ALL}, "value"),
    State({"type": ids.q_field, "key": ALL}, "id"),
    State(ids.q_note, "value"),
    State(ids.q_params, "data"),
    prevent_initial_call=True,
)
def act(
    release_clicks: object,
    discard_clicks: object,
    qid: object,
    values: object,
    field_ids: object,
    note: object,
    params: object,
) -> Any:
    """Release the open row with the corrections typed in, or discard it with a note: through the door,
    as the signed-in user, after the rights are checked again."""
    from dash import ctx

    lang = _lang(params)
    v = _viewer()
    qid = _id(qid)
    if v is None or qid is None or not (release_clicks or discard_clicks):
        return no_update
    try:
        row = quarantine.held_row(viewer=v, quarantine_id=qid)
        if row is None:
            return notice(
                [("该行已不在隔离区 (已放行或已丢弃)", "That row is no longer held (released or discarded)")],
                lang,
            )
        if not quarantine.may_release(v, row["source_id"]):
            return notice([("您无权放行或丢弃该行", "You may not release or discard this row")], lang)
        actor = audit.Actor.of(v)
        if ctx.triggered_id == ids.q_discard:
            with audit.write(actor) as tx:
                discard(tx, quarantine_ids=[qid], note=note if isinstance(note, str) else "")
            return html.Div(
                both("已丢弃, 记录在责任日志中", "Discarded; the log records who and why", lang, " / "),
                className="alert alert-ok",
                id=f"{ids.q_answer}-text",
            )
        fixes = _corrections(values, field_ids, row["raw"])
        with audit.write(actor) as tx:
            result = release(tx, quarantine_ids=[qid], corrections={qid: fixes})
        return answer(result, lang)
    except IngestError as exc:
        return html.Div(
            both(exc.zh, exc.en, lang, " / "), className="alert alert-red", id=f"{ids.q_answer}-text"
        )
    except PoolError as exc:
        return html.Div(
            both(exc.zh, exc.en, lang, " / "), className="alert alert-red", id=f"{ids.q_answer}-text"
        )
