"""The record browser's reads on SQLite and PostgreSQL: scoped per role, masked per classification and
role, filtered (every defect equal to the rollup's count), sorted on indexed columns, paged, duplicates
side by side, reveals and exports logged, and an export equal to what the grid shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from queries import audit, cache, masking, meta, records
from queries import engine as eng
from queries.records import RecordFilter
from queries.scope import Viewer
from queries.tables import department, record, rollup_daily
from queries.timebase import day_start

WENLAN = 532503001
VIEWERS = {
    "operator": Viewer(11, "operator", "o", "operator"),
    "leader": Viewer(12, "leader", "l", "leader"),
    "wenlan": Viewer(13, "wenlan", "w", "leader", township_code=WENLAN),
    "minzheng": Viewer(14, "minzheng", "m", "department_head", department_id=3),
    "admin": Viewer(15, "admin", "a", "admin"),
}
MASKED_KEY = re.compile(r"^\d{1,4}\*+\d{1,4}$")


def _civil_affairs() -> int:
    with eng.connect() as c:
        return int(
            c.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        )


def viewer(name: str) -> Viewer:
    v = VIEWERS[name]
    if name == "minzheng":  # the department id as the pool numbers it
        return Viewer(v.user_id, v.username, v.display_name, v.role, department_id=_civil_affairs())
    return v


def block(v: Viewer, f: RecordFilter, start: int = 0, end: int = 200, sort: Any = None) -> pl.DataFrame:
    return records.rows(
        scope=v.scope(), cleared=masking.can_reveal(v.role), f=f, sort=sort, start=start, end=end, lang="en"
    )


def _day() -> int:
    return meta.pool_status().as_of_day - 3


def test_mask_rule() -> None:
    assert masking.mask_key("532503199001011234") == "5325**********1234"
    assert masking.mask_key("1000024509") == "10******09"
    assert masking.mask_key("123") == "***"
    raw = pl.DataFrame(
        {
            "classification": [0, 1, 2, 1],
            "township_code": [WENLAN] * 4,
            "record_key": [1000000001, 1000000002, 1000000003, 1000000004],
            "community_code": [532503001011, 532503001012, None, 532503001013],
            "grid_id": [7, 8, 9, None],
            "amount": [123.456, 1249.0, 55.0, 12.0],
            "area_code_raw": ["532503001", "蒙自文澜街道", "5325-03-001", "532503001000"],
        }
    )
    m = masking.mask(raw)
    assert m.row(0) == (0, WENLAN, "1000000001", "532503001011", "7", "123.46", "532503001")
    assert m.row(1) == (1, WENLAN, "10******02", "532503001***", "***", "≈1200", "蒙自文澜****")
    # a missing field stays missing (the defect is visible), core amounts are hidden
    assert m.row(2) == (2, WENLAN, "10******03", None, "***", "***", "5325****")
    assert m.row(3)[4:6] == (None, "<100")
    assert masking.mask(raw, revealed=True)["record_key"].to_list()[1] == "1000000002"
    assert not masking.can_reveal("operator") and all(masking.can_reveal(r) for r in masking.CLEARED_ROLES)


def test_rows_are_scoped_per_role(pool: str) -> None:
    f = RecordFilter(first_day=_day(), last_day=_day())
    shown = {name: block(viewer(name), f) for name in VIEWERS}
    assert "core" not in set(shown["operator"]["classification"])
    assert "core" in set(shown["admin"]["classification"])
    assert set(shown["wenlan"]["township"]) == {"Wenlan Subdistrict"}
    assert set(shown["minzheng"]["dept"]) == {"Civil Affairs Bureau"}
    assert shown["leader"].equals(shown["admin"])
    for name in VIEWERS:
        sc = viewer(name).scope()
        with eng.connect() as c:
            want = c.execute(
                select(func.sum(rollup_daily.c.n)).where(sc.where(rollup_daily), rollup_daily.c.day == _day())
            ).scalar_one()
        got = records.count(scope=sc, cleared=masking.can_reveal(viewer(name).role), f=f)
        assert got == min(int(want), records.BROWSE_CAP + 1), name


def test_masking_holds_in_the_grid_for_every_role(pool: str) -> None:
    f = RecordFilter(first_day=_day(), last_day=_day())
    for name in VIEWERS:
        rows = block(viewer(name), f)
        assert rows.columns == list(records.COLUMNS)
        hidden = rows.filter(pl.col("classification") != "public")
        shown = rows.filter(pl.col("classification") == "public")
        assert hidden.height and shown.height, name
        assert all(MASKED_KEY.match(k) for k in hidden["record_key"])
        assert all(c.endswith("***") for c in hidden["community_code"].drop_nulls())
        assert set(hidden["grid_id"].drop_nulls()) == {"***"}
        assert all(a == "***" or a == "<100" or a.startswith("≈") for a in hidden["amount"].drop_nulls())
        assert all(k.isdigit() for k in shown["record_key"])
        # no stored value of a masked field leaves the server: compare with the raw rows
        with eng.connect() as c:
            raw = c.execute(select(record.c.record_key).where(record.c.id.in_(hidden["id"].to_list()))).all()
        leaked = {str(k) for (k,) in raw} & set(
            rows.filter(pl.col("classification") != "public")["record_key"]
        )
        assert not leaked


@pytest.mark.parametrize("defect", records.DEFECTS)
def test_each_defect_finds_exactly_the_rollups_count(pool: str, defect: str) -> None:
    col = {"duplicate": "n_dup", "missing": "n_missing", "late": "n_late", "badcode": "n_badcode"}[defect]
    admin = viewer("admin")
    first, last = _day() - 6, _day()
    with eng.connect() as c:
        want = c.execute(
            select(func.sum(rollup_daily.c[col])).where(rollup_daily.c.day.between(first, last))
        ).scalar_one()
    f = RecordFilter(defect=defect, first_day=first, last_day=last)
    assert 0 < int(want) <= records.BROWSE_CAP
    assert records.count(scope=admin.scope(), cleared=True, f=f) == int(want)
    rows = block(admin, f)
    labels = {"duplicate": "duplicate", "missing": "missing", "late": "late", "badcode": "badcode"}
    assert rows.height and all(labels[defect] in d for d in rows["defects"])


def test_filters_by_code_and_class(pool: str) -> None:
    admin = viewer("admin")
    f, errors = records.parse_filter(
        {"source": "community_governance", "township": str(WENLAN), "cls": "sensitive", "type": ""}, admin
    )
    assert errors == []
    rows = block(admin, f)
    assert rows.height > 0
    assert set(rows["source"]) == {"Community governance platform"}
    assert set(rows["township"]) == {"Wenlan Subdistrict"} and set(rows["classification"]) == {"sensitive"}
    assert records.to_query(f) == {
        "source": "community_governance",
        "township": str(WENLAN),
        "cls": "sensitive",
    }
    m, _ = records.parse_filter({"module": "transport", "from": "2026-11-01", "to": "2026-11-02"}, admin)
    rows = block(admin, m)
    assert set(rows["module"]) == {"Digital transportation"}
    assert rows["occurred_at"].min() >= "2026-11-01" and rows["occurred_at"].max() < "2026-11-03"


def test_bad_values_get_a_message_and_stay_out(pool: str) -> None:
    op = viewer("operator")
    f, errors = records.parse_filter(
        {
            "source": "nope",
            "township": "123",
            "defect": "typo",
            "cls": "core",
            "from": "2026-13-01",
            "key": "abc",
            "module": "transport",
        },
        op,
    )
    assert f == RecordFilter(module_id=1)
    text = " ".join(en for _, en in errors)
    for fragment in (
        "source='nope'",
        "township='123'",
        "defect='typo'",
        "not visible to your role",
        "YYYY-MM-DD",
    ):
        assert fragment in text
    assert len(errors) == 6 and all(zh for zh, _ in errors)
    g, errors = records.parse_filter({"from": "2026-11-10", "to": "2026-11-01"}, op)
    assert g == RecordFilter() and "from is after to" in errors[0][1]


def test_sorted_on_indexed_columns_and_paged(pool: str) -> None:
    admin = viewer("admin")
    f = RecordFilter(first_day=_day() - 1, last_day=_day())
    whole = block(admin, f, 0, 200)
    halves = pl.concat([block(admin, f, 0, 100), block(admin, f, 100, 200)])
    assert whole.equals(halves) and whole.height == 200
    assert whole["occurred_at"].to_list() == sorted(whole["occurred_at"], reverse=True)
    up = block(admin, f, 0, 200, ("received_at", "asc"))
    assert up["received_at"].to_list() == sorted(up["received_at"])
    assert block(admin, f, 0, 200, ("qty", "asc")).equals(whole)  # not indexed: the default order
    assert block(admin, f, 0, 10_000).height == records.PAGE_MAX
    assert block(admin, f, records.BROWSE_CAP, records.BROWSE_CAP + 100).height == 0


def test_a_masked_key_cannot_be_found_by_typing_it(pool: str) -> None:
    with eng.connect() as c:
        sens = c.execute(
            select(record.c.record_key).where(record.c.classification == 1).limit(1)
        ).scalar_one()
        pub = c.execute(select(record.c.record_key).where(record.c.classification == 0).limit(1)).scalar_one()
    for name, sees_sensitive in (("operator", False), ("admin", True)):
        v = viewer(name)
        assert block(v, RecordFilter(record_key=int(pub))).height >= 1
        assert (block(v, RecordFilter(record_key=int(sens))).height >= 1) is sees_sensitive


def test_duplicates_side_by_side(pool: str) -> None:
    for name in ("admin", "operator"):
        f, _ = records.parse_filter({"source": "community_governance"}, viewer(name))
        v = viewer(name)
        groups = records.duplicate_groups(scope=v.scope(), cleared=masking.can_reveal(v.role), f=f, lang="en")
        assert groups["group"].n_unique() == records.GROUPS_MAX
        sizes = groups.group_by("group").agg(pl.len(), pl.col("source").n_unique().alias("sources"))
        if name == "admin":
            # every group: the public-security original next to the civil-affairs copy
            assert set(sizes["len"]) == {2} and set(sizes["sources"]) == {2}
            pairs = groups.group_by("group").agg(pl.col("source").sort())
            assert {tuple(s) for s in pairs["source"]} == {
                ("Community governance platform", "Population information system")
            }
            assert all("source" in d and "received_at" in d for d in groups["differs"])
        else:
            assert "core" not in set(groups["classification"])
        later = groups.filter(pl.col("defects").str.contains("duplicate"))
        assert set(later["source"]) == {"Community governance platform"}


def test_reveal_and_export_are_logged_and_the_export_is_the_grid(writable_pool: str, tmp_path: Path) -> None:
    cache.configure(tmp_path / "cache", version_ttl=0)  # blocks chain on the block before (cached)
    admin, op = viewer("admin"), viewer("operator")
    with eng.connect() as c:
        rid, key, cls_ = c.execute(
            select(record.c.id, record.c.record_key, record.c.classification)
            .where(record.c.classification == 1, record.c.township_code != WENLAN)
            .limit(1)
        ).one()
    before = audit.verify().entries
    got = records.reveal(viewer=admin, record_id=int(rid), lang="en")
    assert got is not None and got.row["record_key"] == str(key)
    log = audit.show(obj=f"record:{rid}")
    assert log["action"].to_list() == ["record.reveal"] and int(log["id"][0]) == got.entry
    assert records.detail(viewer=admin, record_id=int(rid), lang="en")["record_key"] != str(key)  # type: ignore[index]
    assert records.reveal(viewer=op, record_id=int(rid), lang="en") is None  # no clearance: nothing read
    assert audit.verify().entries == before + 1
    wenlan = viewer("wenlan")
    assert records.reveal(viewer=wenlan, record_id=int(rid), lang="en") is None  # another township
    assert audit.show(obj=f"record:{rid}")["action"].to_list() == ["record.reveal_refused", "record.reveal"]
    day = _day()
    for name in VIEWERS:
        v = viewer(name)
        f = RecordFilter(first_day=day, last_day=day, defect="late")
        frame, capped = records.export(viewer=v, f=f, sort=None, lang="en", as_of=day_start(day))
        on_screen = scrolled(v, f)
        assert not capped and frame.equals(on_screen), name
        entry = audit.show(action="export.csv", limit=1)
        assert entry["actor_username"][0] == v.username and f'"rows":{frame.height}' in entry["detail"][0]
    assert audit.verify().ok and cls_ == 1
    cache.configure(None)


def scrolled(v: Viewer, f: RecordFilter) -> pl.DataFrame:
    """Every row the grid would show, block after block until one comes back short."""
    got = [block(v, f, 0, 100)]
    while got[-1].height == 100:
        n = 100 * len(got)
        got.append(block(v, f, n, n + 100))
    return pl.concat(got)
