"""The twin page's controls: labelled choices, the hazard list (presets, then the community's drawn
ones), and values posted to its callbacks checked (anyone can post anything)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import dcc, html

from dashboard.i18n import bi_text, both, pick
from queries import twin, twin_hazards
from queries.scope import Viewer


def options_of(pairs: Mapping[str, tuple[Any, ...]], lang: str) -> list[dict[str, str]]:
    return [{"label": both(zh, en, lang, " "), "value": k} for k, (zh, en, *_) in pairs.items()]


def hazard_options(v: Viewer, community: int, lang: str) -> list[dict[str, str]]:
    """The preset hazards, then the community's drawn ones (value "h<id>")."""
    drawn = twin_hazards.hazards(scope=v.scope(), community_code=community)
    return options_of(twin.HAZARDS, lang) + [
        {
            "label": f"{d.name} · {pick(*twin_hazards.KINDS[d.kind], lang)}",
            "value": f"{twin_hazards.PREFIX}{d.id}",
        }
        for d in drawn
    ]


def hazard_value(value: object) -> str:
    """A hazard dropdown's value as posted: a preset name or "h" and a drawn hazard's id, else no hazard."""
    text = str(value) if isinstance(value, str | int) else ""
    if text in twin.HAZARDS:
        return text
    if text[:1] == twin_hazards.PREFIX and text[1:].isdigit() and len(text) < 11:
        return text
    return "none"


def dropdown(
    label: tuple[str, str], cid: str, pairs: Mapping[str, tuple[Any, ...]], value: str, lang: str
) -> html.Div:
    """A labelled choice among named kinds, one always chosen."""
    return labelled(
        label, dcc.Dropdown(id=cid, options=options_of(pairs, lang), value=value, clearable=False), lang
    )


def labelled(label: tuple[str, str], control: Any, lang: str) -> html.Div:
    return html.Div([bi_text(*label, lang, "twin-control-label"), control], className="twin-control")


def community_code(value: object) -> int | None:
    """A community code from a callback's input: a 12-digit NBS code, or None (anyone can post anything
    to a callback, and a number past 64 bits would reach the database as an overflow)."""
    try:
        code = int(str(value))
    except ValueError:
        return None
    return code if 0 < code < 10**12 else None
