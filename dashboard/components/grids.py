"""AG Grid in the infinite row model: the browser asks for one block of rows at a time and the server
answers only that block, so a table of any length never crosses the wire whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_ag_grid as dag
from dash import html

from dashboard.i18n import both


def column(field: str, zh: str, en: str, lang: str, **kw: Any) -> dict[str, Any]:
    """A column headed in both languages, the chosen one first, the full header on hover."""
    return {"field": field, "headerName": both(zh, en, lang, " "), "headerTooltip": both(zh, en, lang), **kw}


def columns_in(lang: str) -> Callable[..., dict[str, Any]]:
    """column() with the language filled in: `col = columns_in(lang); col("n", "记录数", "Records")`."""

    def col(field: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
        return column(field, zh, en, lang, **kw)

    return col


def head_row(labels: list[tuple[str, str]], lang: str) -> html.Tr:
    """A plain table's header row, each cell in both languages."""
    return html.Tr([html.Th(both(zh, en, lang, " ")) for zh, en in labels])


def infinite_grid(
    gid: str,
    columns: list[dict[str, Any]],
    theme: str,
    block: int,
    *,
    cached_blocks: int = 5,
    options: dict[str, Any] | None = None,
    **props: Any,
) -> dag.AgGrid:
    """A grid whose rows come from a `getRowsRequest` callback, `block` rows a request, never holding
    more than `cached_blocks` blocks. The server gives the order and the filters, so the grid neither
    sorts nor filters by itself (unless a column turns it on)."""
    wall_ = theme == "wall"
    return dag.AgGrid(
        id=gid,
        rowModelType="infinite",
        columnDefs=columns,
        className="ag-grid " + ("ag-theme-alpine-dark" if wall_ else "ag-theme-alpine"),
        defaultColDef={"sortable": False, "filter": False, "resizable": True},
        dashGridOptions={
            "cacheBlockSize": block,
            "maxBlocksInCache": cached_blocks,
            "infiniteInitialRowCount": 1,
            "rowHeight": 34 if wall_ else 28,
            "tooltipShowDelay": 200,
            **(options or {}),
        },
        style={"height": "100%", "width": "100%"},
        **props,
    )


def block_of(request: object, block: int) -> tuple[int, int] | None:
    """(start, how many) of a `getRowsRequest` as the browser sent it, at most `block` rows; None when
    it is not a request at all (anyone can post anything to a callback)."""
    if not isinstance(request, dict):
        return None
    try:
        start, end = int(request.get("startRow", 0)), int(request.get("endRow", block))
    except (TypeError, ValueError):
        start, end = 0, block
    start = max(0, start)
    return start, max(1, min(end - start, block))


def block_answer(rows: list[dict[str, Any]], start: int, want: int) -> dict[str, Any]:
    """The `getRowsResponse` for a block: rowCount is known once a block comes back short (the end)."""
    return {"rowData": rows, "rowCount": start + len(rows) if len(rows) < want else -1}


NO_ROWS: dict[str, Any] = {"rowData": [], "rowCount": 0}
