"""Cache warm-up after a data change: the first wall screen after a load is not the one that pays.

Every served worker (started from `dashboard.wsgi`) looks at the pool's data version every
CC_WARMUP_SECONDS. When it moved (a load, an ingest batch, a case action), or the code changed on a
deploy, one worker across every server sharing the cache wins `cache.claim` and renders each registered
page's default view through `view.warm`, for the county-wide viewers (admin and operator scopes) in the
desk and wall themes, into the answer cache that `view.remembered` reads. Township leaders' and
department heads' scopes are not warmed (their first view pays, as before). A warm-up never raises into
the worker: a failure is logged and the next version is warmed again.

Pages register with `warmup.register(__name__, fn)`, `fn(viewer, params)` calling `view.warm` with the
arguments their layout and refresh callback pass for a page opened without query parameters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from dashboard.view import PageParams, digest
from queries import cache
from queries.scope import Viewer

log = logging.getLogger(__name__)

Warmer = Callable[[Viewer, PageParams], None]
_WARMERS: dict[str, Warmer] = {}

VIEWERS = (Viewer(0, "warmup", "warmup", "admin"), Viewer(0, "warmup", "warmup", "operator"))
PARAMS = (PageParams("zh", "desk", False), PageParams("zh", "wall", True))


def register(module: str, fn: Warmer) -> None:
    _WARMERS[module] = fn


def warm_all() -> dict[str, float]:
    """Render every registered page's default view for each warmed viewer and theme; milliseconds per
    page (all its viewers and themes). A page that fails is logged and skipped."""
    spent: dict[str, float] = {}
    for module, fn in _WARMERS.items():
        t0 = time.perf_counter()
        try:
            for v in VIEWERS:
                for p in PARAMS:
                    fn(v, p)
        except Exception:  # a warm-up is an optimisation: never a reason to fail a worker
            log.exception("预热失败 / warm-up failed: %s", module)
            continue
        spent[module] = (time.perf_counter() - t0) * 1000
    return spent


def check(last: str | None) -> str:
    """One look: warm the cache if the version (with the code) moved since `last` and this caller won
    the claim for it. Returns what was seen, to pass as `last` next time."""
    seen = f"{cache.data_version(fresh=True)}:{digest()}"
    if seen != last and cache.claim(f"warm:{seen}", seconds=6 * 3600):
        spent = warm_all()
        log.info(
            "缓存已预热 / cache warmed for %s: %s",
            seen,
            ", ".join(f"{k.rsplit('.', 1)[-1]} {ms:.0f} ms" for k, ms in spent.items()),
        )
    return seen


def start(interval: float, server: object) -> threading.Thread | None:
    """The worker's warm-up thread (daemon), inside `server`'s app context; None when `interval` is 0."""
    if interval <= 0:
        return None

    def loop() -> None:
        last: str | None = None
        while True:
            try:
                with server.app_context():  # type: ignore[attr-defined]
                    last = check(last)
            except Exception:  # e.g. the pool being rebuilt: try again next time
                log.exception("预热检查失败 / warm-up check failed")
            time.sleep(interval)

    t = threading.Thread(target=loop, name="cc-warmup", daemon=True)
    t.start()
    return t
