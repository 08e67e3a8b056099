"""Row validation for one batch from one source system: normalised rows for the `record` table and an
outcome per input row. Row-level problems never raise; only a frame missing required columns does.

Input columns (any dtype; strings are stripped): required `module` (code or id), `record_type` (id or
its zh/en name), `occurred_at`, `classification`, `qty`, `record_key`, `area_code`; optional `source`
(when given, it must be this batch's source: a token is scoped to one source), `received_at` (empty =
`now`), `amount` (empty = the "missing field" defect, accepted), `community_code`, `grid_id`.

Times are epoch seconds or ISO 8601; an ISO time without an offset is Asia/Shanghai local time.

Duplicates are found only WITHIN the batch here (same business key twice: the later row is
`duplicate_in_batch`). Duplicates against the pool, and replays of a whole batch, are the writer's
job: it must look the accepted keys up in the pool inside its own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from queries.ingest.areacode import normalise_area_codes
from queries.ingest.reasons import reason_table
from queries.ingest.reference import Reference
from queries.tables import record
from queries.timebase import LATE_SECONDS, TZ

REQUIRED = ("module", "record_type", "occurred_at", "classification", "qty", "record_key", "area_code")
OPTIONAL = ("source", "received_at", "amount", "community_code", "grid_id")
DEFAULT_SKEW_SECONDS = 300

# The record table's columns (without `id`, which the writer assigns), in table order.
RECORD_COLUMNS = tuple(c.name for c in record.columns if c.name != "id")

_CLASSES = {
    "public": 0,
    "sensitive": 1,
    "core": 2,
    "0": 0,
    "1": 1,
    "2": 2,
    "公开": 0,
    "敏感": 1,
    "核心": 2,
}

_ISO = (
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?\s*"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^\+?\d+(\.0*)?$"


class MalformedBatch(ValueError):
    """The frame lacks required columns: nothing in it can be validated."""

    def __init__(self, missing: list[str], found: list[str]) -> None:
        zh = f"批次缺少必需的列: {', '.join(missing)}; 收到的列: {', '.join(found) or '(无)'}"
        en = f"The batch lacks required columns: {', '.join(missing)}; columns found: {', '.join(found) or '(none)'}"
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.missing = missing
        self.found = found


@dataclass(frozen=True)
class BatchResult:
    """`records`: accepted rows in input order, RECORD_COLUMNS plus `row` (the input row index, for the
    writer's per-row answer; drop it before inserting). `outcomes`: one row per input row: `row`,
    `record_key` (null when unreadable), `outcome` (accepted | quarantined), `reasons` (every reason
    code, empty when accepted), `defects` (the quality defects an accepted row carries, counted as the
    rollups count them: missing, badcode, late)."""

    records: pl.DataFrame
    outcomes: pl.DataFrame

    def reason_counts(self) -> pl.DataFrame:
        """reason, n, zh, en: what an import summary and the API's answer print."""
        return reason_table(self.outcomes)


def _blank(series: pl.Series) -> pl.Series:
    """True where a cell is null or only whitespace."""
    text = series.cast(pl.String, strict=False).str.strip_chars()
    return text.is_null() | (text == "")


def _timestamps(series: pl.Series) -> pl.Series:
    """Epoch seconds (Int64) from epoch numbers, ISO 8601 text or datetimes; null where unreadable."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        epoch = series.dt.epoch("s")
        # a naive datetime (from a spreadsheet or parquet without zone) is local Mengzi time
        return epoch - TZ if dtype.time_zone is None else epoch
    if dtype.is_integer():
        return series.cast(pl.Int64)
    if dtype.is_float():
        return pl.select(
            pl.when(series.is_finite()).then(series.floor()).cast(pl.Int64, strict=False)
        ).to_series()
    frame = pl.DataFrame({"t": series.cast(pl.String, strict=False).str.strip_chars()})
    parts = pl.col("t").str.extract_groups(_ISO)
    out = frame.with_columns(
        numeric=pl.when(pl.col("t").str.contains(_NUMBER))
        .then(pl.col("t").cast(pl.Float64, strict=False))
        .otherwise(None),
        y=parts.struct.field("1"),
        mo=parts.struct.field("2"),
        d=parts.struct.field("3"),
        h=parts.struct.field("4"),
        mi=parts.struct.field("5"),
        s=parts.struct.field("6").fill_null("00"),
        off=parts.struct.field("7"),
    ).with_columns(
        wall=pl.concat_str(
            [
                *(pl.col("y"), pl.lit("-"), pl.col("mo"), pl.lit("-"), pl.col("d")),
                *(pl.lit(" "), pl.col("h"), pl.lit(":"), pl.col("mi"), pl.lit(":"), pl.col("s")),
            ]
        )
        .str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
        .dt.epoch("s"),
        offset=pl.when(pl.col("off").is_null())
        .then(pl.lit(TZ))
        .when(pl.col("off").str.to_uppercase() == "Z")
        .then(pl.lit(0))
        .otherwise(
            pl.when(pl.col("off").str.starts_with("-")).then(-1).otherwise(1)
            * (
                pl.col("off").str.slice(1, 2).cast(pl.Int64) * 3600
                + pl.col("off").str.replace(":", "").str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
                * 60
            )
        ),
    )
    return out.select(
        pl.when(pl.col("numeric").is_not_null() & pl.col("numeric").is_finite())
        .then(pl.col("numeric").floor().cast(pl.Int64, strict=False))
        .otherwise(pl.col("wall") - pl.col("offset"))
    ).to_series()


def _numbers(series: pl.Series) -> pl.Series:
    """Float64 from any dtype; null where empty or not a finite number."""
    if series.dtype.is_numeric():
        f = series.cast(pl.Float64)
    else:
        t = series.cast(pl.String, strict=False).str.strip_chars()
        f = pl.select(pl.when(t.str.contains(_NUMBER)).then(t.cast(pl.Float64, strict=False))).to_series()
    return pl.select(pl.when(f.is_finite()).then(f)).to_series()


def _integers(series: pl.Series) -> pl.Series:
    """Int64 from integer-like values ("12", 12, 12.0, "12.0"); null otherwise (or out of range)."""
    if series.dtype.is_integer():
        return series.cast(pl.Int64, strict=False)
    if series.dtype.is_float():
        return pl.select(
            pl.when(series == series.floor()).then(series).cast(pl.Int64, strict=False)
        ).to_series()
    t = series.cast(pl.String, strict=False).str.strip_chars()
    digits = t.str.replace(r"\.0*$", "").str.strip_prefix("+")
    return pl.select(pl.when(t.str.contains(_INTEGER)).then(digits.cast(pl.Int64, strict=False))).to_series()


def _lookup(series: pl.Series, mapping: dict[str, int]) -> pl.Series:
    """Map stripped text through `mapping`; null where absent."""
    text = series.cast(pl.String, strict=False).str.strip_chars()
    return text.replace_strict(mapping, default=None, return_dtype=pl.Int64)


def frame_from_rows(rows: Sequence[Mapping[str, object]]) -> pl.DataFrame:
    """A batch as it arrives in JSON or NDJSON (a list of objects) as an all-text frame for validate_batch.

    Every value becomes text (nested values as JSON, so they fail their check instead of the frame's
    construction), a key absent from a row is empty, and the columns are every key seen, in order:
    whatever one client sends, the frame builds, and each row then gets its own answer.
    """
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))

    def text(v: object) -> str | None:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, (dict, list, tuple, bool)):
            return json.dumps(v, ensure_ascii=False)
        return str(v)

    return pl.DataFrame(
        {c: [text(row.get(c)) for row in rows] for c in columns}, schema={c: pl.String for c in columns}
    )


def _bits(conditions: list[pl.Expr]) -> pl.Expr:
    """Bit i set where conditions[i] holds (null counts as not holding)."""
    return pl.sum_horizontal(
        [
            pl.when(cond.fill_null(False)).then(pl.lit(1 << i, pl.Int64)).otherwise(0)
            for i, cond in enumerate(conditions)
        ]
    )


def _code_lists(bits: pl.Series, codes: list[str]) -> pl.Series:
    """The codes whose bits are set, as a list per row, in `codes` order."""
    distinct = bits.unique()
    table = pl.DataFrame(
        {
            "bits": distinct,
            "codes": [[code for i, code in enumerate(codes) if b >> i & 1] for b in distinct.to_list()],
        },
        schema={"bits": bits.dtype, "codes": pl.List(pl.String)},
    )
    joined = bits.to_frame("bits").join(table, on="bits", how="left", maintain_order="left")
    return joined["codes"]


def validate_batch(
    frame: pl.DataFrame,
    *,
    source_code: str,
    ref: Reference,
    now: int | float | dt.datetime,
    pool_first_ts: int,
    skew_seconds: int = DEFAULT_SKEW_SECONDS,
) -> BatchResult:
    """Validate one batch sent by `source_code` (see the module docstring for columns and rules)."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise MalformedBatch(missing, list(frame.columns))
    now_ts = int(now.timestamp()) if isinstance(now, dt.datetime) else int(now)
    n = frame.height
    src = ref.source(source_code)
    src_module = src.module_id if src else -1

    def column(name: str) -> pl.Series:
        return frame[name] if name in frame.columns else pl.Series(name, [None] * n, dtype=pl.String)

    module_text = column("module").cast(pl.String, strict=False).str.strip_chars()
    module_id = _lookup(module_text, ref.modules).fill_null(_integers(module_text))
    source_named = column("source").cast(pl.String, strict=False).str.strip_chars()
    source_named = source_named.set(_blank(source_named), None)
    src_aliases = {source_code, str(src.id)} if src else {source_code}

    type_text = column("record_type").cast(pl.String, strict=False).str.strip_chars()
    names_here: dict[str, int] = {}
    names_elsewhere: dict[str, int] = {}
    for tid, (mid, zh, en) in ref.record_types.items():
        for name in (zh, en, str(tid)):
            (names_here if mid == src_module else names_elsewhere).setdefault(name, tid)
    type_id = _lookup(type_text, names_here)
    type_elsewhere = _lookup(type_text, names_elsewhere)

    occurred = _timestamps(column("occurred_at"))
    received_given = column("received_at")
    received_raw = _timestamps(received_given)
    received_empty = _blank(received_given)
    received = pl.select(pl.when(received_empty).then(pl.lit(now_ts)).otherwise(received_raw)).to_series()

    klass = column("classification").cast(pl.String, strict=False).str.strip_chars().str.to_lowercase()
    klass = klass.str.replace(r"\.0*$", "")
    classification = _lookup(klass, _CLASSES)

    qty = _numbers(column("qty"))
    amount = _numbers(column("amount"))
    amount_blank = _blank(column("amount"))
    key = _integers(column("record_key"))
    key_blank = _blank(column("record_key"))

    raw_area = column("area_code").cast(pl.String, strict=False)
    area = normalise_area_codes(raw_area, ref.area)
    comm_given = _integers(column("community_code"))
    comm_given_blank = _blank(column("community_code"))
    grid = _integers(column("grid_id"))
    grid_blank = _blank(column("grid_id"))
    comm_town = {c: t for c, (_, t) in ref.area.communities.items()}

    w = pl.DataFrame(
        {
            "row": pl.int_range(0, n, eager=True, dtype=pl.Int64),
            "module_id": module_id,
            "source_named": source_named,
            "type_id": type_id,
            "type_elsewhere": type_elsewhere,
            "occurred_at": occurred,
            "received_at": received,
            "received_bad": ~received_empty & received_raw.is_null(),
            "classification": classification,
            "qty": qty,
            "amount": amount,
            "amount_blank": amount_blank,
            "record_key": key,
            "key_blank": key_blank,
            "area_code_raw": raw_area,
            "comm_given": comm_given,
            "comm_given_blank": comm_given_blank,
            "grid_id": grid,
            "grid_blank": grid_blank,
        }
    ).with_columns(area.rename({"community_code": "area_community"}))
    c = pl.col
    w = w.with_columns(
        comm_known=c("comm_given").replace_strict(comm_town, default=None, return_dtype=pl.Int64),
        grid_comm=c("grid_id").replace_strict(ref.grids, default=None, return_dtype=pl.Int64),
        community_code=c("comm_given").fill_null(c("area_community")),
        first_key=c("record_key").is_null() | c("record_key").is_first_distinct(),
    )
    checks: list[tuple[str, pl.Expr]] = [
        ("source_unknown", pl.lit(src is None)),
        ("source_mismatch", c("source_named").is_not_null() & ~c("source_named").is_in(list(src_aliases))),
        ("module_unknown", c("module_id").is_null() | ~c("module_id").is_in(list(ref.modules.values()))),
        (
            "module_mismatch",
            c("module_id").is_in(list(ref.modules.values())) & (c("module_id") != src_module),
        ),
        ("record_type_unknown", c("type_id").is_null() & c("type_elsewhere").is_null()),
        ("record_type_mismatch", c("type_id").is_null() & c("type_elsewhere").is_not_null()),
        ("occurred_at_invalid", c("occurred_at").is_null()),
        ("received_at_invalid", c("received_bad")),
        ("occurred_in_future", c("occurred_at") > now_ts + skew_seconds),
        ("received_in_future", c("received_at") > now_ts + skew_seconds),
        ("occurred_before_pool", c("occurred_at") < pool_first_ts),
        ("received_before_occurred", c("received_at") < c("occurred_at")),
        ("classification_invalid", c("classification").is_null()),
        ("qty_invalid", c("qty").is_null()),
        ("qty_negative", c("qty") < 0),
        ("amount_invalid", c("amount").is_null() & ~c("amount_blank")),
        ("record_key_missing", c("key_blank")),
        ("record_key_invalid", ~c("key_blank") & (c("record_key").is_null() | (c("record_key") < 0))),
        ("area_code_missing", c("area_reason") == "area_code_missing"),
        ("area_code_county_only", c("area_reason") == "area_code_county_only"),
        ("area_code_unknown", c("area_reason") == "area_code_unknown"),
        ("area_code_ambiguous", c("area_reason") == "area_code_ambiguous"),
        ("area_code_too_long", c("area_reason") == "area_code_too_long"),
        ("community_unknown", ~c("comm_given_blank") & c("comm_known").is_null()),
        (
            "community_mismatch",
            c("comm_known").is_not_null()
            & c("township_code").is_not_null()
            # in another township, or the area code named a community too and it is another one
            & (
                (c("comm_known") != c("township_code"))
                | (c("area_community") != c("comm_given")).fill_null(False)
            ),
        ),
        ("grid_unknown", ~c("grid_blank") & c("grid_comm").is_null()),
        (
            "grid_mismatch",
            c("grid_comm").is_not_null()
            & (c("community_code").is_null() | (c("grid_comm") != c("community_code"))),
        ),
        ("duplicate_in_batch", ~c("first_key")),
    ]
    # Flags are packed into one integer per row and turned into lists once per distinct value: a list
    # column built row by row from 28 conditions costs seconds on a million rows, this a tenth of one.
    defects = [
        ("missing", c("community_code").is_null() | c("amount").is_null()),
        ("badcode", c("area_code_raw") != c("township_code").cast(pl.String)),
        ("late", (c("received_at") - c("occurred_at")) > LATE_SECONDS),
    ]
    w = w.with_columns(reason_bits=_bits([cond for _, cond in checks]))
    w = w.with_columns(
        outcome=pl.when(c("reason_bits") == 0).then(pl.lit("accepted")).otherwise(pl.lit("quarantined")),
        defect_bits=pl.when(c("reason_bits") == 0).then(_bits([cond for _, cond in defects])).otherwise(0),
    )
    w = w.with_columns(
        reasons=_code_lists(w["reason_bits"], [code for code, _ in checks]),
        defects=_code_lists(w["defect_bits"], [code for code, _ in defects]),
    )
    outcomes = w.select("row", "record_key", "outcome", "reasons", "defects")
    records = (
        w.filter(c("outcome") == "accepted")
        .with_columns(
            source_id=pl.lit(src.id if src else 0, pl.Int64),
            dept_id=pl.lit(src.dept_id if src else 0, pl.Int64),
            qty=c("qty"),
        )
        .select(
            "row",
            *(
                c(name).cast(
                    pl.Float64
                    if name in ("qty", "amount")
                    else pl.String
                    if name == "area_code_raw"
                    else pl.Int64
                )
                for name in RECORD_COLUMNS
            ),
        )
    )
    return BatchResult(records=records, outcomes=outcomes)


def batch_from_records(rows: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Pool rows written back the way a sub-platform sends them (codes, not ids, where it has them):
    for tests and benchmarks that feed the pool's own records through validation."""
    module_code = {v: k for k, v in ref.modules.items()}
    return rows.select(
        pl.col("module_id").replace_strict(module_code, return_dtype=pl.String).alias("module"),
        pl.col("type_id").alias("record_type"),
        "occurred_at",
        "received_at",
        "classification",
        "qty",
        "amount",
        "record_key",
        pl.col("area_code_raw").alias("area_code"),
        "community_code",
        "grid_id",
    )
