"""Schema: Alembic migrations build exactly tables.py; an older pool upgrades without loss; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select

from queries import schema
from queries.engine import make_engine
from queries.errors import PoolMissing, SchemaOutdated
from queries.tables import county, metadata, pool_meta


def _diff(url: str) -> list[object]:
    eng = create_engine(url)
    with eng.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(ctx, metadata) if "alembic_version" not in str(d)]


def test_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    before, after = schema.upgrade(make_engine(url, create=True))
    assert before is None and after == schema.head_revision()
    assert _diff(url) == []


@pytest.mark.postgres
def test_migrations_match_on_postgres(pg_pool: tuple[str, object]) -> None:
    url, _ = pg_pool
    assert _diff(url) == []


def test_an_older_pool_upgrades_without_losing_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    eng = make_engine(url, create=True)
    schema.upgrade(eng, "0001")
    with eng.begin() as conn:
        conn.execute(insert(county).values(code=532503, name_zh="蒙自市", name_en="Mengzi"))
        conn.execute(insert(pool_meta).values(key="data_version", value="kept"))
    with pytest.raises(SchemaOutdated) as err:
        schema.require_current(eng)
    assert "db upgrade" in err.value.hint and "older" in err.value.en
    before, after = schema.upgrade(eng)
    assert (before, after) == ("0001", schema.head_revision())
    with eng.connect() as conn:
        assert conn.execute(select(county.c.name_zh)).scalar() == "蒙自市"
        assert conn.execute(select(pool_meta.c.value)).scalar() == "kept"
    assert "app_user" in inspect(eng).get_table_names()
    assert schema.require_current(eng).ok


def test_missing_pool_file_says_what_to_run(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'nope.sqlite'}")
    with pytest.raises(PoolMissing) as err:
        schema.require_current(eng)
    assert "seed" in err.value.hint
    assert not (tmp_path / "nope.sqlite").exists()  # looking never creates an empty pool file


def test_empty_database_says_what_to_run(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}", create=True)
    with pytest.raises(PoolMissing, match="empty"):
        schema.require_current(eng)


def test_a_newer_pool_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    eng = make_engine(url, create=True)
    schema.upgrade(eng)
    with eng.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaOutdated, match="newer"):
        schema.require_current(eng)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_older_synthetic_pool_gets_the_same_defect_truth_rollup_the_generator_writes(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """0019 rolls up the truth an older pool holds (seed_defect joined to its records) into exactly the
    rows the generator writes for a new pool (SQLite: a copy of the test pool; PostgreSQL: this worker's
    own test pool, left at head)."""
    from alembic import command
    from sqlalchemy import text

    from queries.tables import seed_defect_daily as d
    from tests.pools import sqlite_pool_at

    if backend == "sqlite":
        pool_url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    else:
        pool_url = str(request.getfixturevalue("pg_pool")[0])
    keys = [d.c.dept_id, d.c.township_code, d.c.classification, d.c.day, d.c.defect]
    eng = create_engine(pool_url)
    with eng.connect() as conn:
        built = conn.execute(select(*keys, d.c.n).order_by(*keys)).all()
    assert len(built) > 100 and sum(r.n for r in built) > 1000
    try:
        with eng.begin() as conn:
            command.downgrade(schema._config(conn), "0013")
            assert "seed_defect_daily" not in inspect(conn).get_table_names()
        schema.upgrade(eng)
        with eng.connect() as conn:
            assert conn.execute(select(*keys, d.c.n).order_by(*keys)).all() == built
    finally:
        with eng.begin() as conn:  # on the shared PostgreSQL pool, leave it at head in any case
            if schema.current_revision(conn) != schema.head_revision():
                conn.execute(text("DROP TABLE IF EXISTS seed_defect_daily"))
                command.upgrade(schema._config(conn), "head")


def test_the_lean_duration_rollup_keeps_every_sum_across_its_migration(tmp_path: Path) -> None:
    """0020 drops the problem type from case_rollup_dur: down and up again, every (township, department,
    month, stage, bucket) sum is what the generator wrote, and the closed loop reads the same durations."""
    from alembic import command

    from queries import engine as qe
    from queries import loop
    from queries.scope import CITY_SCOPE
    from queries.tables import case_rollup_dur as d
    from tests.pools import sqlite_pool_at

    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    eng = create_engine(url)
    keys = [d.c.township_code, d.c.dept_id, d.c.month, d.c.stage, d.c.bucket]
    with eng.connect() as conn:
        built = conn.execute(select(*keys, d.c.n).order_by(*keys)).all()
    qe.configure(url)
    ms = loop.months()
    durations = loop.stage_durations.uncached(scope=CITY_SCOPE, month_from=ms[0], month_to=ms[-1])  # type: ignore[attr-defined]
    with eng.begin() as conn:
        command.downgrade(schema._config(conn), "0019")
        assert "problem_id" in {c["name"] for c in inspect(conn).get_columns("case_rollup_dur")}
    schema.upgrade(eng)
    with eng.connect() as conn:
        assert conn.execute(select(*keys, d.c.n).order_by(*keys)).all() == built and len(built) > 100
    again = loop.stage_durations.uncached(scope=CITY_SCOPE, month_from=ms[0], month_to=ms[-1])  # type: ignore[attr-defined]
    assert again.equals(durations) and int(durations["n"].sum()) > 0
