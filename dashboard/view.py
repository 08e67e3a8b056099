"""Helpers every page uses: who is viewing, in which language and theme, and a guard for pool errors."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from dash import dcc, html
from plotly.io.json import to_json_plotly

from dashboard import auth, inputs, wall
from dashboard.app import request_lang, settings
from dashboard.components import error_panel
from dashboard.i18n import both, norm_lang
from queries import cache, meta
from queries.activity import AlertRules
from queries.errors import PoolError
from queries.scope import Viewer
from queries.timebase import to_local


@dataclass(frozen=True)
class PageParams:
    lang: str
    theme: str
    kiosk: bool

    def store(self) -> dict[str, Any]:
        return {"lang": self.lang, "theme": self.theme, "kiosk": self.kiosk}

    @classmethod
    def from_store(cls, data: object) -> PageParams:
        """From a page's params store as the browser sends it back: any part that is missing or of the
        wrong type (the store is client-side, so anyone can post anything) falls back to its default."""
        d = inputs.store(data)
        return cls(
            norm_lang(d.get("lang"), request_lang()),
            inputs.one_of(d.get("theme"), THEMES, "desk"),
            inputs.flag(d.get("kiosk")),
        )


THEMES = ("desk", "wall")


def page_params(query: dict[str, Any]) -> PageParams:
    """Language from the shell (cookie or ?lang=), theme and kiosk from the URL, like the shell does.
    A repeated key arrives as a list: the last value counts, as in the shell."""
    flat = inputs.query_flat(query)
    lang = norm_lang(flat.get("lang"), request_lang())
    wp = wall.parse(urlencode(flat))
    return PageParams(lang=lang, theme=wp.theme, kiosk=wp.kiosk)


def viewer() -> Viewer:
    return auth.require_viewer()


def rules() -> AlertRules:
    s = settings()
    return AlertRules(outage_hours=s.outage_hours, spike_ratio=s.spike_ratio)


def as_of_text(ts: int) -> str:
    return to_local(ts).strftime("%Y-%m-%d %H:%M")


def clock_note(clock: int, lang: str) -> str:
    """The line a page reckoning overdue flags at the cases' clock (`meta.case_clock`: the as-of time
    rounded down to CC_CASE_CLOCK_SECONDS) shows under them, as the closed loop's footers say it: a time
    a few minutes behind the shell's "data as of" badge then reads as what it is. It names the clock only:
    the data's own as-of time moves with every record batch, which the kept answer outlives (the shell's
    badge shows it)."""
    t = as_of_text(clock)
    step = max(1, meta.CASE_CLOCK_SECONDS // 60)
    return both(
        f"逾期按 {t} 计 (每 {step} 分钟; 数据时间见页首)",
        f"overdue as of {t} ({step}-minute clock; the data's time is in the header)",
        lang,
        " · ",
    )


def guarded(render: Callable[..., Any], lang: str, *args: Any, **kwargs: Any) -> Any:
    """Run `render(viewer, *args)` over one pool snapshot (its as-of time and its figures agree even when
    a reload lands meanwhile); a pool error (also while finding the viewer) becomes the error panel,
    never a traceback."""
    try:
        v = viewer()
        return meta.consistent(lambda _st: render(v, *args, **kwargs))
    except PoolError as exc:
        return error_panel(exc, lang)
    except PermissionError:
        return html.Div(html.A("登录 / Log in", href="/login"), className="state-panel")


def remembered(render: Callable[..., Any], lang: str, *args: Any) -> Any:
    """`guarded`, with the answer kept for this data version in the query cache (`cache.memo`) as the
    JSON Dash would send: a wall screen's refresh or a leader's second look costs one cache
    read, not a page of components and figures rebuilt from cached frames. Only for renders that depend
    on the viewer through role and scope alone (never the user's name or an unscoped department) and on their
    arguments, which must print the same in every worker (dataclasses, numbers, strings)."""
    return guarded(_remembering(render), lang, *args)


def kept(render: Callable[..., Any], v: Viewer, *args: Any) -> Any:
    """`render(v, *args)`'s answer kept as `remembered` keeps it (the same contract), for use inside a
    render run by `guarded`: a page keeps the part of its answer that moves with the data version only and
    builds the rest (user data, `no_update`) around it, in the same pool snapshot. The answer comes back as
    parsed JSON (dicts and lists, not components)."""
    return _remembering(render)(v, *args)


def warm(v: Viewer, render: Callable[..., Any], *args: Any) -> None:
    """Fill what `remembered(render, lang, *args)` will read for viewers like `v`, with no request
    (dashboard.warmup, after the data version moved)."""
    meta.consistent(lambda _st: _remembering(render)(v, *args))


F = TypeVar("F", bound=Callable[..., Any])


def reads(*domains: str) -> Callable[[F], F]:
    """Declare that a remembered render reads only these domains' data (queries.meta.DOMAINS) besides
    the base data: its kept answer then stays valid while other domains change (a render of cases only
    survives a stream of record batches). Without it, any write makes the answer stale. Checked like
    `@cached(domains=...)` in the tests."""

    def mark(render: F) -> F:
        render.domains = tuple(sorted(domains))  # type: ignore[attr-defined]
        return render

    return mark


def _remembering(render: Callable[..., Any]) -> Callable[..., Any]:
    name = f"{render.__module__}.{render.__qualname__}"
    domains = getattr(render, "domains", None)

    def run(v: Viewer, *a: Any) -> Any:
        parts = {"role": v.role, "scope": v.scope().cache_key(), "args": a}
        local = cache.enabled()  # with the cache off, nothing is kept anywhere
        key = cache.memo_key(name, parts, salt=digest(), domains=domains) if local else ""
        if local and (hit := _answers.get(key)) is not None:
            return hit
        # kept as the JSON text: a string unpickles at once, and orjson parses it in well under a millisecond
        text = cache.memo(
            name,
            parts,
            lambda: to_json_plotly(render(v, *a)),
            salt=digest(),
            domains=domains,
            key=key or None,
        )
        answer = orjson.loads(text)
        if local:
            _answers.put(key, answer, len(text))
        return answer

    return run


class _Answers:
    """This worker's most recent kept answers, parsed, under their memo keys (which carry the versions, so
    an old one is never served): a wall screen's refresh skips the shared cache's read and the parse.
    Bounded by the answers' JSON size (ANSWER_BYTES; parsed, they take a few times that), least recently
    used first out. Answers are never changed after parsing: Dash only serializes what a callback returns."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self.lock:
            got = self.items.get(key)
            if got is None:
                return None
            self.items.move_to_end(key)
            return got[0]

    def put(self, key: str, answer: Any, size: int) -> None:
        if size > self.budget // 4:
            return  # one answer never crowds out the rest
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (answer, size)
            self.used += size
            while self.used > self.budget:
                _, (_, n) = self.items.popitem(last=False)
                self.used -= n

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0


