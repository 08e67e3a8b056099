"""The cache: keyed by module, function, code, normalised arguments and data version; shared across processes."""

from __future__ import annotations

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
