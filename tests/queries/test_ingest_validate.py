"""Ingestion core against the generator's own output, on SQLite and PostgreSQL: every area-code form the
generator injects is normalised or carries its reason, a clean generated batch is accepted whole, and
every quarantine reason has a row that triggers it and a near miss that passes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from queries import engine as eng
from queries import meta
from queries.ingest.areacode import AreaCode, AreaReference, normalise_area_code, normalise_area_codes
from queries.ingest.reasons import REASONS
from queries.ingest.reference import Reference, load_reference, reference_frames, reference_from_frames
from queries.ingest.validate import (
    RECORD_COLUMNS,
    MalformedBatch,
    batch_from_records,
    frame_from_rows,
    validate_batch,
)
from queries.tables import record, seed_defect
from queries.timebase import day_start
from tests.conftest import END

NOW = int(END.timestamp())
WENLAN, YUGUOPU, CAOBA = 532503001, 532503002, 532503102
TIANMA = 532503001001  # 天马社区, in Wenlan


def first_ts() -> int:
    return day_start(meta.pool_status().first_day)


def source_records(source_code: str, ref: Reference) -> pl.DataFrame:
    """The pool's records of one source with their injected defects (a list per record)."""
    sid = ref.sources[source_code].id
    rows = eng.read_frame(
        select(record).where(record.c.source_id == sid).order_by(record.c.id),
        schema={c: pl.Int64 for c in ("id", "module_id", "source_id", "dept_id", "type_id", "township_code")},
    )
    truth = eng.read_frame(
        select(seed_defect.c.record_id, seed_defect.c.defect).where(
            seed_defect.c.record_id.in_(rows["id"].to_list())
        )
    )
    truth = (
        truth.with_columns(pl.col("record_id").cast(pl.Int64))
        .group_by("record_id")
        .agg(pl.col("defect").sort())
    )
    return rows.join(
        truth.rename({"record_id": "id", "defect": "truth"}), on="id", how="left", maintain_order="left"
    )


# --- area codes -------------------------------------------------------------------------------------


def test_generator_badcode_forms_normalise_to_the_true_township(pool: str) -> None:
    ref = load_reference()
    bad = eng.read_frame(
        select(record.c.township_code, record.c.area_code_raw)
        .join(seed_defect, seed_defect.c.record_id == record.c.id)
        .where(seed_defect.c.defect == "badcode"),
        schema={"township_code": pl.Int64},
    )
    assert bad.height > 1000
    got = bad.with_columns(normalise_area_codes(bad["area_code_raw"], ref.area))
    normalisable = got.filter(pl.col("area_reason").is_null())
    assert (normalisable["township_code"] == bad.filter(got["area_reason"].is_null())["township_code"]).all()
    rest = got.filter(pl.col("area_reason").is_not_null())
    # the only form that names no township is the county code alone
    assert set(rest["area_reason"]) == {"area_code_county_only"}
    assert set(rest["area_code_raw"]) == {"532503"}
    share = normalisable.height / got.height
    assert 0.70 < share < 0.80  # four injected forms, drawn evenly; three of them normalise
    # and every form of every township was drawn: 13 x 3 normalisable distinct values
    assert normalisable["area_code_raw"].n_unique() == 13 * 3


FORMS: list[tuple[object, int | None, int | None, str | None]] = [
    ("532503001", WENLAN, None, None),
    ("532503001000", WENLAN, None, None),  # township padded to 12 digits (generator)
    ("532503001001", WENLAN, TIANMA, None),  # a real community code
    ("532503001999", WENLAN, None, None),  # unknown community of a known township: township only
    ("5325-03-001", WENLAN, None, None),  # generator's dashed form
    ("532503-001", WENLAN, None, None),
    ("5325 0300 1", WENLAN, None, None),
    ("532503.001", WENLAN, None, None),
    ("５３２５０３００１", WENLAN, None, None),  # full-width digits
    ("\u3000532503102\t", CAOBA, None, None),  # full-width space, tab
    ("532503102.0", CAOBA, None, None),  # a spreadsheet's number cell
    (532503102, CAOBA, None, None),  # an integer cell
    ("蒙自文澜街道", WENLAN, None, None),  # generator's name form
    ("文澜街道", WENLAN, None, None),
    ("文澜", WENLAN, None, None),
    ("蒙自市草坝镇", CAOBA, None, None),
    ("云南省红河州蒙自市草坝镇", CAOBA, None, None),
    ("草坝", CAOBA, None, None),
    ("期路白苗族乡", 532503201, None, None),
    ("期路白", 532503201, None, None),
    ("天马社区", WENLAN, TIANMA, None),
    ("文澜街道天马社区", WENLAN, TIANMA, None),
    ("文澜街道 天马社区", WENLAN, TIANMA, None),
    ("532503", None, None, "area_code_county_only"),
    ("5325-03", None, None, "area_code_county_only"),
    ("蒙自市", None, None, "area_code_county_only"),
    ("532503999", None, None, "area_code_unknown"),
    ("532504001", None, None, "area_code_unknown"),  # another county
    ("53250300", None, None, "area_code_unknown"),
    ("昆明市五华区", None, None, "area_code_unknown"),
    ("", None, None, "area_code_missing"),
    ("   ", None, None, "area_code_missing"),
    (None, None, None, "area_code_missing"),
    ("5" * 40, None, None, "area_code_too_long"),
]


