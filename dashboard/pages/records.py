"""The record browser: the `record` table a block at a time (AG Grid's infinite row model), filtered by a
bookmarkable URL, masked on the server by queries/masking.py; a record's detail on row click, with a
logged reveal for cleared roles; duplicate groups side by side; a masked, logged CSV export.

URL: /records?source=&module=&township=&type=&cls=&defect=&from=YYYY-MM-DD&to=YYYY-MM-DD&key=
(the pool page links its quality figures here). A wrong value gets a message and is left out.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import auth, inputs, wall
from dashboard.components import empty_state, notice
from dashboard.components.records import (
    BLOCK,
    FIELDS,
    count_text,
    detail_card,
    detail_table,
    filter_bar,
    grid,
    groups_card,
    ids,
    legend,
)
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi_text, both, pick
from dashboard.view import PageParams, as_of_text, page_layout, page_params
from queries import masking, meta, records
from queries.errors import PoolError
from queries.records import RecordFilter
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/records",
    name="browser",
    title="记录浏览 · Record browser",
    order=2,
    ready="#records-grid .ag-row",
    roles=("operator", "leader", "department_head", "admin"),
)
# a desk page: playlist-able like every page, but no alert of its own takes over a wall
wall.register(__name__)
__all__ = ["BLOCK", "ids", "layout"]  # tests read the page's ids and block size from here


def layout(**query: Any) -> html.Div:
    flat = inputs.query_flat(query)
    p = page_params(query)
    return page_layout(ids, lambda v, p_: render(v, p_, flat), p, "records")


def render(v: Viewer, p: PageParams, q: dict[str, str]) -> list[Any]:
    f, errors = records.parse_filter(q, v)
    st = meta.pool_status()
    scope, cleared = v.scope(), masking.can_reveal(v.role)
    n = records.count(scope=scope, cleared=cleared, f=f)
    lang = p.lang
    title = html.Div(
        [
            bi_text("记录明细 (已按分级遮蔽)", "Records (masked by classification)", lang),
            html.Span(
                pick(
                    f" · 数据截至 {as_of_text(st.as_of)} · 按发生时间倒序",
                    f" · data as of {as_of_text(st.as_of)} · newest first",
                    lang,
                ),
                className="chart-foot",
            ),
        ],
        className="card-title",
    )
    none = ("没有符合条件的记录", "No records match this filter")
    body: Any = empty_state(lang, none) if n == 0 else grid(p)
    main = html.Div(
        [title, html.Div(count_text(n, lang), id=ids.count, className="chart-foot"), body],
        className="card grid-card records-grid-card",
    )
    side = html.Div([detail_card(v, lang), legend(lang)], className="records-side")
    out: list[Any] = [
        dcc.Store(id=ids.filter, data=f.as_dict()),
        dcc.Store(id=ids.selected, data=None),
        filter_bar(v, p, records.to_query(f)),
        html.Div(notice(errors, lang), id=ids.messages),
        html.Div([main, side], className="records-row"),
    ]
    if f.defect == "duplicate" and n:
        out.append(groups_card(records.duplicate_groups(scope=scope, cleared=cleared, f=f, lang=lang), lang))
    return out


def _viewer() -> Viewer | None:
    try:
        return auth.current_viewer()
    except PoolError:
        return None


def _sort(request: object) -> tuple[str, str] | None:
    model = request.get("sortModel") if isinstance(request, dict) else None
    if isinstance(model, list) and model and isinstance(model[0], dict):
        col, direction = model[0].get("colId"), model[0].get("sort")
        if col in records.SORTABLE and direction in ("asc", "desc"):
            return str(col), str(direction)
    return None


def _int(value: object, default: int) -> int:
    try:
        return max(0, min(int(value), 10**9))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default


def rows_for(v: Viewer, f: RecordFilter, request: object, lang: str) -> dict[str, Any]:
    """One block as the infinite row model wants it; rowCount is known once the end (or the cap) shows."""
    req = request if isinstance(request, dict) else {}
    start = _int(req.get("startRow"), 0)
    end = min(_int(req.get("endRow"), start + BLOCK), start + BLOCK)
    frame = records.rows(
        scope=v.scope(),
        cleared=masking.can_reveal(v.role),
        f=f,
        sort=_sort(req),
        start=start,
        end=end,
        lang=lang,
    )
    got = frame.to_dicts()
    full = start + len(got) >= records.BROWSE_CAP
    return {"rowData": got, "rowCount": start + len(got) if len(got) < end - start or full else -1}


def _clicked(n_clicks: object) -> bool:
    """A real button click: a positive count (a forged request may send anything)."""
    return isinstance(n_clicks, int) and not isinstance(n_clicks, bool) and n_clicks > 0


def _lang(params: object) -> str:
    return PageParams.from_store(params).lang


@callback(
    Output(ids.grid, "getRowsResponse"),
    Input(ids.grid, "getRowsRequest"),
    State(ids.filter, "data"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def get_rows(request: object, filt: object, params: object) -> Any:
    # a callback is its own request: the viewer and the filter are checked again, never trusted
    v = _viewer()
    if v is None:
        return {"rowData": [], "rowCount": 0}
    try:
        return rows_for(v, RecordFilter.from_dict(filt), request, _lang(params))
    except PoolError:
        return no_update


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input(ids.apply, "n_clicks"),
    State(ids.module, "value"),
    State(ids.source, "value"),
    State(ids.township, "value"),
    State(ids.type, "value"),
    State(ids.cls, "value"),
    State(ids.defect, "value"),
    State(ids.date_from, "value"),
    State(ids.date_to, "value"),
    State(ids.key, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def apply(_: object, *values: object) -> str:
    """The controls to the URL: the page re-renders from it, so every view is a bookmark."""
    keys = ("module", "source", "township", "type", "cls", "defect", "from", "to", "key")
    q = {k: str(val).strip() for k, val in zip(keys, values[:-1], strict=True) if isinstance(val, str | int)}
    q = {k: val[:64] for k, val in q.items() if val}
    if PageParams.from_store(values[-1]).kiosk:
        q["kiosk"] = "1"
    return "?" + urlencode(q)


def _show(v: Viewer, record_id: int, reveal: bool, lang: str) -> tuple[list[Any], bool]:
    """The detail panel's body and whether the reveal button stays disabled."""
    can = masking.can_reveal(v.role)
    if reveal:
        got = records.reveal(viewer=v, record_id=record_id, lang=lang)
        if got is None:
            return [html.P(both("无权查看该记录", "You may not view this record", lang, " / "))], True
        done = (
            f"已显示原值, 已记入责任日志第 {got.entry} 条",
            f"Revealed; responsibility-log entry {got.entry}",
        )
        return detail_table(got.row, lang, done), True
    row = records.detail(viewer=v, record_id=record_id, lang=lang)
    if row is None:
        return [html.P(both("该记录不在您的范围内", "This record is not in your scope", lang, " / "))], True
    public = row["classification"] in ("公开", "public")
    note: tuple[str, str] | None = None if public else ("敏感字段已遮蔽", "Sensitive fields are masked")
    return detail_table(row, lang, note), public or not can


