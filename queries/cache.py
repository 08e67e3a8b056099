"""`cached`: memoise a query function in a cache shared by every worker: a diskcache folder (the
workers of one host) or Redis (the workers of several app servers), chosen by one setting.

The key is module + function + a digest of the whole `queries` package source + normalised keyword
arguments + the pool's data version, so a new load (which writes a new data version) invalidates
everything without a purge, a deploy that changes any query code (a helper, a constant, a table)
never reads old entries, and two workers asking the same question compute it once. The data version
lives in the pool, which every worker of every host reads, so all of them move on together.

The cache is an optimisation, never a dependency: when it cannot be opened, read or written (full
disk, wrong owner, "disk I/O error", Redis down or out of memory) queries are served uncached, the
outage is logged once, and the cache is tried again now and then so service picks it back up on its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import pickle
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast, overload

import diskcache
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select
from sqlalchemy.engine import make_url

from queries import engine as eng
from queries.tables import pool_meta

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


# What a broken cache raises: sqlite3 errors from diskcache's index ("disk I/O error", "attempt to
# write a readonly database"), OSError from its value files, Timeout from its lock, a truncated value
# read back, and every Redis error (refused, timed out, OOM when full with maxmemory-policy noeviction).
CACHE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    sqlite3.Error,
    diskcache.Timeout,
    pickle.UnpicklingError,
    EOFError,
    redis.RedisError,
)
RETRY_SECONDS = 30.0  # how long a broken cache is left alone before it is tried again
ENTRY_SECONDS = 24 * 3600  # an entry's time to live (both backends); older data versions age out
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis(location: str) -> bool:
    return location.startswith(REDIS_SCHEMES)


def pool_prefix(pool_url: str) -> str:
    """The Redis key prefix of one pool: `cc:` + a digest of the URL's backend, user, host, port and
    database (never the password or the driver), so two pools on one Redis never share an entry and
    every app server naming the same pool shares them."""
    try:
        u = make_url(pool_url)
        name = f"{u.get_backend_name()}://{u.username or ''}@{u.host or ''}:{u.port or ''}/{u.database or ''}"
    except Exception:  # no URL at all (a process that configured no pool): one shared bucket
        name = pool_url
    return f"cc:{hashlib.sha256(name.encode()).hexdigest()[:12]}:"


class RedisCache:
    """The part of diskcache.Cache that `cached` uses (get, set with expiry, close), on Redis. Values
    are pickled (frames, figures' inputs) as diskcache pickles them; keys carry the pool's prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        # no retries inside redis-py (its default backs off for seconds per call): a refused or
        # timed-out call fails at once and the cache's own RETRY_SECONDS decides when to try again
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=5.0, retry=Retry(NoBackoff(), 0)
        )
        self.prefix = prefix
        self._client.ping()  # an unreachable Redis is found at open, not on the first page

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._client.get(self.prefix + key)
        return default if raw is None else pickle.loads(cast(bytes, raw))

    def set(self, key: str, value: Any, expire: float | None = None) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._client.set(self.prefix + key, data, ex=int(expire) if expire else None)

    def add(self, key: str, value: Any, expire: float | None = None) -> bool:
        """Store only if absent (diskcache's `add`): True for the one caller that stored it."""
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return bool(self._client.set(self.prefix + key, data, ex=int(expire) if expire else None, nx=True))

    def close(self) -> None:
        self._client.close()


