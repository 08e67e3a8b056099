"""Writes of the digital-divide slice, all through the write door: real indicator figures imported from a
CSV or Excel file (`command-center import divide FILE`), and the offline service counters kept by their
owning department (add one, change its hours, close it).

Every write also moves the pool's data version in the same transaction, so every worker's cached divide
views (the index, the map, the panel) are recomputed from the new figures at once.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from queries import audit, divide
from queries import engine as eng
from queries.tables import (
    department,
    divide_counter,
    divide_counter_edit,
    divide_indicator,
    divide_indicator_import,
    township,
)

# what may be imported, and its plausible range (shares 0-1; a file in percent is refused, not guessed)
RANGES: dict[str, tuple[float, float]] = {
    **{c: (0.0, 1.0) for c, i in divide.INDICATORS.items() if i.share},
    "download_mbps": (0.0, 10000.0),
    "population": (1.0, 5_000_000.0),
}
COLUMNS = ("township_code", "year", "indicator", "value")
MAX_ROWS = 20_000
MAX_BYTES = 5_000_000
OWNER_DEPT = "data_bureau"  # the digital governance center keeps the counters (and admins may)
KINDS = ("hall", "station")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def move_version(conn: Connection) -> None:
    """A new data version in the writer's transaction (as the Three-Lists import does): every worker's
    cached reads key on it, so the change shows at once (within CC_VERSION_TTL_SECONDS)."""
    from queries import meta

    meta.move_all(conn)


# --- indicator figures from a file --------------------------------------------------------------------


@dataclass
class Checked:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _table_of(path: Path) -> list[list[Any]]:
    """The file's cells, row by row (CSV in UTF-8 with or without BOM, or the first sheet of .xlsx)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    text = path.read_bytes().decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def check_indicators(path: Path, *, known: set[int], years: set[int]) -> Checked:
    """Every problem with the file (by row), or its rows ready to write."""
    out = Checked()
    if path.stat().st_size > MAX_BYTES:
        out.problems.append(
            (f"文件超过 {MAX_BYTES // 1_000_000} MB", f"The file exceeds {MAX_BYTES // 1_000_000} MB")
        )
        return out
    try:
        cells = _table_of(path)
    except Exception as exc:  # openpyxl, zipfile and the decoder raise many kinds on a wrong file
        out.problems.append(
            (
                f"无法读取文件 (应为 CSV 或 .xlsx): {exc}",
                f"Cannot read the file (CSV or .xlsx expected): {exc}",
            )
        )
        return out
    cells = [r for r in cells if any(c not in (None, "") for c in r)]
    if not cells:
        out.problems.append(("文件是空的", "The file is empty"))
        return out
    head = [str(c or "").strip().lower() for c in cells[0]]
    missing = [c for c in COLUMNS if c not in head]
    if missing:
        out.problems.append(
            (
                f"缺少列 {', '.join(missing)}; 需要 {', '.join(COLUMNS)}",
                f"Missing column(s) {', '.join(missing)}; needed: {', '.join(COLUMNS)}",
            )
        )
        return out
    if len(cells) - 1 > MAX_ROWS:
        out.problems.append((f"行数超过 {MAX_ROWS}", f"More than {MAX_ROWS} rows"))
        return out
    at = {c: head.index(c) for c in COLUMNS}
    seen: set[tuple[int, int, str]] = set()
    for n, r in enumerate(cells[1:], start=2):
        got = {c: (r[i] if i < len(r) else None) for c, i in at.items()}
        raw_code, raw_year, name = (
            str(got["township_code"] or "").strip(),
            str(got["year"] or "").strip(),
            str(got["indicator"] or "").strip(),
        )
        bad: list[tuple[str, str]] = []
        code = int(raw_code) if raw_code.isdigit() and len(raw_code) == 9 else None
        if code is None or code not in known:
            bad.append(
                (
                    f"乡镇代码 {raw_code[:20]!r} 不是本市乡镇",
                    f"township code {raw_code[:20]!r} is not a township of Mengzi",
                )
            )
        year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
        if year is None or year not in years:
            bad.append(
                (
                    f"年份 {raw_year[:12]!r} 不在数据池的统计期内 ({', '.join(map(str, sorted(years)))})",
                    f"year {raw_year[:12]!r} has no quarter in the pool ({', '.join(map(str, sorted(years)))})",
                )
            )
        if name not in RANGES:
            bad.append(
                (
                    f"没有指标 {name[:40]!r}; 可用: {', '.join(RANGES)}",
                    f"no indicator {name[:40]!r}; known: {', '.join(RANGES)}",
                )
            )
        try:
            value = float(str(got["value"]).strip())
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        except (TypeError, ValueError):
            value = None
            bad.append(
                (
                    f"数值 {str(got['value'])[:20]!r} 不是数",
                    f"value {str(got['value'])[:20]!r} is not a number",
                )
            )
        if value is not None and name in RANGES:
            lo, hi = RANGES[name]
            if not lo <= value <= hi:
                pct = " (占比用 0-1, 不用百分数)" if hi == 1.0 else ""
                pct_en = " (shares are 0-1, not percent)" if hi == 1.0 else ""
                bad.append(
                    (
                        f"数值 {value:g} 超出 {lo:g}-{hi:g}{pct}",
                        f"value {value:g} outside {lo:g}-{hi:g}{pct_en}",
                    )
                )
        if not bad and code is not None and year is not None:
            key = (code, year, name)
            if key in seen:
                bad.append(("同一乡镇、年份、指标重复", "the same township, year and indicator twice"))
            seen.add(key)
        if bad:
            out.problems += [(f"第 {n} 行: {zh}", f"Row {n}: {en}") for zh, en in bad]
            continue
        out.rows.append({"township_code": code, "year": year, "indicator": name, "value": value})
    if not out.rows and not out.problems:
        out.problems.append(("文件中没有数据行", "The file holds no data rows"))
    return out


