"""The record browser's reads: the `record` table (millions of rows) a page at a time, filtered, sorted on
indexed columns only, scoped like every read, and masked by queries/masking.py before a value leaves.

Speed at full scale (7M rows, SQLite) comes from three rules: sorting only on indexed columns (id,
occurred_at, received_at), a cap on how deep the grid pages (BROWSE_CAP rows; OFFSET past that is slow
and no one reads that far: narrow the filter or export), and business-key lookups written as
`source_id IN (every source) AND record_key = ?` so the (source_id, record_key) index serves them
without a skip-scan the planner cannot know about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import aliased

from queries import audit, masking, meta
from queries import engine as eng
from queries.cache import cached
from queries.scope import Scope, Viewer
from queries.tables import CLASSIFICATIONS, record, record_type, rollup_daily
from queries.timebase import LATE_SECONDS, day_start, to_local

DEFECTS = ("duplicate", "missing", "late", "badcode")
SORTABLE = ("occurred_at", "received_at", "id")  # indexed columns only
BROWSE_CAP = 5_000  # rows the grid pages through, in the chosen order
EXPORT_CAP = 100_000  # rows one CSV export carries
PAGE_MAX = 200  # rows one request may ask for
GROUPS_MAX = 12  # duplicate groups shown side by side

COLUMNS = (
    "id",
    "occurred_at",
    "received_at",
    "module",
    "source",
    "dept",
    "township",
    "record_type",
    "classification",
    "record_key",
    "community_code",
    "grid_id",
    "qty",
    "amount",
    "area_code_raw",
    "defects",
)


@dataclass(frozen=True)
class RecordFilter:
    """What the browser is asked for, resolved to ids (None = any). Built by parse_filter()."""

    source_id: int | None = None
    module_id: int | None = None
    township_code: int | None = None
    type_id: int | None = None
    classification: int | None = None
    defect: str | None = None
    first_day: int | None = None  # local day numbers, inclusive
    last_day: int | None = None
    record_key: int | None = None

    def cache_key(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> RecordFilter:
        """From a client-side store: only known keys with integer (or defect) values survive."""
        d = data if isinstance(data, dict) else {}
        out: dict[str, Any] = {}
        for f in fields(cls):
            v = d.get(f.name)
            if f.name == "defect":
                out[f.name] = v if v in DEFECTS else None
            elif isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**62:
                out[f.name] = v
        return cls(**out)


@cached
def record_types() -> pl.DataFrame:
    return eng.read_frame(select(record_type).order_by(record_type.c.id), schema={"id": pl.Int16})


def _date(value: str) -> int | None:
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return (d - dt.date(1970, 1, 1)).days if len(value) == 10 else None


def parse_filter(query: Mapping[str, str], viewer: Viewer) -> tuple[RecordFilter, list[tuple[str, str]]]:
    """URL values (one string each) to a filter, and a message (zh, en) for every value that does not
    exist; a wrong value is left out of the filter, never guessed."""
    errs: list[tuple[str, str]] = []
    out: dict[str, Any] = {}

    def bad(key: str, value: str, zh: str, en: str) -> None:
        shown = repr(value[:40] + ("…" if len(value) > 40 else ""))
        errs.append((f"参数 {key}={shown} 无效: {zh}", f"Bad {key}={shown}: {en}"))

    def lookup(key: str, frame: pl.DataFrame, col: str, field: str, cast_int: bool = False) -> None:
        value = query.get(key)
        if value is None or value == "":
            return
        probe: object = value
        if cast_int:
            probe = int(value) if value.isdigit() and len(value) < 12 else None
        hit = frame.filter(pl.col(col) == probe) if probe is not None else frame.clear()
        if hit.height:
            out[field] = int(hit["id" if "id" in hit.columns else col][0])
        else:
            known = ", ".join(str(x) for x in frame[col].head(14).to_list())
            bad(key, value, f"没有这个编码 (可用: {known})", f"no such code (known: {known})")

    lookup("source", meta.sources(), "code", "source_id")
    lookup("module", meta.modules(), "code", "module_id")
    lookup("township", meta.townships(), "code", "township_code", cast_int=True)
    lookup("type", record_types(), "id", "type_id", cast_int=True)
    cls_ = query.get("cls")
    if cls_:
        if cls_ not in CLASSIFICATIONS:
            bad("cls", cls_, "应为 public、sensitive 或 core", "use public, sensitive or core")
        elif CLASSIFICATIONS.index(cls_) > viewer.scope().max_class:
            bad("cls", cls_, "您的角色看不到核心记录", "core records are not visible to your role")
        else:
            out["classification"] = CLASSIFICATIONS.index(cls_)
    defect = query.get("defect")
    if defect:
        if defect in DEFECTS:
            out["defect"] = defect
        else:
            bad("defect", defect, "应为 " + " | ".join(DEFECTS), "use " + " | ".join(DEFECTS))
    for key, field in (("from", "first_day"), ("to", "last_day")):
        value = query.get(key)
        if value:
            day = _date(value)
            if day is None:
                bad(key, value, "日期应为 YYYY-MM-DD", "a date is YYYY-MM-DD")
            else:
                out[field] = day
    if "first_day" in out and "last_day" in out and out["first_day"] > out["last_day"]:
        errs.append(("起始日期晚于结束日期, 已忽略日期范围", "from is after to; the date range is ignored"))
        del out["first_day"], out["last_day"]
    key_ = query.get("key")
    if key_:
        if key_.isdigit() and len(key_) <= 18:
            out["record_key"] = int(key_)
        else:
            bad("key", key_, "业务主键是最多18位的数字", "a record key is a number of up to 18 digits")
    return RecordFilter(**out), errs


def to_query(f: RecordFilter) -> dict[str, str]:
    """The filter back to URL values (the inverse of parse_filter for valid values)."""
    out: dict[str, str] = {}
    if f.source_id is not None:
        out["source"] = str(meta.sources().filter(pl.col("id") == f.source_id)["code"][0])
    if f.module_id is not None:
        out["module"] = str(meta.modules().filter(pl.col("id") == f.module_id)["code"][0])
    if f.township_code is not None:
        out["township"] = str(f.township_code)
    if f.type_id is not None:
        out["type"] = str(f.type_id)
    if f.classification is not None:
        out["cls"] = CLASSIFICATIONS[f.classification]
    if f.defect:
        out["defect"] = f.defect
    if f.first_day is not None:
        out["from"] = str(dt.date(1970, 1, 1) + dt.timedelta(days=f.first_day))
    if f.last_day is not None:
        out["to"] = str(dt.date(1970, 1, 1) + dt.timedelta(days=f.last_day))
    if f.record_key is not None:
        out["key"] = str(f.record_key)
    return out


def _all_source_ids() -> list[int]:
    return [int(x) for x in meta.sources()["id"].to_list()]


@cached
def dup_sources() -> list[int]:
    """Source systems holding any later copy (the rollup's n_dup > 0): only their rows need the probe."""
    r = rollup_daily
    got = eng.read_frame(
        select(r.c.source_id).distinct().where(r.c.n_dup > 0), schema={"source_id": pl.Int64}
    )
    return sorted(int(x) for x in got["source_id"])


def _unindexed(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """`col + 0` on SQLite: keeps its planner off the (source_id, record_key) index for a source filter,
    which would read every row of the source in key order and sort them (10 s at full scale) instead of
    walking the sort column's index and stopping after one page (0.1 s). PostgreSQL plans by cost."""
    return col + 0 if eng.engine().dialect.name == "sqlite" else col


def _later_copy() -> ColumnElement[bool]:
    """This row's business key was carried by another row received earlier: the rollup's n_dup rule
    (row_number over record_key by received_at, id > 1), so the grid finds exactly the pool page's count.
    Only rows of sources with any such copy are probed (one index lookup per source system each)."""
    r2 = aliased(record)
    r = record
    return _unindexed(r.c.source_id).in_(dup_sources()) & exists(
        select(1).where(
            r2.c.source_id.in_(_all_source_ids()),
            r2.c.record_key == r.c.record_key,
            or_(
                r2.c.received_at < r.c.received_at,
                and_(r2.c.received_at == r.c.received_at, r2.c.id < r.c.id),
            ),
        )
    )


def defect_conditions() -> dict[str, ColumnElement[bool]]:
    r = record.c
    return {
        "duplicate": _later_copy(),
        "missing": or_(r.community_code.is_(None), r.amount.is_(None)),
        "late": r.received_at - r.occurred_at > LATE_SECONDS,
        "badcode": r.area_code_raw != cast(r.township_code, String),
    }


def where(scope: Scope, cleared: bool, f: RecordFilter) -> ColumnElement[bool]:
    """The viewer's scope and the filter, as one condition on `record`. `cleared`: the viewer's role may
    reveal (masking.can_reveal), so a business-key lookup may match masked keys."""
    r = record.c
    cond: ColumnElement[bool] = scope.where(record)
    for col, value in (
        (_unindexed(r.source_id), f.source_id),
        (r.module_id, f.module_id),
        (r.township_code, f.township_code),
        (r.type_id, f.type_id),
        (r.classification, f.classification),
    ):
        if value is not None:
            cond = cond & (col == value)
    if f.first_day is not None:
        cond = cond & (r.occurred_at >= day_start(f.first_day))
    if f.last_day is not None:
        cond = cond & (r.occurred_at < day_start(f.last_day + 1))
    if f.record_key is not None:
        sources = [f.source_id] if f.source_id is not None else _all_source_ids()
        cond = cond & r.source_id.in_(sources) & (r.record_key == f.record_key)
        if not cleared:
            # a masked key must not be findable by typing it: that would reveal it one guess at a time
            cond = cond & (r.classification == masking.PUBLIC)
    if f.defect is not None:
        cond = cond & defect_conditions()[f.defect]
    return cond


def _sort_key(sort: tuple[str, str] | None) -> tuple[str, str]:
    return sort if sort and sort[0] in SORTABLE and sort[1] in ("asc", "desc") else ("occurred_at", "desc")


def _order(sort: tuple[str, str] | None) -> list[Any]:
    col, direction = _sort_key(sort)
    c = record.c[col]
    tie = record.c.id
    if direction == "asc":
        return [c.asc()] if col == "id" else [c.asc(), tie.asc()]
    return [c.desc()] if col == "id" else [c.desc(), tie.desc()]


def _after(sort: tuple[str, str] | None, last: dict[str, Any]) -> ColumnElement[bool]:
    """Rows after `last` in the sort order (keyset paging: the index walk starts where the block before
    ended, instead of skipping OFFSET rows again)."""
    col, direction = _sort_key(sort)
    c, tie = record.c[col], record.c.id
    value, rid = last[col], last["id"]
    if col == "id":
        return tie > rid if direction == "asc" else tie < rid
    # the plain range first: with it alone the planner walks the index from `value` on (an OR of the
    # two cases would be read from the top of the index on every block)
    if direction == "asc":
        return and_(c >= value, or_(c > value, tie > rid))
    return and_(c <= value, or_(c < value, tie < rid))


def _select(scope: Scope, cleared: bool, f: RecordFilter) -> Select[Any]:
    r = record.c
    d = defect_conditions()
    return select(
        r.id,
        r.module_id,
        r.source_id,
        r.dept_id,
        r.type_id,
        r.township_code,
        r.community_code,
        r.grid_id,
        r.occurred_at,
        r.received_at,
        r.classification,
        r.qty,
        r.amount,
        r.record_key,
        r.area_code_raw,
        *[d[k].label(f"is_{k}") for k in DEFECTS],
    ).where(where(scope, cleared, f))


RAW_SCHEMA = {
    "id": pl.Int64,
    "module_id": pl.Int16,
    "source_id": pl.Int16,
    "dept_id": pl.Int16,
    "type_id": pl.Int16,
    "township_code": pl.Int64,
    "community_code": pl.Int64,
    "grid_id": pl.Int64,
    "occurred_at": pl.Int64,
    "received_at": pl.Int64,
    "classification": pl.Int16,
    "qty": pl.Float64,
    "amount": pl.Float64,
    "record_key": pl.Int64,
    "area_code_raw": pl.String,
    **{f"is_{k}": pl.Boolean for k in DEFECTS},
}


def _shape(raw: pl.DataFrame, lang: str, *, revealed: bool = False) -> pl.DataFrame:
    """Raw rows to what a viewer sees: masked, labelled in `lang`, times local, defects as one text."""
    zh = lang == "zh"
    name = "name_zh" if zh else "name_en"
    src = meta.sources().select(
        pl.col("id").alias("source_id"),
        pl.col(name).alias("source"),
        pl.col("dept_zh" if zh else "dept_en").alias("dept"),
    )
    mods = meta.modules().select(pl.col("id").alias("module_id"), pl.col(name).alias("module"))
    towns = meta.townships().select(pl.col("code").alias("township_code"), pl.col(name).alias("township"))
    types = record_types().select(pl.col("id").alias("type_id"), pl.col(name).alias("record_type"))
    labels = {"duplicate": "重复", "missing": "缺失", "late": "迟到", "badcode": "编码"} if zh else None
    defect_text = pl.concat_str(
        [pl.when(pl.col(f"is_{k}")).then(pl.lit((labels or {}).get(k, k))) for k in DEFECTS],
        separator=" ",
        ignore_nulls=True,
    )
    local = "%Y-%m-%d %H:%M"
    cls_names = ["公开", "敏感", "核心"] if zh else list(CLASSIFICATIONS)
    masked = masking.mask(raw, revealed=revealed)
    return (
        masked.join(src, on="source_id", how="left")
        .join(mods, on="module_id", how="left")
        .join(towns, on="township_code", how="left")
        .join(types, on="type_id", how="left")
        .with_columns(
            *[
                (pl.from_epoch(c) + pl.duration(hours=8)).dt.strftime(local).alias(c)
                for c in ("occurred_at", "received_at")
            ],
            pl.col("classification")
            .cast(pl.Int64)
            .map_elements(lambda i: cls_names[i], return_dtype=pl.String)
            .alias("classification"),
            defect_text.alias("defects"),
        )
        .select(COLUMNS)
    )


def _read(
    scope: Scope, cleared: bool, f: RecordFilter, sort: tuple[str, str] | None, start: int, n: int
) -> pl.DataFrame:
    stmt = _select(scope, cleared, f).order_by(*_order(sort)).limit(n).offset(start)
    return eng.read_frame(stmt, schema=RAW_SCHEMA)


BLOCK = 100  # rows per cached block; the grid asks for blocks of this size


@cached
def block(
    *, scope: Scope, cleared: bool, f: RecordFilter, sort: tuple[str, str] | None, index: int
) -> pl.DataFrame:
    """Raw rows [index * BLOCK, (index + 1) * BLOCK) in the sort order. Each block starts after the last
    row of the block before (itself cached), so a viewer scrolling down costs one block's index walk per
    block: a rare filter at full scale no longer rescans everything above on every block (OFFSET did,
    past the 15 s limit 5,000 rows down)."""
    if index <= 0:
        return _read(scope, cleared, f, sort, 0, BLOCK)
    before = block(scope=scope, cleared=cleared, f=f, sort=sort, index=index - 1)
    if before.height < BLOCK:
        return before.clear()
    stmt = _select(scope, cleared, f).where(_after(sort, before.row(-1, named=True)))
    return eng.read_frame(stmt.order_by(*_order(sort)).limit(BLOCK), schema=RAW_SCHEMA)


@cached
def rows(
    *,
    scope: Scope,
    cleared: bool,
    f: RecordFilter,
    sort: tuple[str, str] | None,
    start: int,
    end: int,
    lang: str,
) -> pl.DataFrame:
    """Masked rows [start, end) in the given order (never more than PAGE_MAX, never past BROWSE_CAP)."""
    start = max(0, min(int(start), BROWSE_CAP))
    n = max(0, min(int(end) - start, PAGE_MAX, BROWSE_CAP - start))
    if n == 0:
        return _shape(pl.DataFrame(schema=RAW_SCHEMA), lang)
    first, last = start // BLOCK, (start + n - 1) // BLOCK
    raw = pl.concat(
        [block(scope=scope, cleared=cleared, f=f, sort=sort, index=i) for i in range(first, last + 1)]
    )
    return _shape(raw.slice(start - first * BLOCK, n), lang)


@cached
def count(*, scope: Scope, cleared: bool, f: RecordFilter, cap: int = BROWSE_CAP) -> int:
    """Rows matching, counted no further than cap + 1 (a count of millions would scan millions)."""
    inner = select(record.c.id).where(where(scope, cleared, f)).limit(cap + 1).subquery()
    with eng.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar() or 0)


def _masked_group_diffs(frame: pl.DataFrame) -> pl.DataFrame:
    """Per group, the columns whose shown value differs between its rows (a comma-joined list)."""
    cols = [c for c in COLUMNS if c not in ("id", "defects")]
    diffs = frame.group_by("group").agg(
        pl.concat_str(
            [pl.when(pl.col(c).n_unique() > 1).then(pl.lit(c)) for c in cols],
            separator=",",
            ignore_nulls=True,
        ).alias("differs")
    )
    return frame.join(diffs, on="group", how="left")


@cached
def duplicate_groups(
    *, scope: Scope, cleared: bool, f: RecordFilter, lang: str, limit: int = GROUPS_MAX
) -> pl.DataFrame:
    """The duplicates behind the filter side by side: the first `limit` later copies matching it (newest
    first), each with every row of the same business key the viewer may see, oldest received first.
    Columns: group (1..), the masked COLUMNS, and `differs` (the shown fields that differ in the group).
    Rows outside the viewer's scope or clearance are not in a group, even when they are the original."""
    dup = RecordFilter(**{**f.as_dict(), "defect": "duplicate"})
    keys = eng.read_frame(
        select(record.c.record_key)
        .where(where(scope, cleared, dup))
        .order_by(record.c.occurred_at.desc(), record.c.id.desc())
        .limit(max(1, min(int(limit), 50)) * 4),
        schema={"record_key": pl.Int64},
    )["record_key"].unique(maintain_order=True)[: max(1, min(int(limit), 50))]
    if keys.is_empty():
        return _shape(pl.DataFrame(schema=RAW_SCHEMA), lang).with_columns(
            pl.lit(0, pl.Int32).alias("group"), pl.lit("").alias("differs")
        )
    members = (
        _select(scope, cleared, RecordFilter())
        .where(record.c.source_id.in_(_all_source_ids()), record.c.record_key.in_(keys.to_list()))
        .order_by(record.c.received_at, record.c.id)
    )
    raw = eng.read_frame(members, schema=RAW_SCHEMA)
    order = pl.DataFrame(
        {"record_key": keys, "group": pl.int_range(1, keys.len() + 1, eager=True).cast(pl.Int32)}
    )
    raw = raw.join(order, on="record_key", how="left")
    shown = _shape(raw, lang).with_columns(raw["group"])
    return _masked_group_diffs(shown).sort("group", "received_at", "id")


def detail(*, viewer: Viewer, record_id: int, lang: str) -> dict[str, Any] | None:
    """One record as the grid shows it (masked), or None when it is not in the viewer's scope."""
    stmt = _select(viewer.scope(), masking.can_reveal(viewer.role), RecordFilter())
    raw = eng.read_frame(stmt.where(record.c.id == int(record_id)), schema=RAW_SCHEMA)
    if raw.is_empty():
        return None
    return _shape(raw, lang).row(0, named=True)


@dataclass(frozen=True)
class Revealed:
    row: dict[str, Any]
    entry: int  # the responsibility-log entry that records the reveal


def reveal(*, viewer: Viewer, record_id: int, lang: str) -> Revealed | None:
    """One record's sensitive fields unmasked for a cleared role, read in the same transaction as the
    responsibility-log entry that says so. None (and nothing logged) when the role has no clearance or
    the record is not in the viewer's scope."""
    if not masking.can_reveal(viewer.role):
        return None
    stmt = _select(viewer.scope(), True, RecordFilter()).where(record.c.id == int(record_id))
    with audit.write(audit.Actor.of(viewer)) as tx:
        result = tx.conn.execute(stmt)
        found = result.fetchall()
        if not found:
            # the door refuses a body that logs nothing: an attempt on a record out of scope is worth a line
            tx.log("record.reveal_refused", "record", record_id, detail={"reason": "not in scope"})
            return None
        raw = pl.DataFrame(found, schema=list(result.keys()), orient="row").cast(RAW_SCHEMA)  # type: ignore[arg-type]
        entry = tx.log(
            "record.reveal",
            "record",
            record_id,
            detail={"fields": list(masking.MASKED_FIELDS), "classification": int(raw["classification"][0])},
        )
    return Revealed(_shape(raw, lang, revealed=True).row(0, named=True), entry)


def export(
    *, viewer: Viewer, f: RecordFilter, sort: tuple[str, str] | None, lang: str, as_of: int
) -> tuple[pl.DataFrame, bool]:
    """The filter's rows in the grid's order and masking, up to EXPORT_CAP, logged as an export (filter and
    row count) on the responsibility log. Returns (frame, capped)."""
    raw = _read(viewer.scope(), masking.can_reveal(viewer.role), f, sort, 0, EXPORT_CAP + 1)
    capped = raw.height > EXPORT_CAP
    frame = _shape(raw.head(EXPORT_CAP), lang)
    audit.log_read(
        audit.Actor.of(viewer),
        "export.csv",
        "record",
        None,
        detail={
            "filter": to_query(f),
            "rows": frame.height,
            "capped": capped,
            "as_of": to_local(as_of).isoformat(),
        },
    )
    return frame, capped
