"""The cache: keyed by module, function, package source, normalised arguments and data version; shared across
processes (diskcache) and hosts (Redis); never a reason for an error page."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import redis
from sqlalchemy import create_engine, update

from queries import cache, meta, overview
from queries.scope import CITY_SCOPE, Scope
from queries.tables import pool_meta
from tests import servers
from tests.conftest import absent


def test_second_call_is_a_hit_and_a_new_data_version_is_a_miss(
    sqlite_configured: str, tmp_path: Path
) -> None:
    url = sqlite_configured
    d = meta.pool_status().as_of_day
    before = cache.stats()
    a = overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
    b = overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
    mid = cache.stats()
    assert mid["misses"] - before["misses"] >= 1
    assert mid["hits"] - before["hits"] >= 1
    assert a.equals(b)
    with create_engine(url).begin() as conn:
        old = meta.pool_status().data_version
        conn.execute(
            update(pool_meta).where(pool_meta.c.key == "data_version").values(value="test-new-version")
        )
    try:
        overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
        assert cache.stats()["misses"] > mid["misses"]
    finally:
        with create_engine(url).begin() as conn:
            conn.execute(update(pool_meta).where(pool_meta.c.key == "data_version").values(value=old))


def test_scope_is_part_of_the_key(sqlite_configured: str) -> None:
    d = meta.pool_status().as_of_day
    city = overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
    town = overview.township_kpis(scope=Scope(532503001, None, 2), first_day=d - 6, last_day=d)
    assert city.height == 13 and town.height == 1


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="keyword arguments only"):
        overview.township_kpis(CITY_SCOPE, 1, 2)  # type: ignore[misc]


def test_key_normalises_argument_order_and_types() -> None:
    f = overview.township_kpis.uncached  # type: ignore[attr-defined]
    k1 = cache.make_key(f, {"scope": CITY_SCOPE, "first_day": 1, "last_day": 2}, "v1")
    k2 = cache.make_key(f, {"last_day": 2, "first_day": 1, "scope": Scope(None, None, 2)}, "v1")
    assert k1 == k2
    assert cache.make_key(f, {"scope": CITY_SCOPE, "first_day": 1, "last_day": 3}, "v1") != k1
    assert cache.make_key(f, {"scope": CITY_SCOPE, "first_day": 1, "last_day": 2}, "v2") != k1
    assert k1.startswith("queries.overview.township_kpis@")


def test_keys_are_identical_in_another_process() -> None:
    """gunicorn workers must compute the same key, or they would not share the cache."""
    f = overview.alerts.uncached  # type: ignore[attr-defined]
    here = cache.make_key(f, {"scope": CITY_SCOPE, "as_of": 5, "rules": overview.AlertRules()}, "v")
    code = (
        "from queries import cache, overview; from queries.scope import CITY_SCOPE;"
        "print(cache.make_key(overview.alerts.uncached, {'scope': CITY_SCOPE, 'as_of': 5,"
        " 'rules': overview.AlertRules()}, 'v'))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == here


def test_frames_round_trip_through_the_cache(sqlite_configured: str) -> None:
    d = meta.pool_status().as_of_day
    first = overview.daily_by_module(scope=CITY_SCOPE, first_day=d - 3, last_day=d)
    again = overview.daily_by_module(scope=CITY_SCOPE, first_day=d - 3, last_day=d)
    assert again.schema == first.schema and again.schema["date"] == pl.Date


def test_key_covers_the_whole_queries_package(tmp_path: Path) -> None:
    """A deploy that changes a helper or a constant (not the query function itself) must not read old
    entries: the key carries a digest of every source file of the package."""
    f = overview.township_kpis.uncached  # type: ignore[attr-defined]
    key = cache.make_key(f, {"scope": CITY_SCOPE, "first_day": 1, "last_day": 2}, "v1")
    assert f"@{cache.source_digest()}|" in key
    copy = tmp_path / "queries"
    for src in cache.PACKAGE_ROOT.rglob("*.py"):
        dst = copy / src.relative_to(cache.PACKAGE_ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    assert cache.source_digest(copy) == cache.source_digest()
    helper = copy / "timebase.py"  # a module the query uses, not the query's own code
    helper.write_text(helper.read_text() + "\nDAY_CHANGED_ON_DEPLOY = 1\n")
    assert cache.source_digest(copy) != cache.source_digest()


class _BrokenDisk:
    """Stands in for a diskcache whose folder went read-only or full: every access fails like sqlite does."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self, *_: object, **__: object) -> object:
        self.calls += 1
        raise sqlite3.OperationalError("disk I/O error")

    set = get

    def close(self) -> None:
        pass


