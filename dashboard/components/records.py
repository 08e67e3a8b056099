"""The record browser's components (dashboard/pages/records.py): the filter bar, the infinite grid, the
detail panel, the masking legend and the duplicate groups side by side. Pure builders: values in, Dash
components out (labels read from queries/meta); the page's callbacks feed them from queries/records.py."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import polars as pl
from dash import dcc, html

from dashboard.components.grids import column, infinite_grid
from dashboard.i18n import bi_text, both, pick
from dashboard.view import PageParams
from queries import masking, meta, records
from queries.scope import Viewer
from queries.tables import CLASSIFICATIONS


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


CLASS_CELL = {
    "cell-warn": "['敏感', 'sensitive'].includes(params.value)",
    "cell-bad": "['核心', 'core'].includes(params.value)",
}


def grid(p: PageParams) -> dag.AgGrid:
    lang = p.lang

    def col(field: str, **kw: Any) -> dict[str, Any]:
        return column(field, *FIELDS[field], lang, **kw)

    sortable = {"sortable": True}  # indexed columns only: the server refuses any other order
    time_width = 190 if p.theme == "wall" else 150  # "2026-11-20 14:26" whole at the wall's font size
    return infinite_grid(
        ids.grid,
        [
            col("occurred_at", width=time_width, **sortable, sort="desc"),
            col("received_at", width=time_width, **sortable),
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
        p.theme,
        block=BLOCK,
        cached_blocks=10,
        options={
            "suppressColumnVirtualisation": True,  # every column in the DOM: 15 columns, 100 rows a block
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
        },
        getRowId="params.data.id",
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
