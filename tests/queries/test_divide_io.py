"""The divide slice's writes on SQLite and PostgreSQL: real indicator figures imported from CSV and
Excel (refused whole with reasons, the index recomputed from them, carried as user data), and the offline
counters edited by admins and the Data Bureau (bad input refused, nothing half-written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from queries import audit, cache, divide, divide_io
from queries import engine as eng
from queries.scope import CITY_SCOPE
from queries.tables import USER_DATA_TABLES, audit_log, divide_counter_edit, divide_indicator_import
from tests.pools import sqlite_pool_at

LAOZHAI, WENLAN = 532503202, 532503001
CLI = audit.Actor.cli()
ADMIN = audit.Actor(1, "admin", "admin")
HEAD = "township_code,year,indicator,value\n"


def _counts() -> tuple[int, int, int]:
    with eng.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (divide_indicator_import, divide_counter_edit, audit_log)
        )


def _csv(tmp_path: Path, body: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8-sig")
    return path


@pytest.fixture
def pool_w(writable_pool: str) -> str:
    cache.configure(None)
    return writable_pool


def test_the_tables_are_user_data() -> None:
    assert divide_indicator_import in USER_DATA_TABLES and divide_counter_edit in USER_DATA_TABLES


def test_import_replaces_the_figures_and_the_index_follows(pool_w: str, tmp_path: Path) -> None:
    before = divide.township_table(scope=CITY_SCOPE, period="2026Q4")
    laozhai = before.filter(pl.col("township_code") == LAOZHAI).row(0, named=True)
    assert laozhai["index"] == 100
    # Laozhai gets the best infrastructure in the county: its index must fall, the part turn socio-economic
    body = "".join(
        f"{LAOZHAI},2026,{c},{0.99 if c != 'download_mbps' else 900}\n"
        for c, i in divide.INDICATORS.items()
        if i.part == divide.INFRA
    )
    entries = _counts()
    got = divide_io.import_indicators(_csv(tmp_path, body), CLI)
    assert got.ok and len(got.rows) == 6, got.problems
    assert _counts() == (entries[0] + 6, entries[1], entries[2] + 1)
    ind = divide.indicators(period="2026Q4").filter(pl.col("township_code") == LAOZHAI).row(0, named=True)
    assert ind["internet_rate"] == 0.99 and ind["download_mbps"] == 900.0
    assert set(ind["imported"].split(",")) == {
        c for c, i in divide.INDICATORS.items() if i.part == divide.INFRA
    }
    after = divide.township_table(scope=CITY_SCOPE, period="2026Q4")
    now = after.filter(pl.col("township_code") == LAOZHAI).row(0, named=True)
    assert now[divide.INFRA] == 0 and now["dominant"] == divide.SOCIO and now["index"] < laozhai["index"]
    # every quarter of 2026 takes the year's figure; other townships keep theirs
    other = divide.indicators(period=None).filter(pl.col("township_code") == WENLAN)
    assert (other["imported"] == "").all()
    # an Excel file works the same way and replaces the same key
    wb = Workbook()
    ws = wb.active
    ws.append(["Township_Code", "year", "indicator", "value"])
    ws.append([LAOZHAI, 2026, "internet_rate", 0.5])
    xlsx = tmp_path / "d.xlsx"
    wb.save(xlsx)
    assert divide_io.import_indicators(xlsx, CLI).ok
    assert _counts()[0] == entries[0] + 6
    assert (
        divide.indicators(period="2026Q4").filter(pl.col("township_code") == LAOZHAI)["internet_rate"][0]
        == 0.5
    )
    assert audit.verify().ok


@pytest.mark.parametrize(
    "body, why",
    [
        ("532599999,2026,internet_rate,0.5\n", "is not a township of Mengzi"),
        (f"{LAOZHAI},1999,internet_rate,0.5\n", "has no quarter in the pool"),
        (f"{LAOZHAI},2026,wifi_rate,0.5\n", "no indicator 'wifi_rate'"),
        (f"{LAOZHAI},2026,internet_rate,58.8\n", "shares are 0-1"),
        (f"{LAOZHAI},2026,internet_rate,abc\n", "is not a number"),
        (f"{LAOZHAI},2026,internet_rate,nan\n", "is not a number"),
        (f"{LAOZHAI},2026,internet_rate,0.5\n{LAOZHAI},2026,internet_rate,0.6\n", "twice"),
    ],
)
def test_bad_rows_refuse_the_whole_file(pool: str, tmp_path: Path, body: str, why: str) -> None:
    before = _counts()
    good = f"{WENLAN},2026,internet_rate,0.9\n"
    got = divide_io.import_indicators(_csv(tmp_path, good + body), CLI)
    assert not got.ok and any(why in en and en[:5] in ("Row 3", "Row 4") for _, en in got.problems), (
        got.problems
    )
    assert _counts() == before


def test_not_a_table_is_refused(pool: str, tmp_path: Path) -> None:
    before = _counts()
    wrong = tmp_path / "w.csv"
    wrong.write_text("code,name\n1,2\n", encoding="utf-8")
    assert (
        "Missing column(s) township_code, year, indicator, value"
        in divide_io.import_indicators(wrong, CLI).problems[0][1]
    )
    fake = tmp_path / "f.xlsx"
    fake.write_bytes(b"not a zip")
    assert "Cannot read the file" in divide_io.import_indicators(fake, CLI).problems[0][1]
    empty = tmp_path / "e.csv"
    empty.write_text(HEAD, encoding="utf-8")
    assert "no data rows" in divide_io.import_indicators(empty, CLI).problems[0][1]
    assert _counts() == before


def test_command_line(pool_w: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.cli import main

    assert main(["--url", pool_w, "import", "divide", str(_csv(tmp_path, f"{LAOZHAI},2026,bogus,1\n"))]) == 1
    err = capsys.readouterr().err
    assert "no indicator 'bogus'" in err and "the pool is unchanged" in err
    assert (
        main(["--url", pool_w, "import", "divide", str(_csv(tmp_path, f"{LAOZHAI},2026,population,12000\n"))])
        == 0
    )
    assert "imported 1 figures (1 townships)" in capsys.readouterr().out


# --- counters --------------------------------------------------------------------------------------


def _counter(code: int = LAOZHAI) -> dict[str, Any]:
    return divide.counter_list(scope=CITY_SCOPE, township_code=code).row(0, named=True)


def test_counter_list(pool: str) -> None:
    c = divide.counter_list(scope=CITY_SCOPE)
    assert c.height > 13 and c["open"].all() and not c["edited"].any()
    halls = c.filter(pl.col("kind") == "hall")
    assert (halls["opens"] == "08:30").all() and (halls["days"] == 5).all()
    got = divide.counters(period="2026Q4")
    per = c.group_by("township_code").agg(pl.len().alias("n"))
    assert dict(zip(got["township_code"], got["counters"], strict=True)) == dict(
        zip(per["township_code"], per["n"], strict=True)
    )


def test_add_change_hours_close(pool_w: str) -> None:
    n = divide.counters(period="2026Q4").filter(pl.col("township_code") == LAOZHAI)["counters"][0]
    key = divide_io.add_counter(
        ADMIN, department_id=None, township_code=LAOZHAI, name_zh="老寨村代办点", name_en="Laozhai village",
        kind="station", opens="09:00", closes="16:00", days=6,
    )  # fmt: skip
    assert key == f"{LAOZHAI}:老寨村代办点"
    row = divide.counter_list(scope=CITY_SCOPE).filter(pl.col("counter_key") == key).row(0, named=True)
    assert row["added"] and row["open"] and row["days"] == 6
    assert divide.counters(period="2026Q4").filter(pl.col("township_code") == LAOZHAI)["counters"][0] == n + 1
    gen = _counter()["counter_key"]
    divide_io.set_hours(ADMIN, department_id=None, key=gen, opens="08:00", closes="20:00", days=7)
    edited = divide.counter_list(scope=CITY_SCOPE).filter(pl.col("counter_key") == gen).row(0, named=True)
    assert (edited["opens"], edited["closes"], edited["days"], edited["edited"]) == (
        "08:00",
        "20:00",
        7,
        True,
    )
    divide_io.close_counter(ADMIN, department_id=None, key=key)
    assert divide.counters(period="2026Q4").filter(pl.col("township_code") == LAOZHAI)["counters"][0] == n
    with pytest.raises(divide_io.Refused, match="already closed"):
        divide_io.close_counter(ADMIN, department_id=None, key=key)
    with eng.connect() as conn:
        actions = [
            r[0] for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id.desc()).limit(3))
        ]
    assert actions == ["divide.counter.close", "divide.counter.hours", "divide.counter.add"]
    assert audit.verify().ok


def test_the_data_bureau_may_edit_others_may_not(pool_w: str) -> None:
    with eng.connect() as conn:
        from queries.tables import department

        ids = dict(conn.execute(select(department.c.code, department.c.id)).all())
    key = _counter()["counter_key"]
    divide_io.set_hours(
        audit.Actor(2, "data", "department_head"), department_id=ids["data_bureau"], key=key,
        opens="08:00", closes="18:00", days=5,
    )  # fmt: skip
    before = _counts()
    for actor, dept in (
        (audit.Actor(3, "minzheng", "department_head"), ids["civil_affairs"]),
        (audit.Actor(4, "leader", "leader"), None),
        (audit.Actor(5, "op", "operator"), None),
    ):
        with pytest.raises(divide_io.Refused, match="Only admins or the Data Bureau"):
            divide_io.close_counter(actor, department_id=dept, key=key)
    assert _counts() == before


@pytest.mark.parametrize(
    "change, why",
    [
        ({"opens": "8:00"}, "HH:MM"),
        ({"opens": "25:00"}, "HH:MM"),
        ({"opens": "18:00", "closes": "09:00"}, "after the opening time"),
        ({"days": 3}, "5, 6 or 7"),
        ({"days": "5"}, "5, 6 or 7"),
        ({"name_zh": "  "}, "cannot be empty"),
        ({"name_zh": "窗" * 5000}, "at most 96"),
        ({"kind": "kiosk"}, "hall or station"),
        ({"township_code": 532599999}, "No such township"),
        ({"township_code": "532503202"}, "No such township"),
    ],
)
def test_bad_counter_input_is_refused(pool: str, change: dict[str, Any], why: str) -> None:
    args: dict[str, Any] = {
        "township_code": LAOZHAI, "name_zh": "新窗口", "name_en": "New", "kind": "station",
        "opens": "09:00", "closes": "17:00", "days": 5, **change,
    }  # fmt: skip
    before = _counts()
    with pytest.raises(divide_io.Refused, match=why):
        divide_io.add_counter(ADMIN, department_id=None, **args)
    assert _counts() == before


def test_unknown_or_duplicate_counter_is_refused(pool: str) -> None:
    before = _counts()
    with pytest.raises(divide_io.Refused, match="No such counter"):
        divide_io.close_counter(ADMIN, department_id=None, key="532503202:nowhere")
    with pytest.raises(divide_io.Refused, match="No such counter"):
        divide_io.set_hours(ADMIN, department_id=None, key=None, opens="09:00", closes="17:00", days=5)
    c = _counter()
    with pytest.raises(divide_io.Refused, match="already has a counter"):
        divide_io.add_counter(
            ADMIN, department_id=None, township_code=LAOZHAI, name_zh=c["name_zh"], name_en="x",
            kind="station", opens="09:00", closes="17:00", days=5,
        )  # fmt: skip
    assert _counts() == before


def test_a_rebuild_keeps_imported_figures_and_counter_edits(tmp_path: Path) -> None:
    from queries.generate.build import build_pool
    from tests.conftest import END, SEED

    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False)  # a copy of the run's one build
    eng.configure(url)
    cache.configure(None)
    assert divide_io.import_indicators(_csv(tmp_path, f"{LAOZHAI},2026,internet_rate,0.42\n"), CLI).ok
    key = _counter()["counter_key"]
    divide_io.set_hours(ADMIN, department_id=None, key=key, opens="07:00", closes="21:00", days=7)
    build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=False)
    eng.configure(url)
    assert (
        divide.indicators(period="2026Q4").filter(pl.col("township_code") == LAOZHAI)["internet_rate"][0]
        == 0.42
    )
    again = divide.counter_list(scope=CITY_SCOPE).filter(pl.col("counter_key") == key).row(0, named=True)
    assert (again["opens"], again["closes"], again["days"]) == ("07:00", "21:00", 7)


def test_a_counter_edit_moves_the_staff_version_not_the_base(pool_w: str) -> None:
    """A desk edit of a counter moves the data version (the divide's reads key on it) and the staff's,
    and leaves reads of base data (prices, the twin, the loop's reference data) valid."""
    from queries import cache

    before = cache.versions(fresh=True)
    divide_io.set_hours(
        ADMIN, department_id=None, key=_counter()["counter_key"], opens="07:30", closes="17:00", days=5
    )
    after = cache.versions(fresh=True)
    assert after["data_version"] != before["data_version"]
    assert after["version.staff"] != before.get("version.staff")
    assert after["version.base"] == before["version.base"]
