"""A worker's own kept answers (`view._Answers`): bounded by size, least recently used out first, never
one answer that would crowd out the rest, and nothing kept while the cache is off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard import view
from dashboard.view import PageParams
from queries import cache
from queries.scope import Viewer


def test_answers_are_bounded_and_the_least_recently_used_goes_first() -> None:
    a = view._Answers(100)
    for i in range(5):
        a.put(f"k{i}", [i], 20)
    assert a.get("k0") == [0] and a.used == 100  # k0 is now the most recent
    a.put("k5", [5], 20)  # over budget: k1, the least recently used, goes
    assert a.get("k1") is None and a.get("k0") == [0] and a.get("k5") == [5]
    assert a.used == 100
    a.put("big", ["x"], 26)  # more than a quarter of the budget: not kept
    assert a.get("big") is None and a.used == 100


def _render(v: Viewer, p: PageParams, calls: list[int]) -> Any:
    calls.append(1)
    return [
        {"props": {"children": f"{v.role} {p.theme}"}, "type": "Div", "namespace": "dash_html_components"}
    ]


def test_a_kept_answer_is_served_from_the_worker_and_nothing_is_kept_with_the_cache_off(
    sqlite_configured: str, tmp_path: Path
) -> None:
    calls: list[int] = []
    v, p = Viewer(1, "admin", "admin", "admin"), PageParams("zh", "wall", True)
    run = view._remembering(lambda viewer, params: _render(viewer, params, calls))
    view._answers.clear()
    first = run(v, p)
    misses, hits = cache.stats()["misses"], cache.stats()["hits"]
    assert run(v, p) == first and calls == [1]
    assert cache.stats()["misses"] == misses and cache.stats()["hits"] == hits  # not even the shared cache
    cache.configure(None)
    assert run(v, p) == first and run(v, p) == first and calls == [1, 1, 1]  # off: rendered every time
