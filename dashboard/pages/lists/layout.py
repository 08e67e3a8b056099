"""Three-Lists-in-One: problem -> process -> data -> responsibility, its gaps, and each department's own
list. Department heads land on their own list; leaders see any department and the city-wide comparison;
operators the city-wide summary. The wall shows the type that most needs attention and gaps per
department, and turns red when a high-severity type has a step with no lead or two."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback

from dashboard import wall, warmup
from dashboard.pages.lists import callbacks as cb
from dashboard.pages.lists.components import ids
from dashboard.view import page_params
from queries import lists
from queries.scope import Viewer

dash.register_page(
    __name__,
    path="/lists",
    name="lists",
    title="三单融合 · Three lists in one",
    order=2,
    ready="#lists-kpis .kpi-value",
    roles=("operator", "leader", "department_head", "admin"),
)


def _alert(v: Viewer) -> str | None:
    return lists.alert_level(scope=v.scope())


wall.register(__name__, _alert)
warmup.register(__name__, cb.warm_default)  # the wall's first paint and tick after each ingest batch

__all__ = ["ids", "layout"]


def layout(**query: Any) -> Any:
    return cb.layout_for(page_params(query), cb.parse(query))


# registered here, not in callbacks.py: this module runs again for every app Dash builds, so each app
# gets the callback (a module imported once would give it to the first app only)
callback(
    Output(ids.kpis, "children"),
    Output(ids.body, "children"),
    Input(ids.view, "value"),
    Input(ids.problem, "value"),
    Input(ids.dept, "value"),
    Input("app-refresh-interval", "n_intervals"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)(cb.update)

callback(
    Output(ids.download, "data"),
    Input(ids.export_xlsx, "n_clicks"),
    Input(ids.export_csv, "n_clicks"),
    State(ids.dept, "value"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)(cb.export)

callback(
    Output(ids.import_result, "children"),
    Output(ids.confirm, "style"),
    Output(ids.dry_run, "data"),
    Input(ids.upload, "contents"),
    Input(ids.confirm, "n_clicks"),
    State(ids.upload, "filename"),
    State(ids.dept, "value"),
    State(ids.dry_run, "data"),
    State(ids.params, "data"),
    prevent_initial_call=True,
)(cb.import_file)