def test_every_form_normalises_or_says_why(pool: str) -> None:
    ref = load_reference().area
    for raw, town, comm, reason in FORMS:
        assert normalise_area_code(raw, ref) == AreaCode(town, comm, reason), raw
    # the batch version answers exactly as the scalar one, in input order, repeats and nulls included
    raws = [None if r is None else str(r) for r, *_ in FORMS] * 2
    batch = normalise_area_codes(pl.Series(raws, dtype=pl.String), ref)
    expect = [(t, c, r) for _, t, c, r in FORMS] * 2
    assert list(batch.iter_rows()) == expect


def test_ambiguous_place_name(pool: str) -> None:
    frames = reference_frames()
    twin = pl.DataFrame(
        {"code": [532503102999], "name_zh": ["天马社区"], "township_code": [CAOBA]},
        schema=frames["community"].schema,
    )
    ref = AreaReference.from_frames(frames["township"], pl.concat([frames["community"], twin]))
    assert normalise_area_code("天马社区", ref).reason == "area_code_ambiguous"
    # near miss: the township's name settles which one
    assert normalise_area_code("草坝镇天马社区", ref) == AreaCode(CAOBA, 532503102999, None)


# --- a batch -----------------------------------------------------------------------------------------


def test_clean_generated_batch_is_accepted_whole(pool: str) -> None:
    ref = load_reference()
    rows = source_records("traffic_platform", ref).filter(pl.col("truth").is_null())
    assert rows.height > 500
    out = validate_batch(
        batch_from_records(rows, ref),
        source_code="traffic_platform",
        ref=ref,
        now=NOW,
        pool_first_ts=first_ts(),
    )
    assert (out.outcomes["outcome"] == "accepted").all()
    assert out.outcomes["defects"].list.len().sum() == 0
    assert list(out.records.columns) == ["row", *RECORD_COLUMNS]
    expect = rows.select(RECORD_COLUMNS).with_columns(
        pl.col("community_code", "grid_id").cast(pl.Int64), pl.col("classification").cast(pl.Int64)
    )
    assert out.records.drop("row").equals(
        expect.select(out.records.drop("row").columns).cast(out.records.drop("row").schema)
    )


@pytest.mark.parametrize("source_code", ["population_system", "coop_reporting", "traffic_police_gate"])
def test_generated_batch_defects_match_the_generator_truth(pool: str, source_code: str) -> None:
    """A source's whole output, defects included: only the county-only codes are quarantined, and the
    defects an accepted row carries are exactly the ones the generator injected into it."""
    ref = load_reference()
    rows = source_records(source_code, ref)
    out = validate_batch(
        batch_from_records(rows, ref), source_code=source_code, ref=ref, now=NOW, pool_first_ts=first_ts()
    )
    county_only = rows["area_code_raw"] == "532503"
    assert county_only.sum() > 0
    quarantined = out.outcomes["outcome"] == "quarantined"
    assert (quarantined == county_only).all()
    assert set(out.outcomes.filter(quarantined)["reasons"].list.join(",")) == {"area_code_county_only"}
    accepted = out.outcomes.filter(~quarantined).with_columns(
        truth=rows.filter(~county_only)["truth"].list.set_difference(["duplicate"]).fill_null([]).list.sort()
    )
    assert accepted["defects"].list.sort().equals(accepted["truth"], null_equal=True)
    # normalised rows land on the township the generator meant
    assert out.records["township_code"].equals(rows.filter(~county_only)["township_code"])


