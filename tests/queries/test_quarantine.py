"""Quarantine reads on SQLite and PostgreSQL: counts per source and reason for every role, held rows
page by page for the roles that may read them, exports logged on the chain."""

from __future__ import annotations

import json

import polars as pl
import pytest
from sqlalchemy import select

from queries import audit, meta, quarantine
from queries import engine as eng
from queries.scope import Viewer
from tests.held_rows import HELD, held, held_pool  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("held")

ADMIN = Viewer(1, "admin", "admin", "admin", department_id=14)
MINZHENG = Viewer(4, "minzheng", "minzheng", "department_head", department_id=2)  # civil affairs
LEADER = Viewer(2, "leader", "leader", "leader")
OPERATOR = Viewer(5, "operator", "operator", "operator", department_id=14)


def test_counts_by_source_and_reason() -> None:
    got = quarantine.counts(viewer=ADMIN)
    assert got.columns == [
        "source_id",
        "code",
        "name_zh",
        "name_en",
        "dept_zh",
        "dept_en",
        "reason",
        "n",
        "rows",
    ]
    assert got["n"].dtype == pl.Int64 and got["source_id"].dtype == pl.Int16
    cg = got.filter(pl.col("code") == "community_governance")
    # a row with two reasons counts under each; the source's row total counts it once
    assert dict(zip(cg["reason"], cg["n"], strict=True)) == {
        "area_code_unknown": 2,
        "qty_negative": 1,
        "qty_invalid": 1,
    }
    assert set(cg["rows"]) == {3}
    assert got["code"][0] == "community_governance"  # the biggest backlog first
    assert set(got["code"]) == {"community_governance", "elderly_care", "population_system"}


def test_a_department_head_counts_only_their_departments_sources() -> None:
    got = quarantine.counts(viewer=MINZHENG)
    assert set(got["code"]) == {"community_governance", "elderly_care"}
    assert int(got.filter(pl.col("code") == "elderly_care")["n"].sum()) == 1


def test_rows_page_by_page_newest_first() -> None:
    total = quarantine.held_total(viewer=ADMIN)
    assert total == len(HELD)
    first = quarantine.held_rows(viewer=ADMIN, offset=0, limit=4)
    rest = quarantine.held_rows(viewer=ADMIN, offset=4, limit=4)
    assert first.height == 4 and rest.height == 2
    ids = first["id"].to_list() + rest["id"].to_list()
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    assert first.schema == pl.Schema(quarantine.ROW_SCHEMA)
    assert set(first["channel"]) == {"api"}
    only = quarantine.held_rows(viewer=ADMIN, reason="area_code_unknown")
    assert only.height == 2 and all("area_code_unknown" in json.loads(r) for r in only["reasons"])
    cg = int(meta.sources().filter(pl.col("code") == "population_system")["id"][0])
    assert quarantine.held_total(viewer=ADMIN, source_id=cg) == 2
    with pytest.raises(ValueError, match="unknown quarantine reason"):
        quarantine.held_rows(viewer=ADMIN, reason="no_such_reason")


def test_rows_are_for_admins_and_the_owning_department_only() -> None:
    mine = quarantine.held_rows(viewer=MINZHENG, limit=100)
    assert mine.height == 4 and "532503199001011234" in "".join(mine["raw"])
    pop = int(meta.sources().filter(pl.col("code") == "population_system")["id"][0])
    assert quarantine.held_total(viewer=MINZHENG, source_id=pop) == 0  # another bureau's rows: none
    for v in (LEADER, OPERATOR):
        assert not quarantine.counts(viewer=v).is_empty()  # counts, yes
        with pytest.raises(PermissionError):
            quarantine.held_rows(viewer=v)
        with pytest.raises(PermissionError):
            quarantine.export(viewer=v)
    assert quarantine.may_release(ADMIN, pop) and not quarantine.may_release(MINZHENG, pop)
    cg = int(meta.sources().filter(pl.col("code") == "community_governance")["id"][0])
    assert quarantine.may_release(MINZHENG, cg) and not quarantine.may_release(LEADER, cg)


def test_one_row_with_its_raw_row_decoded() -> None:
    newest = int(quarantine.held_rows(viewer=ADMIN, limit=1)["id"][0])
    row = quarantine.held_row(viewer=ADMIN, quarantine_id=newest)
    assert row is not None and row["raw"] == {"record_key": "301", "area_code": "532503"}
    assert row["reasons"] == ["area_code_county_only"]
    assert quarantine.held_row(viewer=MINZHENG, quarantine_id=newest) is None  # population: not theirs


def test_an_export_is_logged_before_it_is_returned() -> None:
    before = audit.verify().entries
    cg = int(meta.sources().filter(pl.col("code") == "community_governance")["id"][0])
    frame = quarantine.export(viewer=MINZHENG, source_id=cg, reason="area_code_unknown")
    assert frame.height == 2 and frame["id"].to_list() == sorted(frame["id"].to_list())
    entry = audit.show(limit=1).row(0, named=True)
    assert entry["action"] == "export.quarantine" and entry["actor_username"] == "minzheng"
    assert json.loads(entry["detail"]) == {
        "reason": "area_code_unknown",
        "rows": 2,
        "source": "community_governance",
    }
    assert audit.verify().entries == before + 1 and audit.verify().ok
    with eng.connect() as c:  # the detail names the export; it never holds a raw value
        assert "532503199001011234" not in str(c.execute(select(audit.audit_log.c.detail)).all())


def test_reason_words_fall_back_to_the_code() -> None:
    assert quarantine.reason_words(["qty_negative", "from_the_future"]) == [
        ("数量为负数", "qty is negative"),
        ("from_the_future", "from_the_future"),
    ]
