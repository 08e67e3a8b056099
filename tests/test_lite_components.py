"""`dashboard.components.lite.el` sends the browser exactly what the Dash component would."""

from __future__ import annotations

import json

from dash import html
from dash._utils import to_json

from dashboard.components.lite import el


def test_el_serialises_as_the_dash_component() -> None:
    lite = el(
        "Tr",
        [
            el("Td", el("A", "#7", href="/case?id=7", className="loop-case-link")),
            el("Td", "1,234", className="num"),
            el("Td", ["a", " ", el("A", "#8", href="/case?id=8")]),
            el("Td"),
        ],
        className="loop-small",
        title="fewer than 30",
    )
    dash = html.Tr(
        [
            html.Td(html.A("#7", href="/case?id=7", className="loop-case-link")),
            html.Td("1,234", className="num"),
            html.Td(["a", " ", html.A("#8", href="/case?id=8")]),
            html.Td(),
        ],
        className="loop-small",
        title="fewer than 30",
    )
    assert json.loads(to_json(lite)) == json.loads(to_json(dash))


def test_el_drops_props_left_unset() -> None:
    assert el("Td", "x", title=None) == {
        "props": {"children": "x"},
        "type": "Td",
        "namespace": "dash_html_components",
    }
