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
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import auth, inputs, wall
from dashboard.components import empty_state, notice
from dashboard.exports import csv_for_excel
from dashboard.i18n import bi_text, both, pick
from dashboard.view import PageParams, as_of_text, page_layout, page_params
from queries import masking, meta, records
from queries.errors import PoolError
from queries.records import RecordFilter
from queries.scope import Viewer
from queries.tables import CLASSIFICATIONS

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


class ids:
    root = "records-root"
    params = "records-params-store"
    content = "records-content"
    filter = "records-filter-store"
    grid = "records-grid"
    count = "records-count"
    messages = "records-messages"
    detail = "records-detail-body"
    reveal = "records-reveal-button"
    selected = "records-selected-store"
    export = "records-export-button"
    download = "records-download"
    apply = "records-apply-button"
    groups = "records-groups"
    legend = "records-legend"
    module = "records-module-dropdown"
    source = "records-source-dropdown"
    township = "records-township-dropdown"
    type = "records-type-dropdown"
    cls = "records-cls-dropdown"
    defect = "records-defect-dropdown"
    date_from = "records-from-input"
    date_to = "records-to-input"
    key = "records-key-input"


BLOCK = 100  # rows per server request (the grid's cacheBlockSize)
CLASS_LABELS = {"public": ("公开", "Public"), "sensitive": ("敏感", "Sensitive"), "core": ("核心", "Core")}
DEFECT_LABELS = {
    "duplicate": ("跨部门重复", "Duplicate"),
    "missing": ("缺失字段", "Missing field"),
    "late": ("迟到 (>48小时)", "Late (> 48 h)"),
    "badcode": ("区划编码不一致", "Bad area code"),
}
FIELDS: dict[str, tuple[str, str]] = {
    "occurred_at": ("发生时间", "Occurred"),
    "received_at": ("接收时间", "Received"),
    "module": ("模块", "Module"),
    "source": ("来源系统", "Source system"),
    "dept": ("部门", "Department"),
    "township": ("乡镇(街道)", "Township"),
    "record_type": ("记录类型", "Record type"),
    "classification": ("分级", "Class"),
    "record_key": ("业务主键", "Record key"),
    "community_code": ("社区编码", "Community"),
    "grid_id": ("网格", "Grid cell"),
    "qty": ("数量", "Quantity"),
    "amount": ("金额(元)", "Amount (¥)"),
    "area_code_raw": ("原始区划编码", "Raw area code"),
    "defects": ("质量问题", "Defects"),
}


def layout(**query: Any) -> html.Div:
    flat = inputs.query_flat(query)
    p = page_params(query)
    return page_layout(ids, lambda v, p_: render(v, p_, flat), p, "records")


def _options(frame: pl.DataFrame, value: str, lang: str) -> list[dict[str, str]]:
    return [
        {"label": both(r["name_zh"], r["name_en"], lang), "value": str(r[value])}
        for r in frame.iter_rows(named=True)
    ]


def _dropdown(
    cid: str, options: list[dict[str, str]], value: str | None, label: tuple[str, str], lang: str
) -> Any:
    return html.Label(
        [
            bi_text(*label, lang, "filter-label"),
            dcc.Dropdown(id=cid, options=options, value=value, clearable=True, className="filter-dd"),
        ],
        className="filter",
    )


def date_input(cid: str, value: str | None) -> dcc.Input:
    # text, not type="date": the server reads YYYY-MM-DD and says so when a value is not one
    return dcc.Input(
        id=cid, type="text", placeholder="YYYY-MM-DD", value=value, className="filter-in", maxLength=10
    )


