"""The one masking rule for records: by classification and role, applied on the server before any value
leaves `queries/`. The grid, the detail panel, the duplicate drill-down and the CSV export all call
`mask()`, so what a viewer can see on screen and what a file can carry are the same thing.

Rows
  - core (2) records are invisible to operators: Scope.max_class keeps them out of every read.
Fields of public (0) records are shown as stored. Fields of sensitive (1) and core (2) records that
are personal or locate a person are masked for every viewer, unless a cleared role reveals one record:
  - record_key (a business key, identity-like): only the first and last quarter kept, at most 4 digits
    each (an 18-digit ID: 5325**********1234; a 10-digit key: 10******34);
  - community_code: reduced to its township ("532503001***"): the township is already a column;
  - grid_id (a grid cell of a few dozen households): hidden;
  - amount: sensitive rounded to the nearest 100 ("≈1200", "<100"), core hidden;
  - area_code_raw (the code as the source sent it; may carry the community): first 4 characters kept.
Not masked: time, module, source, department, township, record type, classification, quantity.

Reveal: leaders, department heads and administrators (CLEARED_ROLES) may reveal one record within their
scope from its detail panel; the read and its responsibility-log entry are one transaction
(queries.records.reveal). Operators cannot reveal. Exports never carry revealed values.
"""

from __future__ import annotations

import polars as pl

PUBLIC, SENSITIVE, CORE = 0, 1, 2
CLEARED_ROLES = ("leader", "department_head", "admin")
MASK = "***"
MASKED_FIELDS = ("record_key", "community_code", "grid_id", "amount", "area_code_raw")

# the rule in words, for the page's legend (zh, en)
LEGEND: tuple[tuple[str, str], ...] = (
    ("公开记录: 全部字段原样显示", "Public records: every field as stored"),
    (
        "敏感/核心记录: 业务主键只保留首尾各1/4 (至多4位), 社区编码只显示到乡镇, 网格号隐藏, "
        "金额敏感取整到百元、核心隐藏, 原始区划编码只保留前4位",
        "Sensitive/core records: business key keeps its first and last quarter (at most 4 digits), "
        "community code shown to the township only, grid cell hidden, amount rounded to 100 "
        "(sensitive) or hidden (core), raw area code keeps its first 4 characters",
    ),
    ("核心记录对值班员不可见", "Core records are invisible to operators"),
    (
        "领导、部门负责人、管理员可在详情中查看本范围内一条记录的原值, 每次查看记入责任日志",
        "Leaders, department heads and administrators may reveal one record in their scope from its "
        "detail panel; every reveal is written to the responsibility log",
    ),
    ("导出与表格遮蔽一致, 从不含原值", "Exports are masked exactly as the grid, never with revealed values"),
)


def can_reveal(role: str) -> bool:
    return role in CLEARED_ROLES


def mask_key(value: str) -> str:
    """Keep the first and last quarter (at most 4 characters each); star the rest."""
    keep = min(4, len(value) // 4)
    if keep == 0:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask(frame: pl.DataFrame, *, revealed: bool = False) -> pl.DataFrame:
    """The masked fields of `frame` as display strings (null stays null: a missing field is a defect the
    viewer may see). Needs classification, township_code and the MASKED_FIELDS columns as stored."""
    text = {
        "record_key": pl.col("record_key").cast(pl.Int64).cast(pl.String),
        "community_code": pl.col("community_code").cast(pl.Int64).cast(pl.String),
        "grid_id": pl.col("grid_id").cast(pl.Int64).cast(pl.String),
        "amount": pl.col("amount").cast(pl.Float64).round(2).cast(pl.String),
        "area_code_raw": pl.col("area_code_raw").cast(pl.String),
    }
    if revealed:
        return frame.with_columns(expr.alias(name) for name, expr in text.items())
    hidden = pl.col("classification") >= SENSITIVE
    hundreds = (pl.col("amount").cast(pl.Float64) / 100).round(0).cast(pl.Int64).mul(100)
    rounded = pl.when(hundreds == 0).then(pl.lit("<100")).otherwise(pl.format("≈{}", hundreds))
    masked = {
        "record_key": text["record_key"].map_elements(mask_key, return_dtype=pl.String),
        "community_code": pl.format("{}***", pl.col("township_code").cast(pl.Int64)),
        "grid_id": pl.lit(MASK),
        "amount": pl.when(pl.col("classification") >= CORE).then(pl.lit(MASK)).otherwise(rounded),
        "area_code_raw": text["area_code_raw"].str.slice(0, 4) + pl.lit("****"),
    }
    return frame.with_columns(
        pl.when(hidden & text[name].is_not_null()).then(masked[name]).otherwise(text[name]).alias(name)
        for name in MASKED_FIELDS
    )