def test_duplicates_within_a_batch_and_across_sources(pool: str) -> None:
    ref = load_reference()
    kw: dict[str, Any] = {"ref": ref, "now": NOW, "pool_first_ts": first_ts()}
    rows = source_records("population_system", ref).filter(pl.col("truth").is_null()).head(200)
    twice = pl.concat([batch_from_records(rows, ref), batch_from_records(rows, ref)])
    out = validate_batch(twice, source_code="population_system", **kw)
    assert (out.outcomes["outcome"].head(200) == "accepted").all()
    assert out.outcomes["reasons"].tail(200).list.join(",").eq("duplicate_in_batch").all()
    assert out.records.height == 200
    # civil affairs re-entering public security's records (the 30% case) is that source's own data:
    # accepted from it (the rollups count it as a duplicate), refused when it claims to be the other
    copies = (
        source_records("community_governance", ref)
        .filter(pl.col("truth").list.contains("duplicate"), pl.col("area_code_raw") != "532503")
        .head(100)
    )
    assert copies.height == 100
    own = validate_batch(batch_from_records(copies, ref), source_code="community_governance", **kw)
    assert (own.outcomes["outcome"] == "accepted").all()
    claimed = batch_from_records(copies, ref).with_columns(source=pl.lit("community_governance"))
    wrong = validate_batch(claimed, source_code="population_system", **kw)
    assert wrong.outcomes["reasons"].list.contains("source_mismatch").all()


def base_row(ref: Reference, key: int) -> dict[str, Any]:
    return {
        "module": "transport",
        "record_type": "卡口过车",
        "occurred_at": "2026-11-20T10:00:00+08:00",
        "received_at": "2026-11-20T10:05:00+08:00",
        "classification": "public",
        "qty": "3",
        "amount": "12.5",
        "record_key": str(key),
        "area_code": "532503001",
        "community_code": "",
        "grid_id": "",
        "source": "",
    }


def grid_of(ref: Reference, community: int) -> int:
    return min(g for g, c in ref.grids.items() if c == community)


