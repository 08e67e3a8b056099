"""`cached`: memoise a query function in diskcache, shared by every worker.

The key is module + function (+ a digest of its code) + normalised keyword arguments + the pool's
data version, so
a new load (which writes a new data version) invalidates everything without a purge, and two
gunicorn workers asking the same question compute it once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import diskcache
from sqlalchemy import select

from queries import engine as eng
from queries.tables import pool_meta

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _CacheState:
    cache: diskcache.Cache | None = None
    ttl: float = 5.0
    version: str = ""
    version_read_at: float = 0.0
    hits: int = 0
    misses: int = 0


_state = _CacheState()
_lock = threading.Lock()


def configure(directory: Path | str | None, *, version_ttl: float = 5.0) -> None:
    """Use this diskcache folder (None turns caching off, e.g. in the generator)."""
    if _state.cache is not None:
        _state.cache.close()
    _state.cache = diskcache.Cache(str(directory), size_limit=2**30) if directory else None
    _state.ttl = version_ttl
    _state.version = ""
    _state.version_read_at = 0.0


def data_version(*, fresh: bool = False) -> str:
    """The pool's data version, re-read at most every `version_ttl` seconds per process."""
    now = time.monotonic()
    if fresh or not _state.version or now - _state.version_read_at > _state.ttl:
        with eng.connect() as conn:
            value = conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "data_version")).scalar()
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


def code_digest(func: Callable[..., Any]) -> str:
    """A digest of the function's compiled code, so a deploy that changes a query never reads old entries."""
    return hashlib.sha256(_code_bytes(func.__code__)).hexdigest()[:10]


def _code_bytes(code: types.CodeType) -> bytes:
    # Nested code objects are walked, not repr()'d: their repr holds a memory address that differs
    # per process, which would silently stop workers from sharing entries.
    parts = [code.co_code, repr(code.co_names).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if isinstance(const, types.CodeType) else repr(const).encode())
    return b"\x00".join(parts)


def make_key(func: Callable[..., Any], kwargs: dict[str, Any], version: str) -> str:
    args = json.dumps(_norm(kwargs), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(args.encode()).hexdigest()[:24]
    return f"{func.__module__}.{func.__qualname__}@{code_digest(func)}|{digest}|{version}"


def cached(func: Callable[P, R]) -> Callable[P, R]:
    """Memoise a keyword-only query function. Positional arguments are refused so keys stay canonical."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if args:
            raise TypeError(f"{func.__qualname__} takes keyword arguments only")
        cache = _state.cache
        if cache is None:
            return func(*args, **kwargs)
        key = make_key(func, dict(kwargs), data_version())
        hit = cache.get(key, default=_MISS)
        if hit is not _MISS:
            _state.hits += 1
            return cast(R, hit)
        _state.misses += 1
        value = func(*args, **kwargs)
        cache.set(key, value, expire=24 * 3600)
        return value

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper


_MISS = object()


def stats() -> dict[str, int]:
    return {"hits": _state.hits, "misses": _state.misses}
