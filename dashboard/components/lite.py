"""Plain-dict html elements for tables of many cells on hot paths.

A Dash component's constructor checks every keyword against its declared props (`base_component`'s
wrapper and `__init__`); at about a thousand cells per answer (the loop page's case tables and
rankings) that checking was a third of a warm answer's time (cProfile on the full pool: 1,126 components
per render). What the browser receives is only the component's JSON, `{"props", "type", "namespace"}`,
which is exactly what `el` builds, so the browser gets the same answer (up to the order of keys;
`tests/test_lite_components.py` compares the two). Use `dash.html` everywhere else; use this only for
rows and cells of tables and link lists whose props are known-good literals.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "dash_html_components"


def el(tag: str, children: Any = None, **props: Any) -> dict[str, Any]:
    """`html.<tag>(children, **props)` as the JSON Dash sends (other props set to None are dropped)."""
    out: dict[str, Any] = {"children": children}
    for key, value in props.items():
        if value is not None:
            out[key] = value
    return {"props": out, "type": tag, "namespace": NAMESPACE}