def test_an_unwritable_cache_serves_uncached_logs_once_and_recovers(
    sqlite_configured: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    d = meta.pool_status().as_of_day
    expected = overview.township_kpis.uncached(scope=CITY_SCOPE, first_day=d - 6, last_day=d)  # type: ignore[attr-defined]
    healthy = cache._state.cache
    broken = _BrokenDisk()
    cache._state.cache = broken  # the fixture's configure(None) resets the state afterwards
    caplog.set_level(logging.WARNING, logger="queries.cache")
    for _ in range(3):
        got = overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
        assert got.equals(expected)
    assert broken.calls == 1  # after the first failure the broken folder is left alone
    assert len([r for r in caplog.records if "serving uncached" in r.message]) == 1
    # once the retry interval has passed, the folder is opened again and entries are written again
    monkeypatch.setattr(cache, "RETRY_SECONDS", 0.0)
    cache._state.cache = None
    healthy.close()
    before = cache.stats()
    overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
    overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)
    assert cache.stats()["hits"] > before["hits"]
    assert any("usable again" in r.message for r in caplog.records)


def test_a_cache_folder_that_cannot_be_created_serves_uncached(
    sqlite_configured: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache.configure(blocker / "cache", version_ttl=0)
    d = meta.pool_status().as_of_day
    town = overview.township_kpis(scope=Scope(532503001, None, 2), first_day=d - 6, last_day=d)
    assert town.height == 1
    assert cache.stats()["errors"] >= 1


def test_a_failed_reopen_keeps_serving_uncached(
    sqlite_configured: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a live server: a worker whose retry could not reopen the folder hung forever (the
    failure was reported while holding the lock it needed). Without the fix this test never returns."""
    blocker = tmp_path / "still-not-a-folder"
    blocker.write_text("x")
    cache.configure(blocker / "cache", version_ttl=0)
    monkeypatch.setattr(cache, "RETRY_SECONDS", 0.0)  # every call retries, and every retry fails
    d = meta.pool_status().as_of_day
    before = cache.stats()["errors"]
    for _ in range(2):
        town = overview.township_kpis(scope=Scope(532503001, None, 2), first_day=d - 6, last_day=d)
        assert town.height == 1
    assert cache.stats()["errors"] >= before + 2  # each call tried the folder again


def test_memo_keeps_an_answer_per_parts_salt_and_data_version(sqlite_configured: str) -> None:
    url = sqlite_configured
    calls: list[str] = []

    def answer(tag: str) -> str:
        calls.append(tag)
        return f"answer-{tag}-{len(calls)}"

    first = cache.memo("t.page", {"town": 1}, lambda: answer("a"))
    assert cache.memo("t.page", {"town": 1}, lambda: answer("a")) == first
    assert calls == ["a"]  # the second call was a hit
    assert cache.memo("t.page", {"town": 2}, lambda: answer("b")) != first  # other parts: own entry
    assert cache.memo("t.page", {"town": 1}, lambda: answer("c"), salt="new-code") != first  # a deploy
    assert calls == ["a", "b", "c"]
    old = meta.pool_status().data_version
    with create_engine(url).begin() as conn:
        conn.execute(update(pool_meta).where(pool_meta.c.key == "data_version").values(value="memo-new"))
    try:
        assert cache.memo("t.page", {"town": 1}, lambda: answer("d")) == "answer-d-4"
    finally:
        with create_engine(url).begin() as conn:
            conn.execute(update(pool_meta).where(pool_meta.c.key == "data_version").values(value=old))


def test_memo_without_a_cache_computes_every_time() -> None:
    cache.configure(None)
    calls: list[int] = []
    for _ in range(2):
        cache.memo("t.off", {}, lambda: calls.append(1))
    assert len(calls) == 2


# --- Redis: the same `cached`, shared by several app servers --------------------------------------


@pytest.fixture
def own_redis() -> Iterator[tuple[str, int]]:
    """A private redis-server on a free port (a test may stop and restart it): its URL and port."""
    if servers.redis_server_binary() is None:
        absent("redis-server is not installed (apt-get install redis-server)")
    port = servers.free_port()
    proc = servers.start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0", port
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _township_kpis(town: int | None = None) -> pl.DataFrame:
    d = meta.pool_status().as_of_day
    scope = CITY_SCOPE if town is None else Scope(town, None, 2)
    return overview.township_kpis(scope=scope, first_day=d - 6, last_day=d)


def test_redis_down_serves_uncached_logs_once_and_retries_later(
    sqlite_configured: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A closed port: nothing listens, so every connect is refused."""
    closed = servers.free_port()
    caplog.set_level(logging.WARNING, logger="queries.cache")
    cache.configure(f"redis://:secret@127.0.0.1:{closed}/0", version_ttl=0)
    expected = overview.township_kpis.uncached(  # type: ignore[attr-defined]
        scope=CITY_SCOPE, first_day=meta.pool_status().as_of_day - 6, last_day=meta.pool_status().as_of_day
    )
    errors = cache.stats()["errors"]
    assert errors >= 1  # found at configure (the PING), not on the first page
    for _ in range(3):
        assert _township_kpis().equals(expected)
    assert cache.stats()["errors"] == errors  # left alone until RETRY_SECONDS have passed
    warned = [r.getMessage() for r in caplog.records if "serving uncached" in r.getMessage()]
    assert len(warned) == 1 and "ConnectionError" in warned[0]
    assert "secret" not in warned[0] and f":{closed}/0" in warned[0]  # the password never reaches a log
    monkeypatch.setattr(cache, "RETRY_SECONDS", 0.0)
    assert _township_kpis().equals(expected)
    assert cache.stats()["errors"] > errors  # tried again, still down, still served


def test_redis_shares_entries_under_the_pool_prefix_with_a_ttl(
    sqlite_configured: str, own_redis: tuple[str, int]
) -> None:
    url, _ = own_redis
    cache.configure(url, version_ttl=0)
    before = cache.stats()
    first = _township_kpis()
    assert cache.stats()["misses"] > before["misses"]
    client = redis.Redis.from_url(url)
    keys = [k.decode() for k in client.keys("*")]
    prefix = cache.pool_prefix(sqlite_configured)
    assert keys and all(k.startswith(prefix) for k in keys)
    assert any("queries.overview.township_kpis@" in k for k in keys)
    assert all(0 < client.ttl(k) <= cache.ENTRY_SECONDS for k in keys)
    # another process (a worker of another app server) configured the same way reads the same entry:
    # here, a fresh configure drops this process's connection and state
    cache.configure(url, version_ttl=0)
    mid = cache.stats()
    assert _township_kpis().equals(first)
    assert cache.stats()["hits"] == mid["hits"] + 1 and cache.stats()["misses"] == mid["misses"]
    # a second pool on the same Redis neither reads nor overwrites these entries
    cache.configure(url, version_ttl=0, pool=sqlite_configured + "-other")
    mid = cache.stats()
    _township_kpis()
    assert cache.stats()["misses"] > mid["misses"] and cache.stats()["hits"] == mid["hits"]
    client.close()


def test_redis_that_goes_away_and_comes_back(
    sqlite_configured: str,
    own_redis: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, port = own_redis
    cache.configure(url, version_ttl=0)
    expected = _township_kpis(532503001)
    caplog.set_level(logging.WARNING, logger="queries.cache")
    redis.Redis.from_url(url).shutdown(nosave=True)  # Redis stops under a running worker
    for _ in range(3):
        assert _township_kpis(532503001).equals(expected)
    assert len([r for r in caplog.records if "serving uncached" in r.getMessage()]) == 1
    again = servers.start_redis(port)
    try:
        monkeypatch.setattr(cache, "RETRY_SECONDS", 0.0)
        _township_kpis(532503001)  # reconnects; the restarted Redis is empty: a miss, written
        before = cache.stats()
        assert _township_kpis(532503001).equals(expected)
        assert cache.stats()["hits"] == before["hits"] + 1
        assert any("usable again" in r.getMessage() for r in caplog.records)
    finally:
        again.kill()
        again.wait(timeout=10)


def test_the_pool_prefix_names_the_pool_not_the_password_or_driver() -> None:
    a = cache.pool_prefix("postgresql+psycopg://cc:one@db.example:5432/pool")
    assert a == cache.pool_prefix("postgresql://cc:two@db.example:5432/pool")
    assert a != cache.pool_prefix("postgresql+psycopg://cc:one@db.example:5432/pool2")
    assert a != cache.pool_prefix("postgresql+psycopg://cc:one@db2.example:5432/pool")
    assert a.startswith("cc:") and a.endswith(":")


def test_redis_advice_asks_for_a_bound(own_redis: tuple[str, int]) -> None:
    url, _ = own_redis
    client = redis.Redis.from_url(url)
    client.config_set("maxmemory", "0")
    unbounded = cache.redis_advice(url)
    assert unbounded is not None and "maxmemory" in unbounded and "没有设置" in unbounded
    client.config_set("maxmemory", "64mb")
    client.config_set("maxmemory-policy", "noeviction")
    refusing = cache.redis_advice(url)
    assert refusing is not None and "noeviction" in refusing
    client.config_set("maxmemory-policy", "allkeys-lru")
    assert cache.redis_advice(url) is None
    client.close()
    assert cache.redis_advice(f"redis://127.0.0.1:{servers.free_port()}/0") is None  # cannot tell


@pytest.mark.parametrize("backend", ["diskcache", "redis"])
def test_claim_goes_to_one_caller_per_name(
    backend: str, sqlite_configured: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The warm-up's claim: the first caller gets it, every other (another worker, another server
    configured alike) does not, a new name is claimed afresh; no cache, no claim."""
    where: Path | str = tmp_path / "cache"  # sqlite_configured's folder
    if backend == "redis":
        where = request.getfixturevalue("own_redis")[0]
        cache.configure(where, version_ttl=0)
    assert cache.claim("warm:v1", seconds=60) is True
    cache.configure(where, version_ttl=0)  # as another worker would open it
    assert cache.claim("warm:v1", seconds=60) is False
    assert cache.claim("warm:v2", seconds=60) is True
    cache.configure(None)
    assert cache.claim("warm:v3", seconds=60) is False