def cases(ref: Reference, first: int) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(reason, a row that triggers it, its near miss that passes)."""
    edu_type = min(t for t, (m, _, _) in ref.record_types.items() if m == ref.modules["education"])
    other_grid = grid_of(ref, 532503001002)
    iso = dt.datetime.fromtimestamp
    tz = dt.timezone(dt.timedelta(hours=8))
    return [
        ("source_mismatch", {"source": "traffic_police_gate"}, {"source": "traffic_platform"}),
        ("source_mismatch", {"source": "2"}, {"source": str(ref.sources["traffic_platform"].id)}),
        ("module_unknown", {"module": "space"}, {"module": str(ref.modules["transport"])}),
        ("module_mismatch", {"module": "education"}, {"module": " transport "}),
        ("record_type_unknown", {"record_type": "飞行"}, {"record_type": "Parking"}),
        ("record_type_mismatch", {"record_type": str(edu_type)}, {"record_type": "停车"}),
        ("occurred_at_invalid", {"occurred_at": "2026-13-01 10:00"}, {"occurred_at": "2026-11-01 10:00"}),
        ("occurred_at_invalid", {"occurred_at": ""}, {"occurred_at": "1795140000"}),
        ("received_at_invalid", {"received_at": "yesterday"}, {"received_at": ""}),
        (
            "occurred_in_future",
            {"occurred_at": str(NOW + 301), "received_at": str(NOW + 301)},
            {"occurred_at": str(NOW + 300), "received_at": str(NOW + 300)},
        ),
        ("received_in_future", {"received_at": str(NOW + 301)}, {"received_at": str(NOW + 300)}),
        (
            "occurred_before_pool",
            {"occurred_at": iso(first - 1, tz).isoformat()},
            {"occurred_at": iso(first, tz).isoformat()},
        ),
        (
            "received_before_occurred",
            {"received_at": "2026-11-20T09:59:59+08:00"},
            {"received_at": "2026-11-20T02:00:00Z"},
        ),
        ("classification_invalid", {"classification": "secret"}, {"classification": " Core "}),
        ("classification_invalid", {"classification": "3"}, {"classification": "敏感"}),
        ("qty_invalid", {"qty": "many"}, {"qty": "3.5"}),
        ("qty_invalid", {"qty": ""}, {"qty": "1e2"}),
        ("qty_invalid", {"qty": "inf"}, {"qty": "0.5"}),
        ("qty_negative", {"qty": "-1"}, {"qty": "0"}),
        ("amount_invalid", {"amount": "12元"}, {"amount": ""}),
        ("record_key_missing", {"record_key": " "}, {"record_key": "0"}),
        ("record_key_invalid", {"record_key": "12.5"}, {"record_key": "12.0"}),
        ("record_key_invalid", {"record_key": "-3"}, {"record_key": "+4"}),
        ("record_key_invalid", {"record_key": "99999999999999999999"}, {"record_key": "9223372036854775807"}),
        ("area_code_missing", {"area_code": "  "}, {"area_code": "532503001"}),
        ("area_code_county_only", {"area_code": "532503"}, {"area_code": "532503001000"}),
        ("area_code_unknown", {"area_code": "532504001"}, {"area_code": "5325-03-001"}),
        ("area_code_too_long", {"area_code": "532503001" + " " * 30}, {"area_code": " 532503001 "}),
        ("community_unknown", {"community_code": "532503001999"}, {"community_code": str(TIANMA)}),
        (
            "community_mismatch",
            {"area_code": str(YUGUOPU), "community_code": str(TIANMA)},
            {"community_code": str(TIANMA)},
        ),
        (
            "community_mismatch",
            {"area_code": "532503001002", "community_code": str(TIANMA)},
            {"area_code": str(TIANMA), "community_code": str(TIANMA)},
        ),
        (
            "grid_unknown",
            {"community_code": str(TIANMA), "grid_id": "999999"},
            {"community_code": str(TIANMA), "grid_id": str(grid_of(ref, TIANMA))},
        ),
        (
            "grid_mismatch",
            {"community_code": str(TIANMA), "grid_id": str(other_grid)},
            {"area_code": "532503001002", "grid_id": str(other_grid)},
        ),
        ("grid_mismatch", {"grid_id": str(other_grid)}, {"grid_id": ""}),
    ]


def test_every_reason_has_a_trigger_and_a_near_miss(pool: str) -> None:
    ref = load_reference()
    first = first_ts()
    table = cases(ref, first)
    rows = []
    for i, (_, bad, good) in enumerate(table):
        # keys from 1000 up, clear of the small keys the record_key cases send
        rows += [base_row(ref, 1000 + 10 * i) | bad, base_row(ref, 1001 + 10 * i) | good]
    out = validate_batch(
        pl.DataFrame(rows), source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first
    )
    for i, (reason, bad, good) in enumerate(table):
        got_bad, got_good = out.outcomes.row(2 * i, named=True), out.outcomes.row(2 * i + 1, named=True)
        assert got_bad["outcome"] == "quarantined" and reason in got_bad["reasons"], (reason, bad, got_bad)
        assert got_good["outcome"] == "accepted", (reason, good, got_good)
    covered = {reason for reason, _, _ in table} | {
        "source_unknown",
        "duplicate_in_batch",
        "area_code_ambiguous",
    }
    assert covered == set(REASONS)  # the other three have their own tests


def test_unknown_source_quarantines_every_row(pool: str) -> None:
    ref = load_reference()
    batch = pl.DataFrame([base_row(ref, 1), base_row(ref, 2)])
    out = validate_batch(batch, source_code="no_such_source", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert out.outcomes["reasons"].list.contains("source_unknown").all()
    assert out.records.height == 0
    ok = validate_batch(batch, source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert out.outcomes.height == 2 and (ok.outcomes["outcome"] == "accepted").all()


def test_a_row_keeps_every_reason_and_the_summary_speaks_both_languages(pool: str) -> None:
    ref = load_reference()
    bad = base_row(ref, 1) | {
        "classification": "x",
        "qty": "-2",
        "area_code": "532503",
        "module": "education",
    }
    out = validate_batch(
        pl.DataFrame([bad, bad]), source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts()
    )
    first = out.outcomes.row(0, named=True)["reasons"]
    assert first == ["module_mismatch", "classification_invalid", "qty_negative", "area_code_county_only"]
    assert out.outcomes.row(1, named=True)["reasons"] == [*first, "duplicate_in_batch"]
    counts = out.reason_counts()
    assert counts.columns == ["reason", "n", "zh", "en"]
    assert counts.filter(pl.col("reason") == "duplicate_in_batch")["n"].item() == 1
    assert counts.filter(pl.col("reason") == "qty_negative")["zh"].item() == "数量为负数"
    assert all(r.zh and r.en and r.code == code for code, r in REASONS.items())


def test_missing_amount_is_accepted_and_counted_as_missing(pool: str) -> None:
    ref = load_reference()
    rows = [base_row(ref, 1) | {"amount": ""}, base_row(ref, 2) | {"community_code": str(TIANMA)}]
    out = validate_batch(
        pl.DataFrame(rows), source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts()
    )
    assert (out.outcomes["outcome"] == "accepted").all()
    # row 2 still lacks nothing: its community came in its own column; row 1 lacks the amount
    assert out.outcomes["defects"].to_list() == [["missing"], []]
    assert out.records["amount"].to_list() == [None, 12.5]


def test_timestamps_epoch_iso_and_naive(pool: str) -> None:
    ref = load_reference()
    want = int(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
    forms = [
        "2026-11-20T10:00:00+08:00",
        "2026-11-20T02:00:00Z",
        "2026-11-20 02:00:00+00:00",
        "2026-11-19T21:00:00-0500",
        "2026-11-20T10:00:00.250+08:00",
        "2026-11-20 10:00",  # naive: Asia/Shanghai
        "2026-11-20T10:00:00",
        str(want),
        f"{want}.7",
    ]
    rows = [base_row(ref, i) | {"occurred_at": f, "received_at": ""} for i, f in enumerate(forms)]
    out = validate_batch(
        pl.DataFrame(rows), source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts()
    )
    assert (out.outcomes["outcome"] == "accepted").all()
    assert out.records["occurred_at"].to_list() == [want] * len(forms)
    assert out.records["received_at"].to_list() == [NOW] * len(forms)  # empty received_at = now
    # typed columns, as Parquet and Excel deliver them
    typed = pl.DataFrame([base_row(ref, i) for i in range(3)]).with_columns(
        occurred_at=pl.Series(
            [
                dt.datetime(2026, 11, 20, 10, 0),  # naive: local time
                dt.datetime(2026, 11, 20, 10, 0),
                dt.datetime(2026, 11, 20, 10, 0),
            ]
        ),
        received_at=pl.Series([want + 60, want + 60, want + 60], dtype=pl.Int64),
        qty=pl.Series([3.0, 0.0, 1.0]),
        record_key=pl.Series([7, 8, 9]),
        area_code=pl.Series([532503001, 532503102, 532503001001]),
    )
    out = validate_batch(typed, source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert (out.outcomes["outcome"] == "accepted").all()
    assert out.records["occurred_at"].to_list() == [want] * 3
    aware = typed.with_columns(pl.col("occurred_at").dt.replace_time_zone("Asia/Shanghai"))
    out = validate_batch(aware, source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert out.records["occurred_at"].to_list() == [want] * 3
    assert out.records["community_code"].to_list() == [None, None, TIANMA]


def test_a_frame_without_required_columns_raises_one_clear_error(pool: str) -> None:
    ref = load_reference()
    frame = pl.DataFrame([base_row(ref, 1)]).drop("qty", "area_code")
    with pytest.raises(MalformedBatch) as err:
        validate_batch(frame, source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert err.value.missing == ["qty", "area_code"]
    assert "module" in err.value.found and "缺少" in str(err.value) and "lacks" in str(err.value)
    empty = validate_batch(
        pl.DataFrame(schema={c: pl.String for c in base_row(ref, 1)}),
        source_code="traffic_platform",
        ref=ref,
        now=NOW,
        pool_first_ts=first_ts(),
    )
    assert empty.outcomes.height == 0 and empty.records.height == 0


def test_reference_comes_from_the_pool(pool: str) -> None:
    ref = reference_from_frames(reference_frames())
    assert len(ref.area.townships) == 13 and len(ref.area.communities) == 109
    assert ref.sources["traffic_platform"].module_id == ref.modules["transport"]


def test_bench_ingest_validation_prints_its_figures(
    sqlite_configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    assert main(["--url", sqlite_configured, "bench", "--ingest-validation", "2000"]) == 0
    out = capsys.readouterr().out
    assert out.count("rows/s") == 4 and "validate_batch, text with ISO times" in out


def test_json_rows_of_any_shape_build_a_frame_and_get_an_answer_each(pool: str) -> None:
    ref = load_reference()
    good = base_row(ref, 1) | {"qty": 3, "record_key": 1, "occurred_at": 1795140000, "amount": None}
    rows = [
        good,
        good | {"record_key": 2, "qty": True},  # a boolean is no quantity
        good | {"record_key": 3, "area_code": {"code": "532503001"}},  # nested
        {k: v for k, v in good.items() if k != "amount"} | {"record_key": 4.0, "extra": [1, 2]},
    ]
    frame = frame_from_rows(rows)
    assert all(dtype == pl.String for dtype in frame.dtypes) and frame.columns[-1] == "extra"
    out = validate_batch(frame, source_code="traffic_platform", ref=ref, now=NOW, pool_first_ts=first_ts())
    assert out.outcomes["reasons"].to_list() == [[], ["qty_invalid"], ["area_code_unknown"], []]
    assert out.records["record_key"].to_list() == [1, 4]