@callback(
    Output(ids.detail, "children"),
    Output(ids.reveal, "disabled"),
    Output(ids.selected, "data"),
    Input(ids.grid, "cellClicked"),
    Input(ids.reveal, "n_clicks"),
    State(ids.selected, "data"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def show_detail(cell: object, clicks: object, selected: object, params: object) -> Any:
    v = _viewer()
    reveal = ctx.triggered_id == ids.reveal
    if v is None or (reveal and not _clicked(clicks)):
        return no_update, True, None
    lang = _lang(params)
    raw = selected if reveal else (cell.get("rowId") if isinstance(cell, dict) else None)
    if not (isinstance(raw, str | int) and str(raw).isdigit() and len(str(raw)) < 19):
        return no_update, True, None
    try:
        body, disabled = _show(v, int(raw), reveal, lang)
    except PoolError as exc:
        return [html.P(both(exc.zh, exc.en, lang, " / "), className="detail-note")], True, None
    return body, disabled, str(raw)


@callback(
    Output(ids.download, "data"),
    Input(ids.export, "n_clicks"),
    State(ids.filter, "data"),
    State(ids.grid, "getRowsRequest"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def export_csv(clicks: object, filt: object, request: object, params: object) -> Any:
    """The filter's rows as the grid shows them to this viewer (masked), logged on the responsibility log."""
    v = _viewer()
    if v is None or not _clicked(clicks):
        return no_update
    lang = _lang(params)
    f = RecordFilter.from_dict(filt)
    try:
        st, (frame, capped) = meta.consistent(
            lambda st: (st, records.export(viewer=v, f=f, sort=_sort(request), lang=lang, as_of=st.as_of))
        )
    except PoolError:
        return no_update
    labels = {"id": both("编号", "No.", lang, " ")} | {k: both(*FIELDS[k], lang, " ") for k in FIELDS}
    cap = (
        pick(
            f", 已截断为前 {records.EXPORT_CAP:,} 条", f", cut at the first {records.EXPORT_CAP:,} rows", lang
        )
        if capped
        else ""
    )
    header = pick(
        f"记录 (已按分级遮蔽), 数据截至 {as_of_text(st.as_of)}, {frame.height:,} 条{cap}, 上限 {records.EXPORT_CAP:,}",
        f"Records (masked by classification), data as of {as_of_text(st.as_of)}, {frame.height:,} rows{cap}, "
        f"limit {records.EXPORT_CAP:,}",
        lang,
    )
    return {
        "content": csv_for_excel(frame, labels, header),
        "filename": f"records-{time.strftime('%Y%m%d-%H%M')}.csv",
    }
