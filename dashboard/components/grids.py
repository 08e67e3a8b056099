"""The house's server-side grid: AG Grid's infinite row model, asking the server for one block at a time
(pages answer `getRowsRequest` with `getRowsResponse`), with bilingual column headers."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from dashboard.i18n import both


def column(field: str, zh: str, en: str, lang: str, **kw: Any) -> dict[str, Any]:
    """A column definition with the header in the chosen language and both languages on hover."""
    return {"field": field, "headerName": both(zh, en, lang, " "), "headerTooltip": both(zh, en, lang), **kw}


def infinite_grid(
    gid: str,
    columns: list[dict[str, Any]],
    theme: str,
    *,
    block: int,
    cached_blocks: int = 5,
    options: dict[str, Any] | None = None,
    **props: Any,
) -> dag.AgGrid:
    """A grid that never holds more than `cached_blocks` blocks of `block` rows; the server sorts and
    filters (no client-side sorting unless a column turns it on)."""
    return dag.AgGrid(
        id=gid,
        rowModelType="infinite",
        columnDefs=columns,
        className="ag-grid " + ("ag-theme-alpine-dark" if theme == "wall" else "ag-theme-alpine"),
        defaultColDef={"sortable": False, "filter": False, "resizable": True},
        dashGridOptions={
            "cacheBlockSize": block,
            "maxBlocksInCache": cached_blocks,
            "infiniteInitialRowCount": 1,
            "rowHeight": 34 if theme == "wall" else 28,
            "tooltipShowDelay": 200,
            **(options or {}),
        },
        style={"height": "100%", "width": "100%"},
        **props,
    )
