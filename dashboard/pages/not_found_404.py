"""Unknown path: say so, and offer the way back."""

import dash
from dash import html

from dashboard.app import request_lang
from dashboard.i18n import both

dash.register_page(__name__, path="/404", name="not_found", title="404")


def layout(**_: object) -> html.Div:
    lang = request_lang()
    return html.Div(
        [
            html.Div("404", className="panel-icon"),
            html.P(both("没有这个页面", "There is no such page", lang, " / ")),
            html.A(both("返回总览", "Back to the overview", lang, " / "), href="/", className="panel-action"),
        ],
        className="state-panel",
        id="notfound-panel",
    )
