"""Data-pool health: delivery and quality of each source system, volumes per module and day, classification;
on the desk also the data owners' scorecards and the quarantine."""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input, Output, State, callback, html

from dashboard import wall, warmup
from dashboard.pages.pool import quarantine, scorecards, sources
from dashboard.pages.pool.names import ids
from dashboard.view import PageParams, guarded, page_layout, page_params, remembered, rules, warm
from queries import activity, meta
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/pool",
    name="pool",
    title="数据池 · Data pool",
    order=1,
    ready="#pool-source-grid .ag-row",
)

__all__ = ["ids", "layout", "render"]


def _pool_alert(v: Viewer) -> str | None:
    return activity.alert_level(
        scope=v.scope(), as_of=meta.pool_status().as_of, rules=rules(), kinds=("outage",)
    )


wall.register(__name__, _pool_alert)
warmup.register(__name__, lambda v, p: warm(v, render, p))


def layout(**query: Any) -> html.Div:
    p = page_params(query)
    root = page_layout(ids, render, p, "pool", remember=True)
    if p.theme != "wall":
        # outside the refreshed content: a correction being typed into a held row survives the refresh
        root.children.append(html.Div(guarded(quarantine.section, p.lang, p), id=ids.quarantine))
    return root


@callback(
    Output(ids.content, "children"),
    Input("app-refresh-interval", "n_intervals"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)
def refresh(_: int | None, params: object) -> Any:
    p = PageParams.from_store(params)
    return remembered(render, p.lang, p)


@callback(
    Output(ids.grid, "exportDataAsCsv"),
    Output(ids.grid, "csvExportParams"),
    Input(ids.export, "n_clicks"),
    prevent_initial_call=True,
)
def export_csv(_: int | None) -> tuple[bool, dict[str, str]]:
    return True, {"fileName": f"pool-sources-{time.strftime('%Y%m%d-%H%M')}.csv"}


def render(v: Viewer, p: PageParams) -> list[Any]:
    """The wall shows the health sections only (it cannot scroll or click); the desk adds the owners'
    scorecards below them (and the layout the quarantine, which is not refreshed with them)."""
    health = sources.sections(v, p)
    if p.theme == "wall":
        return health
    return [*health, scorecards.section(v, p)]