def import_indicators(path: Path, actor: audit.Actor) -> Checked:
    """Check the file, then write its figures (replacing earlier imports of the same township, year and
    indicator) and one log entry in one transaction; on any problem write nothing."""
    with eng.connect() as conn:
        known = {int(r[0]) for r in conn.execute(select(township.c.code))}
        years = {int(str(r[0])[:4]) for r in conn.execute(select(divide_indicator.c.period).distinct())}
    got = check_indicators(path, known=known, years=years)
    if not got.ok:
        return got
    now, t = int(time.time()), divide_indicator_import
    with audit.write(actor) as tx:
        for r in got.rows:
            tx.conn.execute(
                delete(t).where(
                    (t.c.township_code == r["township_code"])
                    & (t.c.year == r["year"])
                    & (t.c.indicator == r["indicator"])
                )
            )
        tx.conn.execute(
            insert(t),
            [
                {**r, "source": path.name[:255], "imported_at": now, "imported_by": actor.username[:96]}
                for r in got.rows
            ],
        )
        move_version(tx.conn)
        tx.log(
            "divide.indicators.import",
            "divide_indicator_import",
            path.name[:128],
            after={f"{r['township_code']}/{r['year']}/{r['indicator']}": r["value"] for r in got.rows},
            detail={"rows": len(got.rows), "townships": len({r["township_code"] for r in got.rows})},
        )
    return got


# --- the offline counters ---------------------------------------------------------------------------


