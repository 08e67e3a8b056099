"""Real pools for the tests: one SQLite file and one PostgreSQL database per session, made by the same
generator the product uses (test scale, fixed end time, so every value is reproducible). The build itself
is done once and kept (tests/pools.py): sessions, xdist workers and `writable_pool` copy it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select, text

from queries import cache, engine
from queries.generate.build import BuildReport
from tests.pools import CST, END, SEED, pg_pool_for, sqlite_pool_at

__all__ = ["CI", "CST", "END", "PG_URL", "SEED", "absent", "pg_reachable", "pg_writes_undone"]

CI = os.environ.get("CI", "").lower() == "true"

# every read declared with domains (`@cached(domains=...)`, `view.reads`) is checked in every test that
# runs it: a nested read or an SQL statement outside its domains fails the test (cache.DomainLeak)
cache.strict(True)
cache.watch(Engine)
PG_URL = os.environ.get("CC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def absent(reason: str) -> None:
    """Skip where a service or tool is absent, but fail under CI=true: CI must run everything."""
    if CI:
        pytest.fail(f"{reason} (CI=true: nothing may skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, BuildReport]:
    report = sqlite_pool_at(tmp_path_factory.mktemp("pool") / "pool.sqlite")
    return report.url, report


def pg_reachable(url: str = PG_URL) -> bool:
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_pool() -> tuple[str, BuildReport]:
    """The PostgreSQL test pool: the database of CC_TEST_PG_URL, or `<db>_gwN` for each xdist worker."""
    if not pg_reachable():
        absent(f"PostgreSQL not reachable at {PG_URL}")
    return pg_pool_for(PG_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pool_url(request: pytest.FixtureRequest) -> str:
    url, _ = request.getfixturevalue({"sqlite": "sqlite_pool", "postgres": "pg_pool"}[request.param])
    return str(url)


@pytest.fixture
def pool(pool_url: str, tmp_path: Path) -> Iterator[str]:
    """Point the query layer at a real pool, with a fresh diskcache."""
    engine.configure(pool_url)
    cache.configure(tmp_path / "cache", version_ttl=0)
    yield pool_url
    cache.configure(None)


@pytest.fixture
def sqlite_configured(sqlite_pool: tuple[str, BuildReport], tmp_path: Path) -> Iterator[str]:
    url, _ = sqlite_pool
    engine.configure(url)
    cache.configure(tmp_path / "cache", version_ttl=0)
    yield url
    cache.configure(None)


@contextmanager
def pg_writes_undone(url: str) -> Iterator[str]:
    """The PostgreSQL test pool for a test that writes user data, with every row it added to a user-data
    table removed afterwards (ids above today's highest: of the log that is its tail, so the chain
    stays whole for the tests after it)."""
    from queries.tables import USER_DATA_TABLES

    if not pg_reachable(url):
        absent("PostgreSQL not reachable")
    raw = create_engine(url)
    keys = {t: next(iter(t.primary_key.columns)) for t in USER_DATA_TABLES}
    with raw.connect() as c:
        start = {
            t: int(c.execute(select(func.coalesce(func.max(k), 0))).scalar_one()) for t, k in keys.items()
        }
    engine.configure(url)
    try:
        yield url
    finally:
        with raw.begin() as c:
            for t in reversed(USER_DATA_TABLES):
                c.execute(delete(t).where(keys[t] > start[t]))
        raw.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def writable_pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A pool a test may write and tamper with, the query layer pointed at it: a fresh SQLite file (with
    the demo accounts), or the PostgreSQL test pool with the test's writes undone afterwards."""
    if request.param == "sqlite":
        url = sqlite_pool_at(tmp_path / "pool.sqlite").url
        engine.configure(url)
        yield url
        return
    with pg_writes_undone(str(request.getfixturevalue("pg_pool")[0])) as url:
        yield url
