"""`cached`: memoise a query function in diskcache, shared by every worker.

The key is module + function + a digest of the whole `queries` package source + normalised keyword
arguments + the pool's data version, so a new load (which writes a new data version) invalidates
everything without a purge, a deploy that changes any query code (a helper, a constant, a table)
never reads old entries, and two gunicorn workers asking the same question compute it once.

The cache is an optimisation, never a dependency: when its folder cannot be opened, read or written
(full disk, wrong owner, "disk I/O error") queries are served uncached, the outage is logged once, and
the folder is tried again now and then so service picks the cache back up on its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import pickle
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import diskcache
from sqlalchemy import select

from queries import engine as eng
from queries.tables import pool_meta

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


# What a broken cache folder raises: sqlite3 errors from diskcache's index ("disk I/O error",
# "attempt to write a readonly database"), OSError from its value files, Timeout from its lock, and
# a truncated value file read back.
CACHE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    sqlite3.Error,
    diskcache.Timeout,
    pickle.UnpicklingError,
    EOFError,
)
RETRY_SECONDS = 30.0  # how long a broken cache folder is left alone before it is tried again


@dataclass
class _CacheState:
    directory: str | None = None
    cache: diskcache.Cache | None = None
    broken_at: float | None = None  # monotonic time of the last failure; None while healthy
    ttl: float = 5.0
    version: str = ""
    version_read_at: float = 0.0
    hits: int = 0
    misses: int = 0
    errors: int = 0


_state = _CacheState()
_lock = threading.Lock()


def configure(directory: Path | str | None, *, version_ttl: float = 5.0) -> None:
    """Use this diskcache folder (None turns caching off, e.g. in the generator)."""
    _close()
    _state.directory = str(directory) if directory else None
    _state.broken_at = None
    _state.ttl = version_ttl
    _state.version = ""
    _state.version_read_at = 0.0
    failure = _open()
    if failure is not None:
        _broken(failure)


def _close() -> None:
    cache, _state.cache = _state.cache, None
    if cache is not None:
        with contextlib.suppress(*CACHE_ERRORS):
            cache.close()


def _open() -> BaseException | None:
    """Open the folder; the error is returned, not handled, so no caller reports it holding `_lock`."""
    if _state.directory is None:
        return None
    try:
        _state.cache = diskcache.Cache(_state.directory, size_limit=2**30)
    except CACHE_ERRORS as exc:
        return exc
    return None


def _broken(exc: BaseException) -> None:
    """Serve uncached from now on; say so once per outage, not once per request."""
    _state.errors += 1
    with _lock:
        first = _state.broken_at is None
        _state.broken_at = time.monotonic()
    _close()
    if first:
        log.warning(
            "缓存目录不可用, 暂不使用缓存 / cache folder unusable, serving uncached: %s: %s (%s)",
            type(exc).__name__,
            exc,
            _state.directory,
        )


def _usable() -> diskcache.Cache | None:
    """The cache, or None while it is off or broken; a broken one is reopened after RETRY_SECONDS."""
    if _state.cache is not None or _state.directory is None:
        return _state.cache
    broken_at = _state.broken_at
    if broken_at is not None and time.monotonic() - broken_at < RETRY_SECONDS:
        return None
    with _lock:
        failure = _open() if _state.cache is None else None
    if failure is not None:
        _broken(failure)  # takes _lock itself: calling it inside the block above would deadlock
    return _state.cache


def _recovered() -> None:
    if _state.broken_at is not None:
        _state.broken_at = None
        log.warning("缓存目录已恢复 / cache folder usable again: %s", _state.directory)


_pin = threading.local()


@contextlib.contextmanager
def pinned(version: str) -> Iterator[None]:
    """Key every cached read in this thread on `version` (see queries.meta.consistent)."""
    before = getattr(_pin, "version", None)
    _pin.version = version
    try:
        yield
    finally:
        _pin.version = before


def data_version(*, fresh: bool = False) -> str:
    """The pool's data version as readers see it (queries.meta.effective: an ingest's pending version
    once due), re-read at most every `version_ttl` seconds per process (or the one pinned for this
    thread's current snapshot)."""
    pin = getattr(_pin, "version", None)
    if pin is not None and not fresh:
        return str(pin)
    now = time.monotonic()
    if fresh or not _state.version or now - _state.version_read_at > _state.ttl:
        from queries.meta import PENDING, effective  # meta imports this module

        keys = ["data_version", PENDING["data_version"], "version_due"]
        with eng.connect() as conn:
            rows = dict(
                conn.execute(
                    select(pool_meta.c.key, pool_meta.c.value).where(pool_meta.c.key.in_(keys))
                ).all()
            )
        value = effective(rows).get("data_version")
        with _lock:
            _state.version = value or "none"
            _state.version_read_at = now
    return _state.version


def _norm(value: Any) -> Any:
    if hasattr(value, "cache_key"):
        return value.cache_key()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(_norm(v) for v in value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in sorted(value.items())}
    return value


PACKAGE_ROOT = Path(__file__).resolve().parent


def source_digest(root: Path = PACKAGE_ROOT) -> str:
    """A digest of every .py file under `root` (the `queries` package): paths and bytes, in path order.

    A query's result depends on more than its own function (helpers, constants, table definitions,
    the scope rules), so the key covers the whole package: any change to it on deploy starts a fresh
    set of entries. Only source bytes go in, never memory addresses, so every worker agrees."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\x00")
        h.update(path.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()[:12]


@functools.cache
def _package_digest() -> str:
    return source_digest()


def make_key(func: Callable[..., Any], kwargs: dict[str, Any], version: str) -> str:
    args = json.dumps(_norm(kwargs), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(args.encode()).hexdigest()[:24]
    return f"{func.__module__}.{func.__qualname__}@{_package_digest()}|{digest}|{version}"


def cached(func: Callable[P, R]) -> Callable[P, R]:
    """Memoise a keyword-only query function. Positional arguments are refused so keys stay canonical."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if args:
            raise TypeError(f"{func.__qualname__} takes keyword arguments only")
        return _through(lambda: make_key(func, dict(kwargs), data_version()), lambda: func(*args, **kwargs))

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper


def _through(key_of: Callable[[], str], compute: Callable[[], R]) -> R:
    """The cached value under `key_of()`, else `compute()` stored there; uncached while the cache is off
    or broken (the key, which reads the data version, is not even made then)."""
    cache = _usable()
    if cache is None:
        return compute()
    key = key_of()
    try:
        hit = cache.get(key, default=_MISS)
    except CACHE_ERRORS as exc:
        _broken(exc)
        return compute()
    if hit is not _MISS:
        _state.hits += 1
        _recovered()
        return cast(R, hit)
    _state.misses += 1
    # the computation runs outside the try: its own errors are real errors, never a "broken cache"
    value = compute()
    try:
        cache.set(key, value, expire=24 * 3600)
    except CACHE_ERRORS as exc:
        _broken(exc)
    else:
        _recovered()
    return value


_MISS = object()


def stats() -> dict[str, int]:
    return {"hits": _state.hits, "misses": _state.misses, "errors": _state.errors}


def memo(name: str, parts: dict[str, Any], compute: Callable[[], R], *, salt: str = "") -> R:
    """`compute()` kept under `name` + normalised `parts` + `salt` (e.g. a digest of the caller's own
    source) + the data version, like a `cached` query: for answers built outside this package (a page's
    rendered content, turned into plain JSON values by its caller) that are a pure function of the pool's
    data version and `parts`. Same failure rule: a broken cache means computing, never an error."""

    def key() -> str:
        args = json.dumps(_norm(parts), sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(args.encode()).hexdigest()[:24]
        return f"memo:{name}@{_package_digest()}.{salt}|{digest}|{data_version()}"

    return _through(key, compute)
