"""Reads of the quarantine: held rows per source system and reason, a page of held rows, and exports.

Who sees what (decided here, the one place):
- counts by source and reason: every role, for the source systems its scope holds (a department head
  those of their department; a township leader those that report in the township);
- the rows themselves (the raw row as sent may carry sensitive values: ID numbers, names, amounts):
  administrators for every source, a department head for their department's sources; leaders and
  operators see counts only (data minimisation: they act on numbers, not on rows);
- release or discard after correction: the same two (the rows' readers), see `may_release`.
Every export is logged on the responsibility chain before its rows are returned.
Not cached: rows are held and released without the data version moving.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, and_, func, select, true

from queries import audit, meta
from queries import engine as eng
from queries.activity import scope_sources
from queries.ingest.reasons import REASONS
from queries.scope import Viewer
from queries.tables import ingest_batch, quarantine, source_system

RAW_ROLES = ("admin", "department_head")
PAGE_MAX = 500  # rows per page, at most: the grid asks for one block at a time
EXPORT_MAX = 100_000  # rows per export: a bigger backlog is exported per reason

ROW_SCHEMA = {
    "id": pl.Int64,
    "batch_id": pl.Int32,
    "source_id": pl.Int16,
    "row_no": pl.Int32,
    "record_key": pl.String,
    "reasons": pl.String,
    "raw": pl.String,
    "at": pl.Int64,
    "channel": pl.String,
    "actor": pl.String,
}


def may_see_rows(viewer: Viewer) -> bool:
    return viewer.role in RAW_ROLES


def may_release(viewer: Viewer, source_id: int) -> bool:
    """Admins for any source; a department head for the sources of their own department."""
    if viewer.role == "admin":
        return True
    if viewer.role != "department_head" or viewer.department_id is None:
        return False
    return int(source_id) in _department_sources(viewer.department_id)


def _department_sources(department_id: int) -> set[int]:
    src = meta.sources()
    return set(src.filter(pl.col("department_id") == department_id)["id"].to_list())


def visible_sources(viewer: Viewer) -> list[int]:
    """Source systems whose quarantine counts the viewer sees (those its scope holds)."""
    return [int(s) for s in scope_sources(scope=viewer.scope())["source_id"]]


def _row_sources(viewer: Viewer) -> list[int]:
    """Source systems whose held rows the viewer may read; empty for roles that see counts only."""
    if viewer.role == "admin":
        return [int(s) for s in meta.sources()["id"]]
    if viewer.role == "department_head" and viewer.department_id is not None:
        return sorted(_department_sources(viewer.department_id))
    return []


def reason_filter(reason: str | None) -> ColumnElement[bool]:
    """Rows carrying one reason code (reasons is a JSON list of codes); an unknown code matches nothing."""
    if not reason:
        return true()
    if reason not in REASONS:
        raise ValueError(f"未知的隔离原因 {reason!r} / unknown quarantine reason {reason!r}")
    return quarantine.c.reasons.contains(json.dumps(reason))


def counts(*, viewer: Viewer) -> pl.DataFrame:
    """Held rows per visible source system and reason: source_id, code, name_zh, name_en, reason, n
    (a row with two reasons counts under both), most first; plus `rows`, the held rows per source."""
    q = quarantine.c
    sources = visible_sources(viewer)
    got = eng.read_frame(
        select(q.source_id, q.reasons, func.count().label("n"))
        .where(q.status == "held", q.source_id.in_(sources))
        .group_by(q.source_id, q.reasons),
        schema={"source_id": pl.Int16, "reasons": pl.String, "n": pl.Int64},
    )
    empty = {"source_id": pl.Int16, "reason": pl.String, "n": pl.Int64, "rows": pl.Int64}
    if got.is_empty():
        frame = pl.DataFrame(schema=empty)
    else:
        rows = got.group_by("source_id").agg(pl.col("n").sum().alias("rows"))
        frame = (
            got.with_columns(pl.col("reasons").str.json_decode(pl.List(pl.String)).alias("reason"))
            .explode("reason")
            .group_by("source_id", "reason")
            .agg(pl.col("n").sum())
            .join(rows, on="source_id")
        )
    labels = meta.source_labels().select("source_id", "code", "name_zh", "name_en", "dept_zh", "dept_en")
    return labels.join(frame, on="source_id", how="inner").sort(
        ["rows", "source_id", "n", "reason"], descending=[True, False, True, False]
    )


def _rows_query(viewer: Viewer, source_id: int | None, reason: str | None) -> Select[Any]:
    q, b = quarantine.c, ingest_batch.c
    allowed = _row_sources(viewer)
    if not allowed:
        raise PermissionError(
            "只有管理员和本部门负责人可以查看被隔离的原始行 / only administrators and the "
            "owning department's head may read held rows"
        )
    cond = and_(q.status == "held", q.source_id.in_(allowed), reason_filter(reason))
    if source_id is not None:
        cond = cond & (q.source_id == int(source_id))
    return (
        select(
            q.id, q.batch_id, q.source_id, q.row_no, q.record_key, q.reasons, q.raw, q.at, b.channel, b.actor
        )
        .join_from(quarantine, ingest_batch, b.id == q.batch_id)
        .where(cond)
    )


def held_rows(
    *,
    viewer: Viewer,
    source_id: int | None = None,
    reason: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> pl.DataFrame:
    """One page of held rows the viewer may read, newest first (ROW_SCHEMA). PermissionError for roles
    that see counts only; ValueError for an unknown reason code."""
    stmt = _rows_query(viewer, source_id, reason)
    stmt = (
        stmt.order_by(quarantine.c.id.desc())
        .limit(max(1, min(int(limit), PAGE_MAX)))
        .offset(max(0, int(offset)))
    )
    return eng.read_frame(stmt, schema=ROW_SCHEMA)


def held_total(*, viewer: Viewer, source_id: int | None = None, reason: str | None = None) -> int:
    """How many held rows held_rows() pages through."""
    stmt = _rows_query(viewer, source_id, reason).with_only_columns(func.count())
    with eng.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def held_row(*, viewer: Viewer, quarantine_id: int) -> dict[str, Any] | None:
    """One held row the viewer may read (its raw row decoded), or None."""
    stmt = _rows_query(viewer, None, None).where(quarantine.c.id == int(quarantine_id))
    frame = eng.read_frame(stmt, schema=ROW_SCHEMA)
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    row["raw"] = json.loads(row["raw"])
    row["reasons"] = json.loads(row["reasons"])
    return row


def export(*, viewer: Viewer, source_id: int | None = None, reason: str | None = None) -> pl.DataFrame:
    """Every held row the viewer may read (at most EXPORT_MAX), oldest first, for a CSV. The export is
    logged on the responsibility chain (who, which source, which reason, how many) before it is returned."""
    stmt = _rows_query(viewer, source_id, reason).order_by(quarantine.c.id).limit(EXPORT_MAX)
    frame = eng.read_frame(stmt, schema=ROW_SCHEMA)
    code = None
    if source_id is not None:
        with eng.connect() as conn:
            code = conn.execute(
                select(source_system.c.code).where(source_system.c.id == int(source_id))
            ).scalar()
    audit.log_read(
        audit.Actor.of(viewer),
        "export.quarantine",
        "quarantine",
        code,
        detail={"source": code, "reason": reason, "rows": frame.height},
    )
    return frame


def reason_words(codes: list[str]) -> list[tuple[str, str]]:
    """(zh, en) of each reason code; a code this build does not know is shown as itself."""
    return [(REASONS[c].zh, REASONS[c].en) if c in REASONS else (c, c) for c in codes]
