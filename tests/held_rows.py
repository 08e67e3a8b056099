"""Rows held in the quarantine as the ingest writer holds them, for the quarantine and owner tests: a
helper and two fixtures (a pool with HELD in its quarantine, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, insert, select

from queries import audit, cache, meta
from queries import engine as eng
from queries.tables import ingest_batch
from queries.tables import quarantine as qtable
from tests.conftest import pg_writes_undone

ACTOR = audit.Actor(None, "cli:tester", "system")

# (source code, reasons, raw row): civil affairs holds community_governance and elderly_care
HELD: list[tuple[str, list[str], dict[str, Any]]] = [
    ("community_governance", ["area_code_unknown"], {"record_key": "101", "area_code": "月球"}),
    ("community_governance", ["area_code_unknown", "qty_negative"], {"record_key": "102", "qty": -3}),
    (
        "community_governance",
        ["qty_invalid"],
        {"record_key": "103", "qty": "many", "id_no": "532503199001011234"},
    ),
    ("elderly_care", ["occurred_in_future"], {"record_key": "201", "occurred_at": "2099-01-01"}),
    ("population_system", ["record_key_missing"], {"qty": 1}),
    ("population_system", ["area_code_county_only"], {"record_key": "301", "area_code": "532503"}),
]


def hold(rows: list[tuple[str, list[str], dict[str, Any]]], *, channel: str = "api") -> None:
    """Rows held as the ingest writer holds them: one batch per source, its rows in the quarantine."""
    src = {r["code"]: int(r["id"]) for r in meta.sources().iter_rows(named=True)}
    now = int(time.time())
    with audit.write(ACTOR) as tx:
        # quarantine.id is a BIGINT key, which SQLite does not number by itself: the writer assigns it
        next_id = int(tx.conn.execute(select(func.coalesce(func.max(qtable.c.id), 0))).scalar_one()) + 1
        for code in dict.fromkeys(c for c, _, _ in rows):
            mine = [(reasons, raw) for c, reasons, raw in rows if c == code]
            batch = tx.conn.execute(
                insert(ingest_batch).values(
                    source_id=src[code],
                    channel=channel,
                    actor="token:test",
                    received_at=now,
                    payload_digest="0" * 64,
                    n_rows=len(mine) + 10,
                    n_accepted=10,
                    n_duplicate=0,
                    n_quarantined=len(mine),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            tx.conn.execute(
                insert(qtable),
                [
                    {
                        "id": next_id + i,
                        "batch_id": batch,
                        "source_id": src[code],
                        "row_no": i,
                        "record_key": raw.get("record_key"),
                        "reasons": json.dumps(reasons),
                        "raw": json.dumps(raw, ensure_ascii=False),
                        "at": now,
                    }
                    for i, (reasons, raw) in enumerate(mine)
                ],
            )
            next_id += len(mine)
            tx.log("ingest.batch", "ingest_batch", batch, detail={"source": code, "rows": len(mine)})


def empty_quarantine(url: str) -> None:
    """A private copy of the session's pool starts without held rows (a browser test may have held some
    in the session's pool); test cleanup of a copy, not an app path."""
    raw = create_engine(url)
    with raw.begin() as c:
        c.execute(delete(qtable))
        c.execute(delete(ingest_batch))
    raw.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def held_pool(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test pool with HELD in its quarantine: a copy of the SQLite file, or the PostgreSQL pool with
    the rows removed afterwards."""
    if request.param == "sqlite":
        src, _ = request.getfixturevalue("sqlite_pool")
        path = tmp_path_factory.mktemp("held") / "pool.sqlite"
        shutil.copy(str(src).split("///", 1)[1], path)
        url = f"sqlite:///{path}"
        eng.configure(url)
        empty_quarantine(url)
        hold(HELD)
        yield url
        return
    with pg_writes_undone(str(request.getfixturevalue("pg_pool")[0])) as url:
        hold(HELD)
        yield url


@pytest.fixture
def held(held_pool: str, tmp_path: Path) -> Iterator[str]:
    eng.configure(held_pool)
    cache.configure(tmp_path / "cache", version_ttl=0)
    yield held_pool
    cache.configure(None)
