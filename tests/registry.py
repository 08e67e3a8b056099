"""What the tests iterate over, read from where the app declares it, never typed again: the pages (from
each page module's `dash.register_page` call) and the schema head (from the Alembic revisions).

Pages are read from the source with `ast` because test parameters are needed at collection time, before
any app exists (creating a Dash app re-executes every page module); `test_the_page_list_is_dash_s`
holds this reading equal to Dash's live registry.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from queries import schema

PAGES_DIR = Path(__file__).resolve().parents[1] / "dashboard" / "pages"


@dataclass(frozen=True)
class PageSpec:
    module: str
    name: str
    path: str
    ready: str | None  # selector that shows the page drew its data; None for pages without data (404)


@cache
def pages() -> tuple[PageSpec, ...]:
    """Every registered page, in `order`, with the literal keywords of its register_page call."""
    found: list[tuple[int, PageSpec]] = []
    for file in sorted(PAGES_DIR.rglob("*.py")):
        if file.name.startswith("_"):
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "register_page"
            ):
                kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
                module = "dashboard.pages." + ".".join(file.relative_to(PAGES_DIR).with_suffix("").parts)
                spec = PageSpec(module, kw["name"], kw["path"], kw.get("ready"))
                found.append((int(kw.get("order", 999)), spec))
    return tuple(spec for _, spec in sorted(found, key=lambda x: (x[0], x[1].name)))


def data_pages() -> dict[str, PageSpec]:
    """The product's pages (those that draw data), by name."""
    return {p.name: p for p in pages() if p.ready}


def schema_head() -> str:
    return schema.head_revision()