class Refused(ValueError):
    """A counter edit that cannot be made; zh and en say why. Nothing was written."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def may_edit_counters(actor: audit.Actor, department_id: int | None) -> bool:
    """Admins, and the heads of the department that keeps the counters."""
    if actor.role == "admin":
        return True
    if actor.role != "department_head" or department_id is None:
        return False
    with eng.connect() as conn:
        code = conn.execute(select(department.c.code).where(department.c.id == department_id)).scalar()
    return code == OWNER_DEPT


def _require_right(actor: audit.Actor, department_id: int | None) -> None:
    if not may_edit_counters(actor, department_id):
        raise Refused(
            "只有管理员或市数据局可以维护线下窗口", "Only admins or the Data Bureau may edit the counters"
        )


def _open_counter(tx: audit.Tx, key: object) -> dict[str, Any]:
    """The counter to change, read in the writing transaction; refused when unknown or closed."""
    before = _current(tx.conn, str(key)[:128]) if isinstance(key, str) else None
    if before is None:
        raise Refused("没有这个窗口", "No such counter")
    if before["closed_at"] is not None:
        raise Refused("该窗口已关闭", "The counter is already closed")
    return before


def _hours(opens: object, closes: object, days: object) -> tuple[str, str, int]:
    o, c = str(opens or "").strip(), str(closes or "").strip()
    if not HHMM.match(o) or not HHMM.match(c):
        raise Refused("开放时间应为 HH:MM (例如 08:30)", "Opening hours must be HH:MM (e.g. 08:30)")
    if o >= c:
        raise Refused("关门时间应晚于开门时间", "The closing time must be after the opening time")
    if not isinstance(days, int) or isinstance(days, bool) or days not in (5, 6, 7):
        raise Refused("每周开放天数应为 5、6 或 7", "Days open a week must be 5, 6 or 7")
    return o, c, days


def _name(value: object, limit: int, what: tuple[str, str]) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise Refused(f"{what[0]}不能为空", f"The {what[1]} cannot be empty")
    if len(text) > limit:
        raise Refused(f"{what[0]}最长 {limit} 字", f"The {what[1]} is at most {limit} characters")
    return text


def counter_key(township_code: int, name_zh: str) -> str:
    return f"{township_code}:{name_zh}"[:128]


def _current(conn: Connection, key: str) -> dict[str, Any] | None:
    """The counter as it stands: its edit row, else the generated counter with the default hours."""
    e = divide_counter_edit
    row = conn.execute(select(e).where(e.c.counter_key == key)).mappings().first()
    if row is not None:
        return dict(row)
    code, _, name = key.partition(":")
    if not code.isdigit():
        return None
    c = divide_counter
    gen = (
        conn.execute(select(c).where((c.c.township_code == int(code)) & (c.c.name_zh == name)))
        .mappings()
        .first()
    )
    if gen is None:
        return None
    opens, closes, days = divide.DEFAULT_HOURS.get(gen["kind"], divide.DEFAULT_HOURS["station"])
    return {
        "counter_key": key,
        "township_code": gen["township_code"],
        "name_zh": gen["name_zh"],
        "name_en": gen["name_en"],
        "kind": gen["kind"],
        "opens": opens,
        "closes": closes,
        "days": days,
        "closed_at": None,
        "added": False,
    }


def _save(tx: audit.Tx, before: dict[str, Any] | None, after: dict[str, Any], action: str) -> None:
    e = divide_counter_edit
    row = {
        **{k: v for k, v in after.items() if k != "id"},
        "updated_at": int(time.time()),
        "updated_by": tx.actor.username[:96],
    }
    tx.conn.execute(delete(e).where(e.c.counter_key == after["counter_key"]))
    tx.conn.execute(insert(e).values(**row))
    from queries import meta  # as in move_version

    meta.move_now(
        tx.conn, domain="staff"
    )  # a desk edit: the divide's reads (keyed on the data version) move on
    strip = ("id", "updated_at", "updated_by")
    tx.log(
        action,
        "divide_counter",
        after["counter_key"],
        before=None if before is None else {k: v for k, v in before.items() if k not in strip},
        after={k: v for k, v in after.items() if k not in strip},
    )


def add_counter(
    actor: audit.Actor, *, department_id: int | None, township_code: object, name_zh: object, name_en: object,
    kind: object, opens: object, closes: object, days: object,
) -> str:  # fmt: skip
    """A new counter; returns its key. Refused (nothing written) on bad input or without the right."""
    _require_right(actor, department_id)
    zh = _name(name_zh, 96, ("名称", "name"))
    en = _name(name_en or zh, 128, ("英文名称", "English name"))
    if kind not in KINDS:
        raise Refused("类型应为便民服务中心或代办点", "The kind must be hall or station")
    o, c, d = _hours(opens, closes, days)
    with eng.connect() as conn:
        known = {int(r[0]) for r in conn.execute(select(township.c.code))}
    if not isinstance(township_code, int) or township_code not in known:
        raise Refused("没有这个乡镇", "No such township")
    key = counter_key(township_code, zh)
    with audit.write(actor) as tx:
        if _current(tx.conn, key) is not None:
            raise Refused(f"该乡镇已有窗口 {zh}", f"The township already has a counter named {zh}")
        after = {
            "counter_key": key, "township_code": township_code, "name_zh": zh, "name_en": en, "kind": kind,
            "opens": o, "closes": c, "days": d, "closed_at": None, "added": True,
        }  # fmt: skip
        _save(tx, None, after, "divide.counter.add")
    return key


def set_hours(
    actor: audit.Actor, *, department_id: int | None, key: object, opens: object, closes: object, days: object
) -> None:
    """Change a counter's opening hours."""
    _require_right(actor, department_id)
    o, c, d = _hours(opens, closes, days)
    with audit.write(actor) as tx:
        before = _open_counter(tx, key)
        _save(tx, before, {**before, "opens": o, "closes": c, "days": d}, "divide.counter.hours")


def close_counter(actor: audit.Actor, *, department_id: int | None, key: object) -> None:
    """Close a counter for good (it stays listed as closed, its past visits stay counted)."""
    _require_right(actor, department_id)
    with audit.write(actor) as tx:
        before = _open_counter(tx, key)
        _save(tx, before, {**before, "closed_at": int(time.time())}, "divide.counter.close")