def redis_advice(url: str) -> str | None:
    """A bilingual warning when the Redis at `url` would grow without bound or refuse writes when full
    (no maxmemory, or maxmemory with the noeviction policy); None when bounded, or when it cannot tell
    (unreachable, or CONFIG disabled as on some managed services)."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0, retry=Retry(NoBackoff(), 0)
        )
        try:
            got = cast(dict[str, str], client.config_get("maxmemory*"))
        finally:
            client.close()
    except redis.RedisError:
        return None
    if got.get("maxmemory", "0") == "0":
        why = (
            "Redis 没有设置 maxmemory, 缓存会无限增长 / Redis has no maxmemory: the cache grows without bound"
        )
    elif got.get("maxmemory-policy") == "noeviction":
        why = "Redis 满后拒绝写入 (noeviction) / Redis refuses writes when full (maxmemory-policy noeviction)"
    else:
        return None
    return f"{why}; set e.g. `maxmemory 1gb` and `maxmemory-policy allkeys-lru` (see README, Several app servers)"


@dataclass
class _CacheState:
    location: str | None = None  # a diskcache folder or a Redis URL
    prefix: str = ""
    cache: diskcache.Cache | RedisCache | None = None
    broken_at: float | None = None  # monotonic time of the last failure; None while healthy
    ttl: float = 5.0
    versions: dict[str, str] = field(default_factory=dict)  # queries.meta.VERSION_KEYS, effective
    version_read_at: float = 0.0
    hits: int = 0
    misses: int = 0
    errors: int = 0


_state = _CacheState()
_lock = threading.Lock()


def configure(location: Path | str | None, *, version_ttl: float = 5.0, pool: str | None = None) -> None:
    """Use this diskcache folder or Redis URL (redis://, rediss://, unix://); None turns caching off
    (e.g. in the generator). Redis keys carry the prefix of `pool` (default: the configured pool)."""
    _close()
    _state.location = str(location) if location else None
    _state.prefix = pool_prefix(eng.configured_url() if pool is None else pool)
    _state.broken_at = None
    _state.ttl = version_ttl
    _state.versions = {}
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
    if _state.location is None:
        return None
    try:
        if is_redis(_state.location):
            _state.cache = RedisCache(_state.location, _state.prefix)
        else:
            _state.cache = diskcache.Cache(_state.location, size_limit=2**30)
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
            "缓存不可用, 暂不使用缓存 / cache unusable, serving uncached: %s: %s (%s)",
            type(exc).__name__,
            exc,
            _where(),
        )


def _where() -> str:
    """The cache's folder, or its Redis URL without a password, for the log."""
    where = _state.location or ""
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", where) if is_redis(where) else where


def _usable() -> diskcache.Cache | RedisCache | None:
    """The cache, or None while it is off or broken; a broken one is reopened after RETRY_SECONDS."""
    if _state.cache is not None or _state.location is None:
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
        log.warning("缓存已恢复 / cache usable again: %s", _where())


_pin = threading.local()


@contextlib.contextmanager
def pinned(versions: dict[str, str]) -> Iterator[None]:
    """Key every cached read in this thread on `versions` (queries.meta.VERSION_KEYS as one snapshot
    read them; see queries.meta.consistent)."""
    before = getattr(_pin, "versions", None)
    _pin.versions = dict(versions)
    try:
        yield
    finally:
        _pin.versions = before


def versions(*, fresh: bool = False) -> dict[str, str]:
    """The pool's version keys as readers see them (queries.meta.effective: an ingest's pending state
    once due), re-read at most every `version_ttl` seconds per process (or the ones pinned for this
    thread's current snapshot)."""
    pin = getattr(_pin, "versions", None)
    if pin is not None and not fresh:
        return cast(dict[str, str], pin)
    now = time.monotonic()
    if fresh or not _state.versions or now - _state.version_read_at > _state.ttl:
        from queries.meta import DUE_KEY, PENDING, VERSION_KEYS, effective  # meta imports this module

        keys = [*VERSION_KEYS, *(PENDING[k] for k in VERSION_KEYS if k in PENDING), DUE_KEY]
        with eng.connect() as conn:
            rows = dict(
                conn.execute(
                    select(pool_meta.c.key, pool_meta.c.value).where(pool_meta.c.key.in_(keys))
                ).all()
            )
        got = effective(rows)
        read = {k: got[k] for k in VERSION_KEYS if k in got}
        read.setdefault("data_version", "none")
        with _lock:
            _state.versions = read
            _state.version_read_at = now
    return _state.versions


def data_version(*, fresh: bool = False) -> str:
    """The pool's data version, which every write moves: what a read that names no domains keys on."""
    return versions(fresh=fresh).get("data_version", "none")


def version_of(domains: tuple[str, ...] | None) -> str:
    """What a read of `domains` keys on: the data version when None (every write invalidates it); else
    the base version (moved by every write outside the domains), each named domain's version, and for
    "cases" the closed loop's clock (queries.meta.case_clock). A pool written before domains existed
    has no base version: then every read keys on the data version, as before."""
    v = versions()
    if domains is None or "version.base" not in v:
        return v.get("data_version", "none")
    from queries.meta import case_clock  # meta imports this module

    parts = [f"b{v['version.base']}"]
    for d in domains:
        parts.append(f"{d[0]}{v.get(f'version.{d}', v.get('data_version', 'none'))}")
        if d == "cases":
            parts.append(f"t{case_clock(int(v.get('as_of', 0)))}")
    return ".".join(parts)


# --- domain declarations, checked ---------------------------------------------------------------------
# A read declared with domains must read nothing that another domain's writes change: no table of
# another domain, no cached read declared wider (or undeclared). `strict(True)` (the tests) raises
# DomainLeak on a breach, found by the read itself (nested cached reads) and by `watch(engine)` (every
# SQL statement run inside it); otherwise a breach found among nested reads is logged once.
DOMAINS = ("records", "cases", "staff")  # the domains with versions of their own (queries.meta)
DOMAIN_TABLES: dict[str, frozenset[str]] = {
    "records": frozenset(
        {
            "record",
            "rollup_daily",
            "seed_defect",
            "seed_defect_daily",
            "seed_incident",
            "ingest_batch",
            "quarantine",
        }
    ),
    "cases": frozenset(
        {
            "case_item",
            "case_event",
            "case_rollup",
            "case_rollup_dur",
            "seed_case_defect",
            "case_appeal",
            "optimization_action",
        }
    ),
    # what staff write at their desks, a row at a time: price decisions, factor datasets and model sets,
    # data-owner appointments, the twin's drawn hazards and saved scenarios, the divide's counter edits
    "staff": frozenset(
        {
            "price_decision",
            "factor_dataset",
            "factor_value",
            "factor_model_set",
            "data_owner",
            "twin_hazard",
            "twin_scenario",
            "divide_counter_edit",
        }
    ),
}


class DomainLeak(AssertionError):
    """A read declared with domains touched data outside them (so its cached answers could go stale)."""


_within = threading.local()  # the domains of the declared reads being computed in this thread, innermost last
_strict = False
_leaks_logged: set[str] = set()
_TABLE_RE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def strict(on: bool) -> None:
    global _strict
    _strict = on


def _stack() -> list[tuple[str, tuple[str, ...]]]:
    st = getattr(_within, "stack", None)
    if st is None:
        st = _within.stack = []
    return cast(list[tuple[str, tuple[str, ...]]], st)


def _leak(message: str) -> None:
    if _strict:
        raise DomainLeak(message)
    if message not in _leaks_logged:
        _leaks_logged.add(message)
        log.warning("缓存域声明有误 / cache domain declaration breached: %s", message)


def _enter(name: str, domains: tuple[str, ...] | None) -> None:
    """Check a read about to run (hit or miss) inside the declared read being computed, if any."""
    st = _stack()
    if not st:
        return
    outer, allowed = st[-1]
    if domains is None or not set(domains) <= set(allowed):
        _leak(f"{outer} (domains {allowed}) reads {name} (domains {domains or 'all'})")


@contextlib.contextmanager
def _computing(name: str, domains: tuple[str, ...] | None) -> Iterator[None]:
    if domains is None:  # inside a declared read, _enter has reported it already
        yield
        return
    st = _stack()
    st.append((name, domains))
    try:
        yield
    finally:
        st.pop()


def check_statement(statement: str) -> None:
    """Raise (strict) or log when `statement` touches a table of a domain the read being computed in
    this thread did not declare."""
    st = _stack()
    if not st:
        return
    name, allowed = st[-1]
    for table in _TABLE_RE.findall(statement):
        for d, tables in DOMAIN_TABLES.items():
            if d not in allowed and table.lower() in tables:
                _leak(f"{name} (domains {allowed}) reads table {table} of domain {d}")


def watch(engine_class: Any) -> None:
    """Check every statement run through `engine_class` (sqlalchemy.Engine) against the read being
    computed (see check_statement). Idempotent."""
    from sqlalchemy import event

    if not event.contains(engine_class, "before_cursor_execute", _on_execute):
        event.listen(engine_class, "before_cursor_execute", _on_execute)


def _on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    check_statement(statement)


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


@overload
def cached(func: Callable[P, R], *, domains: None = None) -> Callable[P, R]: ...


@overload
def cached(
    func: None = None, *, domains: tuple[str, ...] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def cached(func: Callable[P, R] | None = None, *, domains: tuple[str, ...] | None = None) -> Any:
    """Memoise a keyword-only query function. Positional arguments are refused so keys stay canonical.

    `@cached` keys on the data version (any write invalidates it); `@cached(domains=("cases",))` on the
    base version and those domains' versions only (see `version_of`): for reads of nothing but those
    domains' tables and the base tables (reference lists and other data written through `move_all`),
    and of cached reads declared within the same domains, which `strict` mode checks."""
    if func is None:
        return functools.partial(cached, domains=domains)
    if domains is not None:
        unknown = set(domains) - set(DOMAINS)
        if unknown:
            raise ValueError(f"{func.__qualname__}: unknown domains {sorted(unknown)}; domains: {DOMAINS}")
        domains = tuple(sorted(domains))
    name = f"{func.__module__}.{func.__qualname__}"
    fn = cast(Callable[..., R], func)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        if args:
            raise TypeError(f"{fn.__qualname__} takes keyword arguments only")
        _enter(name, domains)

        def compute() -> R:
            with _computing(name, domains):
                return fn(**kwargs)

        return _through(lambda: make_key(fn, dict(kwargs), version_of(domains)), compute)

    wrapper.uncached = fn  # type: ignore[attr-defined]
    wrapper.domains = domains  # type: ignore[attr-defined]
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
        cache.set(key, value, expire=ENTRY_SECONDS)
    except CACHE_ERRORS as exc:
        _broken(exc)
    else:
        _recovered()
    return value


_MISS = object()


def stats() -> dict[str, int]:
    return {"hits": _state.hits, "misses": _state.misses, "errors": _state.errors}


def memo(
    name: str,
    parts: dict[str, Any],
    compute: Callable[[], R],
    *,
    salt: str = "",
    domains: tuple[str, ...] | None = None,
    key: str | None = None,
) -> R:
    """`compute()` kept under `name` + normalised `parts` + `salt` (e.g. a digest of the caller's own
    source) + the version of `domains` (see `cached`), like a `cached` query: for answers built outside
    this package (a page's rendered content, turned into plain JSON values by its caller) that are a
    pure function of the pool's data and `parts`. Same failure rule: a broken cache means computing,
    never an error. `key`: the `memo_key` of these arguments, when the caller has made it already."""
    doms = None if domains is None else tuple(sorted(domains))
    _enter(f"memo:{name}", doms)

    def run() -> R:
        with _computing(f"memo:{name}", doms):
            return compute()

    made = key  # a caller that made `memo_key` already (view.remembered) passes it, not made twice
    return _through(lambda: made or memo_key(name, parts, salt=salt, domains=doms), run)


def memo_key(
    name: str, parts: dict[str, Any], *, salt: str = "", domains: tuple[str, ...] | None = None
) -> str:
    """The key `memo` keeps an answer under (the current versions included)."""
    doms = None if domains is None else tuple(sorted(domains))
    args = json.dumps(_norm(parts), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(args.encode()).hexdigest()[:24]
    return f"memo:{name}@{_package_digest()}.{salt}|{digest}|{version_of(doms)}"


def enabled() -> bool:
    """Whether the cache is on and usable now (off, or broken and not yet retried: False)."""
    return _usable() is not None


def claim(name: str, *, seconds: float) -> bool:
    """True for exactly one caller across every worker and host sharing this cache (for `seconds`): who
    does a shared chore such as warming the cache after a load. False while the cache is off or broken:
    a chore whose only use is filling the cache is then pointless."""
    cache = _usable()
    if cache is None:
        return False
    try:
        return bool(cache.add(f"claim:{name}", time.time(), expire=seconds))
    except CACHE_ERRORS as exc:
        _broken(exc)
        return False