ANSWER_BYTES = 8 * 2**20
_answers = _Answers(ANSWER_BYTES)


@functools.cache
def digest() -> str:
    """The dashboard package's source: a deploy that changes how a page renders never reads old answers."""
    return cache.source_digest(Path(__file__).resolve().parent)


def acting(act: Callable[..., Any], lang: str, *args: Any, **kwargs: Any) -> Any:
    """Run a write callback's `act(viewer, *args)` exactly once, with `guarded`'s error handling. Not in
    `meta.consistent`: that repeats its body when the data version moves meanwhile, and a write that
    moves it itself (a case action, an import) would then be tried a second time."""
    try:
        v = viewer()
        return act(v, *args, **kwargs)
    except PoolError as exc:
        return error_panel(exc, lang)
    except PermissionError:
        return html.Div(html.A("登录 / Log in", href="/login"), className="state-panel")


def page_layout(
    ids: Any, render: Callable[..., Any], p: PageParams, cls: str, *, remember: bool = False
) -> html.Div:
    """The usual page frame: its params store (what its refresh callbacks read back) and its content,
    rendered once for the first paint through `guarded` (`remembered` with `remember`). `ids` needs
    root, params and content."""
    first = remembered(render, p.lang, p) if remember else guarded(render, p.lang, p)
    return html.Div(
        [
            dcc.Store(id=ids.params, data=p.store()),
            html.Div(first, id=ids.content, className=cls),
        ],
        id=ids.root,
        className=cls,
    )