def filter_bar(v: Viewer, p: PageParams, q: dict[str, str]) -> html.Div:
    lang = p.lang
    cls_opts = [
        {"label": both(*CLASS_LABELS[c], lang), "value": c}
        for c in CLASSIFICATIONS[: v.scope().max_class + 1]
    ]
    defect_opts = [{"label": both(*DEFECT_LABELS[d], lang), "value": d} for d in records.DEFECTS]
    types = records.record_types()
    return html.Div(
        [
            _dropdown(
                ids.module, _options(meta.modules(), "code", lang), q.get("module"), ("模块", "Module"), lang
            ),
            _dropdown(
                ids.source,
                _options(meta.sources(), "code", lang),
                q.get("source"),
                ("来源系统", "Source"),
                lang,
            ),
            _dropdown(
                ids.township,
                _options(meta.townships(), "code", lang),
                q.get("township"),
                ("乡镇(街道)", "Township"),
                lang,
            ),
            _dropdown(
                ids.type, _options(types, "id", lang), q.get("type"), ("记录类型", "Record type"), lang
            ),
            _dropdown(ids.cls, cls_opts, q.get("cls"), ("分级", "Class"), lang),
            _dropdown(ids.defect, defect_opts, q.get("defect"), ("质量问题", "Defect"), lang),
            html.Label(
                [
                    bi_text("发生日期", "Occurred", lang, "filter-label"),
                    html.Div(
                        [
                            date_input(ids.date_from, q.get("from")),
                            date_input(ids.date_to, q.get("to")),
                        ],
                        className="filter-dates",
                    ),
                ],
                className="filter",
            ),
            html.Label(
                [
                    bi_text("业务主键", "Record key", lang, "filter-label"),
                    dcc.Input(
                        id=ids.key, type="text", value=q.get("key"), className="filter-in", maxLength=18
                    ),
                ],
                className="filter",
            ),
            html.Div(
                [
                    html.Button(both("筛选", "Apply", lang), id=ids.apply, className="btn btn-primary"),
                    dcc.Link(both("清除", "Clear", lang), href="/records", className="btn"),
                    html.Button(both("导出 CSV", "Export CSV", lang), id=ids.export, className="btn"),
                    dcc.Download(id=ids.download),
                ],
                className="filter-actions",
            ),
        ],
        className="card records-filters",
    )


def count_text(n: int, lang: str) -> str:
    cap = records.BROWSE_CAP
    if n > cap:
        return pick(
            f"匹配超过 {cap:,} 条; 表格按所选顺序浏览前 {cap:,} 条, 请缩小筛选, 或导出 (至多 {records.EXPORT_CAP:,} 条)",
            f"More than {cap:,} match; the grid pages through the first {cap:,} in the chosen order. "
            f"Narrow the filter, or export (up to {records.EXPORT_CAP:,} rows)",
            lang,
        )
    return pick(f"匹配 {n:,} 条记录", f"{n:,} records match", lang)


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


CLASS_CELL = {
    "cell-warn": "['敏感', 'sensitive'].includes(params.value)",
    "cell-bad": "['核心', 'core'].includes(params.value)",
}


def grid(p: PageParams) -> dag.AgGrid:
    lang = p.lang

    def col(field: str, **kw: Any) -> dict[str, Any]:
        zh, en = FIELDS[field]
        return {
            "field": field,
            "headerName": both(zh, en, lang, " "),
            "headerTooltip": both(zh, en, lang),
            **kw,
        }

    sortable = {"sortable": True}
    return dag.AgGrid(
        id=ids.grid,
        rowModelType="infinite",
        getRowId="params.data.id",
        columnDefs=[
            col("occurred_at", width=150, **sortable, sort="desc"),
            col("received_at", width=150, **sortable),
            col("module", width=120, tooltipField="module"),
            col("source", minWidth=150, flex=1, tooltipField="source"),
            col("dept", width=130, tooltipField="dept"),
            col("township", width=120),
            col("record_type", width=110),
            col("classification", width=90, cellClassRules=CLASS_CELL),
            col("record_key", width=130),
            col("community_code", width=130),
            col("grid_id", width=80),
            col("qty", width=80, type="numericColumn"),
            col("amount", width=100, type="numericColumn"),
            col("area_code_raw", width=130),
            col("defects", width=120, cellClassRules={"cell-bad": "params.value"}),
        ],
        className="ag-grid " + ("ag-theme-alpine-dark" if p.theme == "wall" else "ag-theme-alpine"),
        # sorting only on indexed columns (the server refuses any other); no client-side filtering
        defaultColDef={"sortable": False, "filter": False, "resizable": True},
        dashGridOptions={
            "cacheBlockSize": BLOCK,
            "maxBlocksInCache": 10,
            "infiniteInitialRowCount": 1,
            "rowHeight": 34 if p.theme == "wall" else 28,
            "tooltipShowDelay": 200,
            "suppressColumnVirtualisation": True,  # every column in the DOM: 15 columns, 100 rows a block
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
        },
        style={"height": "100%", "width": "100%"},
    )


