"""The cache: keyed by module, function, package source, normalised arguments and data version; shared across
processes; never a reason for an error page."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, update

from queries import cache, meta, overview
from queries.scope import CITY_SCOPE, Scope
from queries.tables import pool_meta


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
