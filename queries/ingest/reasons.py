"""Every reason a row can be quarantined for: a stable code with its zh and en words, so the API's
answer, an import's summary and the quarantine page all say the same thing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


_ALL = (
    Reason("source_unknown", "来源系统未登记", "The source system is not registered"),
    Reason(
        "source_mismatch",
        "行中的来源系统与本批次的来源不符",
        "The row names another source system than this batch's",
    ),
    Reason("module_unknown", "模块未登记", "The module is not registered"),
    Reason("module_mismatch", "模块不属于本来源系统", "The module is not this source system's module"),
    Reason("record_type_unknown", "记录类型未登记", "The record type is not registered"),
    Reason("record_type_mismatch", "记录类型不属于本模块", "The record type belongs to another module"),
    Reason("occurred_at_invalid", "发生时间缺失或无法解析", "occurred_at is missing or cannot be parsed"),
    Reason("received_at_invalid", "接收时间无法解析", "received_at cannot be parsed"),
    Reason("occurred_in_future", "发生时间晚于当前时间", "occurred_at is in the future"),
    Reason("received_in_future", "接收时间晚于当前时间", "received_at is in the future"),
    Reason("occurred_before_pool", "发生时间早于数据池起始时间", "occurred_at is before the pool's start"),
    Reason("received_before_occurred", "接收时间早于发生时间", "received_at is before occurred_at"),
    Reason(
        "classification_invalid",
        "数据分级应为 公开/敏感/核心 (0/1/2)",
        "classification must be public/sensitive/core (0/1/2)",
    ),
    Reason("qty_invalid", "数量缺失或不是数值", "qty is missing or not a number"),
    Reason("qty_negative", "数量为负数", "qty is negative"),
    Reason("amount_invalid", "金额不是数值 (可以留空)", "amount is not a number (it may be left empty)"),
    Reason("record_key_missing", "业务主键缺失", "record_key is missing"),
    Reason("record_key_invalid", "业务主键不是非负整数", "record_key is not a non-negative integer"),
    Reason("area_code_missing", "区划代码缺失", "The area code is missing"),
    Reason(
        "area_code_county_only",
        "区划代码只到县级 (532503), 无法确定乡镇街道",
        "The area code names only the county (532503), not a township",
    ),
    Reason(
        "area_code_unknown",
        "区划代码或地名无法对应到蒙自市的乡镇街道",
        "The area code or place name matches no township of Mengzi",
    ),
    Reason(
        "area_code_ambiguous",
        "地名对应多个乡镇街道或社区, 无法确定",
        "The place name matches more than one township or community",
    ),
    Reason("area_code_too_long", "区划代码超过 32 个字符", "The area code is longer than 32 characters"),
    Reason("community_unknown", "社区/村代码未登记", "The community code is not registered"),
    Reason(
        "community_mismatch",
        "社区/村不属于区划代码所指的乡镇街道",
        "The community does not lie in the township the area code names",
    ),
    Reason("grid_unknown", "网格编号未登记", "The grid id is not registered"),
    Reason(
        "grid_mismatch",
        "网格不属于该社区/村 (或缺少社区)",
        "The grid is not in the row's community (or the community is empty)",
    ),
    Reason(
        "duplicate_in_batch",
        "同一批次中业务主键重复 (保留第一条)",
        "The business key already appeared earlier in this batch (the first is kept)",
    ),
)

REASONS: dict[str, Reason] = {r.code: r for r in _ALL}


def describe(code: str) -> str:
    """`zh / en` for one reason code, as messages are written in this house."""
    r = REASONS[code]
    return f"{r.zh} / {r.en}"


def reason_table(outcomes: pl.DataFrame, words: Mapping[str, Reason] = REASONS) -> pl.DataFrame:
    """reason, n, zh, en over the `reasons` lists of a batch's outcomes, most frequent first."""
    counts = (
        outcomes.select(pl.col("reasons").explode().alias("reason"))
        .drop_nulls()
        .group_by("reason")
        .len("n")
        .sort(["n", "reason"], descending=[True, False])
    )
    return counts.with_columns(
        pl.col("reason").replace_strict({k: r.zh for k, r in words.items()}).alias("zh"),
        pl.col("reason").replace_strict({k: r.en for k, r in words.items()}).alias("en"),
    )