def detail_card(v: Viewer, lang: str) -> html.Div:
    can = masking.can_reveal(v.role)
    return html.Div(
        [
            html.Div(bi_text("记录详情", "Record detail", lang), className="card-title"),
            html.Div(
                html.P(
                    both("点击表格中的一行查看详情", "Click a row to see its detail", lang),
                    className="chart-foot",
                ),
                id=ids.detail,
            ),
            html.Button(
                both("显示原值 (记入责任日志)", "Reveal (logged)", lang),
                id=ids.reveal,
                className="btn",
                disabled=True,
                style={} if can else {"display": "none"},
            ),
        ],
        className="card records-detail",
    )


def legend(lang: str) -> html.Div:
    return html.Div(
        [
            html.Div(bi_text("遮蔽规则", "Masking rule", lang), className="card-title"),
            html.Ul([html.Li(both(zh, en, lang, " / ")) for zh, en in masking.LEGEND]),
        ],
        className="card records-legend",
        id=ids.legend,
    )


def detail_table(row: dict[str, Any], lang: str, note: tuple[str, str] | None = None) -> list[Any]:
    rows = [
        html.Tr([html.Th(pick(*FIELDS[k], lang)), html.Td("—" if row.get(k) is None else str(row[k]))])
        for k in FIELDS
    ]
    out: list[Any] = [html.Table(html.Tbody(rows), className="detail-table")]
    if note:
        out.append(html.P(both(*note, lang, " / "), className="detail-note"))
    return out


GROUP_FIELDS = (
    *("source", "dept", "classification", "received_at", "occurred_at", "township", "record_type"),
    *("record_key", "community_code", "amount", "area_code_raw", "defects"),
)


def groups_card(frame: pl.DataFrame, lang: str) -> html.Div:
    """Each duplicate group's rows next to each other (one column a row), differing fields marked."""
    cards = []
    for (g,), part in frame.group_by("group", maintain_order=True):
        differs = set(str(part["differs"][0] or "").split(","))
        head = html.Tr(
            [html.Th(pick(f"第 {g} 组", f"Group {g}", lang))] + [html.Th(f"#{i}") for i in part["id"]]
        )
        body = [
            html.Tr(
                [html.Th(pick(*FIELDS[k], lang))] + [html.Td("—" if x is None else str(x)) for x in part[k]],
                className="diff" if k in differs else None,
            )
            for k in GROUP_FIELDS
        ]
        cards.append(html.Table([html.Thead(head), html.Tbody(body)], className="group-table"))
    return html.Div(
        [
            html.Div(
                [
                    bi_text("重复记录并排对比", "Duplicates side by side", lang),
                    html.Span(
                        pick(
                            f" · 最新 {frame['group'].n_unique()} 组 · 黄色为不同字段 · 只含您有权查看的记录",
                            f" · newest {frame['group'].n_unique()} groups · amber rows differ · only records you may see",
                            lang,
                        ),
                        className="chart-foot",
                    ),
                ],
                className="card-title",
            ),
            html.Div(cards, className="group-list"),
        ],
        className="card records-groups",
        id=ids.groups,
    )


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
def show_detail(cell: object, _: object, selected: object, params: object) -> Any:
    v = _viewer()
    if v is None:
        return no_update, True, None
    lang = _lang(params)
    reveal = ctx.triggered_id == ids.reveal
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
def export_csv(_: object, filt: object, request: object, params: object) -> Any:
    """The filter's rows as the grid shows them to this viewer (masked), logged on the responsibility log."""
    v = _viewer()
    if v is None:
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
