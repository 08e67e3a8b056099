"""The reference lists a batch is checked against, read from the pool (cached per data version)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from queries import cache
from queries import engine as eng
from queries.cache import cached
from queries.ingest.areacode import AreaReference
from queries.tables import community, grid_cell, module, record_type, source_system, township


@dataclass(frozen=True)
class SourceInfo:
    id: int
    code: str
    module_id: int
    dept_id: int


@dataclass
class Reference:
    area: AreaReference
    sources: dict[str, SourceInfo]  # by code
    modules: dict[str, int]  # module code -> id
    record_types: dict[int, tuple[int, str, str]]  # id -> (module id, name_zh, name_en)
    grids: dict[int, int]  # grid id -> community code

    def source(self, code: str) -> SourceInfo | None:
        return self.sources.get(code)


@cached
def reference_frames() -> dict[str, pl.DataFrame]:
    """The small tables validation needs, one frame each (a few hundred rows in all)."""
    i64 = pl.Int64
    return {
        "township": eng.read_frame(select(township.c.code, township.c.name_zh), schema={"code": i64}),
        "community": eng.read_frame(
            select(community.c.code, community.c.name_zh, community.c.township_code),
            schema={"code": i64, "township_code": i64},
        ),
        "module": eng.read_frame(select(module.c.id, module.c.code), schema={"id": i64}),
        "source": eng.read_frame(
            select(
                source_system.c.id,
                source_system.c.code,
                source_system.c.module_id,
                source_system.c.department_id,
            ),
            schema={"id": i64, "module_id": i64, "department_id": i64},
        ),
        "record_type": eng.read_frame(
            select(record_type.c.id, record_type.c.module_id, record_type.c.name_zh, record_type.c.name_en),
            schema={"id": i64, "module_id": i64},
        ),
        "grid": eng.read_frame(
            select(grid_cell.c.id, grid_cell.c.community_code), schema={"id": i64, "community_code": i64}
        ),
    }


def reference_from_frames(frames: dict[str, pl.DataFrame]) -> Reference:
    return Reference(
        area=AreaReference.from_frames(frames["township"], frames["community"]),
        sources={
            str(code): SourceInfo(int(i), str(code), int(m), int(d))
            for i, code, m, d in frames["source"]
            .select("id", "code", "module_id", "department_id")
            .iter_rows()
        },
        modules={str(code): int(i) for i, code in frames["module"].select("id", "code").iter_rows()},
        record_types={
            int(i): (int(m), str(zh), str(en))
            for i, m, zh, en in frames["record_type"]
            .select("id", "module_id", "name_zh", "name_en")
            .iter_rows()
        },
        grids={int(i): int(c) for i, c in frames["grid"].select("id", "community_code").iter_rows()},
    )


_memo: tuple[tuple[str, str], Reference] | None = None


def load_reference() -> Reference:
    """The pool's reference lists, ready for validate_batch, kept in this process per pool and data
    version: a batch after the first costs no cache read, unpickling or index build (tens of ms under
    load, once per API batch and per import chunk; the CLI import runs without a diskcache at all).
    Callers only read the Reference, never change it."""
    global _memo
    key = (eng.configured_url(), cache.data_version())
    memo = _memo
    if memo is not None and memo[0] == key:
        return memo[1]
    ref = reference_from_frames(reference_frames())
    _memo = (key, ref)
    return ref
