"""Area-code normalisation: every form a source writes that names exactly one township (and community,
where the form carries one) maps to the canonical NBS codes; anything else gets a reason code.

Forms seen from the sub-platforms (and injected by queries/generate/records.py): the 9-digit township
code; the 12-digit community code, including the township padded with "000"; the county code alone;
"蒙自" + the township's name; dashed "5325-03-001". Also accepted: any spaces, dashes, dots or slashes
between digits, full-width digits and spaces, surrounding whitespace, a spreadsheet's "532503001.0",
the township's name with or without its 街道/镇/乡 suffix and province/prefecture/county prefixes, a
community's name (alone where it is unique in the county, or after its township's name).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

COUNTY_CODE = "532503"
MAX_RAW = 32  # record.area_code_raw is String(32): a longer value could not be stored as sent

# Longest first, so "红河哈尼族彝族自治州" is removed before "红河".
_PREFIXES = ("云南省", "云南", "红河哈尼族彝族自治州", "红河州", "红河", "蒙自市", "蒙自")
_TOWNSHIP_SUFFIXES = ("苗族乡", "街道办事处", "街道", "镇", "乡")
_COMMUNITY_SUFFIXES = ("村民委员会", "村委会", "居委会", "社区", "村")
_SEPARATORS = re.compile(r"[\s\-_./·—–]+")
_DIGITS = re.compile(r"\d+")
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")


@dataclass(frozen=True)
class AreaCode:
    """What a raw area code resolves to: codes when it names one place, else a reason (see REASONS)."""

    township_code: int | None
    community_code: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class AreaReference:
    """Townships and communities with their names, indexed for normalisation (built once per batch)."""

    townships: dict[int, str]  # code -> name_zh
    communities: dict[int, tuple[str, int]]  # code -> (name_zh, township code)
    _township_alias: dict[str, set[int]] = field(default_factory=dict, repr=False)
    _community_alias: dict[str, set[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for code, name in self.townships.items():
            for alias in _aliases(name, _TOWNSHIP_SUFFIXES):
                self._township_alias.setdefault(alias, set()).add(code)
        for code, (name, _) in self.communities.items():
            for alias in _aliases(name, _COMMUNITY_SUFFIXES):
                self._community_alias.setdefault(alias, set()).add(code)

    @classmethod
    def from_frames(cls, townships: pl.DataFrame, communities: pl.DataFrame) -> AreaReference:
        """From frames shaped like the pool's `township` (code, name_zh) and `community` (code, name_zh,
        township_code) tables."""
        return cls(
            townships={int(c): str(n) for c, n in townships.select("code", "name_zh").iter_rows()},
            communities={
                int(c): (str(n), int(t))
                for c, n, t in communities.select("code", "name_zh", "township_code").iter_rows()
            },
        )


def _aliases(name: str, suffixes: Iterable[str]) -> set[str]:
    out = {name}
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            out.add(name[: -len(suffix)])
    return out


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text = text[len(prefix) :]
                changed = True
    return text


def _from_digits(digits: str, ref: AreaReference) -> AreaCode:
    if len(digits) == 6:
        reason = "area_code_county_only" if digits == COUNTY_CODE else "area_code_unknown"
        return AreaCode(None, None, reason)
    if len(digits) in (9, 12):
        town = int(digits[:9])
        if town not in ref.townships:
            return AreaCode(None, None, "area_code_unknown")
        if len(digits) == 9:
            return AreaCode(town, None, None)
        # A 12-digit code whose community is not on the list still names its township (the
        # generator's "township + 000" form is exactly that); the community is then left unknown.
        comm = int(digits)
        return AreaCode(town, comm if comm in ref.communities else None, None)
    return AreaCode(None, None, "area_code_unknown")


def _one(codes: set[int] | None) -> int | str | None:
    if not codes:
        return None
    return next(iter(codes)) if len(codes) == 1 else "ambiguous"


def _from_name(text: str, ref: AreaReference) -> AreaCode:
    text = _strip_prefixes(text)
    town = _one(ref._township_alias.get(text))
    if town == "ambiguous":
        return AreaCode(None, None, "area_code_ambiguous")
    if isinstance(town, int):
        return AreaCode(town, None, None)
    # township name followed by a community name, e.g. 文澜街道天马社区
    for cut in range(1, len(text)):
        codes = ref._township_alias.get(text[:cut], set())
        if len(codes) == 1:
            (tcode,) = codes
            alias = text[:cut]
            rest = ref._community_alias.get(text[len(alias) :], set())
            inside = {c for c in rest if ref.communities[c][1] == tcode}
            if len(inside) == 1:
                (ccode,) = inside
                return AreaCode(tcode, ccode, None)
    comm = _one(ref._community_alias.get(text))
    if comm == "ambiguous":
        return AreaCode(None, None, "area_code_ambiguous")
    if isinstance(comm, int):
        return AreaCode(ref.communities[comm][1], comm, None)
    if text == "蒙自" or text.startswith("蒙自市"):
        return AreaCode(None, None, "area_code_county_only")
    return AreaCode(None, None, "area_code_unknown")


def normalise_area_code(raw: object, ref: AreaReference) -> AreaCode:
    """Map one raw area code to (township_code, community_code, reason); never raises."""
    if raw is None:
        return AreaCode(None, None, "area_code_missing")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if not text:
        return AreaCode(None, None, "area_code_missing")
    if len(str(raw)) > MAX_RAW:
        return AreaCode(None, None, "area_code_too_long")
    excel = _EXCEL_FLOAT.match(text)
    if excel:
        text = excel.group(1)
    squeezed = _SEPARATORS.sub("", text)
    if _DIGITS.fullmatch(squeezed) and _DIGITS.match(text):
        return _from_digits(squeezed, ref)
    if text in ("蒙自市", "蒙自"):
        return AreaCode(None, None, "area_code_county_only")
    return _from_name(_SEPARATORS.sub("", text), ref)


AREA_SCHEMA: dict[str, pl.DataType] = {
    "township_code": pl.Int64(),
    "community_code": pl.Int64(),
    "area_reason": pl.String(),
}


# Plain ASCII digits, optionally grouped by spaces or dashes: resolved by column arithmetic below, the
# same way _from_digits resolves them, so a batch of a million distinct codes never loops in Python.
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)} | {"\u3000": " ", "\uff0d": "-"}
_PLAIN_DIGITS = r"^[0-9](?:[0-9 \-]*[0-9])?$"


def _digits_vectorised(digits: pl.Expr, ref: AreaReference) -> list[pl.Expr]:
    n = digits.str.len_bytes()
    town = digits.str.slice(0, 9).cast(pl.Int64, strict=False)
    town_known = town.is_in(list(ref.townships)) & n.is_in([9, 12])
    comm = digits.cast(pl.Int64, strict=False)
    return [
        pl.when(town_known).then(town).otherwise(None).alias("township_code"),
        pl.when(town_known & (n == 12) & comm.is_in(list(ref.communities)))
        .then(comm)
        .otherwise(None)
        .alias("community_code"),
        pl.when(town_known)
        .then(pl.lit(None, pl.String))
        .when(digits == COUNTY_CODE)
        .then(pl.lit("area_code_county_only"))
        .otherwise(pl.lit("area_code_unknown"))
        .alias("area_reason"),
    ]


def normalise_area_codes(raw: pl.Series, ref: AreaReference) -> pl.DataFrame:
    """Vectorised normalise_area_code: one row per input value (township_code, community_code,
    area_reason), in input order.

    Plain digit forms are resolved by column arithmetic; every other form is resolved once per distinct
    value by the scalar function and joined back (a batch holds few distinct names), so the two paths
    answer alike: the tests hold them to it.
    """
    values = raw.cast(pl.String, strict=False).rename("raw")
    distinct = values.unique().to_frame()
    # what NFKC and strip() make of full-width digits, spaces and hyphens, as the scalar path sees them
    ascii_text = distinct["raw"].str.replace_many(_FULL_WIDTH).str.strip_chars()
    plain = ascii_text.str.contains(_PLAIN_DIGITS).fill_null(False) & (
        distinct["raw"].str.len_chars() <= MAX_RAW
    ).fill_null(False)
    fast = (
        distinct.with_columns(ascii=ascii_text)
        .filter(plain)
        .with_columns(_digits_vectorised(pl.col("ascii").str.replace_all(r"[ \-]", ""), ref))
        .select("raw", *AREA_SCHEMA)
    )
    others = distinct.filter(~plain)["raw"]
    resolved = [normalise_area_code(v, ref) for v in others.to_list()]
    slow = pl.DataFrame(
        {
            "raw": others,
            "township_code": [r.township_code for r in resolved],
            "community_code": [r.community_code for r in resolved],
            "area_reason": [r.reason for r in resolved],
        },
        schema={"raw": pl.String, **AREA_SCHEMA},
    )
    table = pl.concat(
        [
            fast.select(pl.col("raw").cast(pl.String), *(pl.col(k).cast(t) for k, t in AREA_SCHEMA.items())),
            slow,
        ]
    )
    joined = values.to_frame().join(table, on="raw", how="left", nulls_equal=True, maintain_order="left")
    return joined.drop("raw")
