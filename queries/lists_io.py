"""Import of a department's lists (the export's sheets, every reference a code), validated row by row,
landing whole through the write door or refused whole with every row's reason.

Semantics: the file replaces the department's slice (what `lists.export_tables` gives for it): rows of
the slice missing from the file are removed, rows with a known code are changed, new codes are added.
So export -> import changes nothing. Ids of existing codes are kept; the generator's record of injected
gaps (`lists_seed_gap`) is left alone. Each applied import also keeps the whole city's lists as they
stand after it (`lists_import`, user data), and a rebuild lays the latest back over the generated lists
(`reapply_latest`): what people imported survives `command-center seed`.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from queries import audit, lists, meta
from queries import engine as eng
from queries.scope import CITY_SCOPE
from queries.tables import (
    case_item,
    department,
    lists_data_grant,
    lists_data_item,
    lists_duty,
    lists_import,
    lists_problem,
    lists_seed_gap,
    lists_step,
    lists_step_data,
    lists_step_duty,
    module,
    person,
    source_system,
)

# sheet -> (columns in order, key columns)
SHEETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "problems": (
        (
            "code",
            "name_zh",
            "name_en",
            "channel",
            "severity",
            "yearly_volume",
            "limit",
            "owner_dept",
            "module",
        ),
        ("code",),
    ),
    "steps": (("problem", "seq", "code", "name_zh", "name_en", "stage", "decision", "limit"), ("code",)),
    "data_items": (
        ("code", "name_zh", "name_en", "kind", "module", "source", "owner_dept", "classification", "refresh"),
        ("code",),
    ),
    "step_data": (("step", "item"), ("step", "item")),
    "duties": (("code", "dept", "person", "name_zh", "name_en"), ("code",)),
    "step_duties": (("step", "duty", "role"), ("step", "duty")),
    "grants": (("item", "dept"), ("item", "dept")),
}
CLASSES = {"public": 0, "sensitive": 1, "core": 2}
STAGES = ("monitoring", "analysis", "response", "evaluation", "feedback", "optimization")
ROLES = ("lead", "support")
CHANNELS = ("hotline", "photo", "grid", "iot", "petition", "border", "quality")
_LIMIT = re.compile(r"^\s*(\d+)\s*(d|h|天|日|工作日|个工作日|小时|工时)\s*$")
_TRUE, _FALSE = {"true", "1", "yes", "是"}, {"false", "0", "no", "否", ""}

Rows = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Problem:
    """Why a row (row 1 = the header; 0 = the whole sheet) or a whole sheet is refused."""

    sheet: str
    row: int
    zh: str
    en: str


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    changes: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # sheet -> added, changed, removed
    # sheet -> "added" | "changed" | "removed" -> the rows' keys ("code", or "step / item" for links)
    keys: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


# --- writing the export's files ---------------------------------------------------------------------


def xlsx_bytes(tables: dict[str, pl.DataFrame], header: str) -> bytes:
    """One sheet per list, a header row of column names; the first sheet starts with the as-of note in
    a sheet of its own ("about") so every list sheet is a plain table an import can read back."""
    from openpyxl import Workbook

    wb = Workbook()
    about = wb.active
    assert about is not None
    about.title = "about"
    about.append([header])
    for name, frame in tables.items():
        ws = wb.create_sheet(name)
        ws.append(frame.columns)
        for row in frame.iter_rows():
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_zip_bytes(tables: dict[str, pl.DataFrame], header: str) -> bytes:
    """One UTF-8 CSV (with BOM, for Excel) per list in a zip, and an about.txt with the as-of note."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("about.txt", header + "\n")
        for name, frame in tables.items():
            zf.writestr(f"{name}.csv", "\ufeff" + frame.write_csv())
    return buf.getvalue()


# --- reading them back ------------------------------------------------------------------------------


def parse_limit(text: str) -> int | None:
    """A time limit in working hours: "3d", "3 工作日", "4h", "4 工时"; None when it is no duration."""
    m = _LIMIT.match(text)
    if m is None:
        return None
    n = int(m.group(1))
    return n if m.group(2) in ("h", "小时", "工时") else n * lists.DAY_HOURS


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_xlsx(data: bytes) -> tuple[Rows, list[Problem]]:
    """The sheets of an exported workbook; a missing sheet, a wrong header or merged header cells is a
    sheet-level reason."""
    from openpyxl import load_workbook

    out: Rows = {}
    errs: list[Problem] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        return {}, [Problem("*", 0, f"不是有效的 Excel 文件: {exc}", f"not a readable Excel file: {exc}")]
    for name in SHEETS:
        if name not in wb.sheetnames:
            errs.append(Problem(name, 0, f"缺少工作表 {name}", f"sheet {name} is missing"))
            continue
        ws = wb[name]
        if any(r.min_row <= 1 <= r.max_row for r in ws.merged_cells.ranges):
            errs.append(Problem(name, 1, "表头有合并单元格", "the header row has merged cells"))
            continue
        rows = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
        out[name], more = _table(name, rows)
        errs += more
    return out, errs


def read_csv_zip(data: bytes) -> tuple[Rows, list[Problem]]:
    """The CSV files of an exported zip (one per list)."""
    import csv

    out: Rows = {}
    errs: list[Problem] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {}, [Problem("*", 0, "不是有效的 zip 文件", "not a readable zip file")]
    names = set(zf.namelist())
    # a small zip may unpack to gigabytes: what it says it holds is checked before anything is read
    if sum(i.file_size for i in zf.infolist()) > 10 * MAX_FILE_BYTES:
        return {}, [Problem("*", 0, "zip 解压后过大", "the zip unpacks to too much data")]
    for name in SHEETS:
        if f"{name}.csv" not in names:
            errs.append(Problem(name, 0, f"缺少文件 {name}.csv", f"file {name}.csv is missing"))
            continue
        text = zf.read(f"{name}.csv").decode("utf-8-sig")
        out[name], more = _table(name, [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))])
        errs += more
    return out, errs


MAX_FILE_BYTES = 5 * 1024 * 1024  # an exported city's lists are well under 1 MB


def read_file(data: bytes, filename: str) -> tuple[Rows, list[Problem]]:
    """An uploaded export, by its name: .xlsx (one sheet per list) or .zip (one CSV per list); a file
    too big, of another kind, or not what its name says is a whole-file reason."""
    name = filename.lower().strip()
    if len(data) > MAX_FILE_BYTES:
        mb = len(data) / 1024 / 1024
        limit = MAX_FILE_BYTES // 1024 // 1024
        return {}, [
            Problem(
                "*",
                0,
                f"文件过大: {mb:.1f} MB (上限 {limit} MB); 请导入导出的清单文件",
                f"file too large: {mb:.1f} MB (the limit is {limit} MB); import an exported lists file",
            )
        ]
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".zip"):
        return read_csv_zip(data)
    return {}, [
        Problem(
            "*",
            0,
            "只接受导出的 .xlsx 或 .zip (CSV) 文件",
            "only an exported .xlsx or .zip (of CSV) file is accepted",
        )
    ]


def _table(name: str, rows: list[list[str]]) -> tuple[list[dict[str, str]], list[Problem]]:
    cols = SHEETS[name][0]
    if not rows or tuple(c for c in rows[0] if c) != cols:
        got = ", ".join(c for c in (rows[0] if rows else []) if c)
        return [], [
            Problem(
                name,
                1,
                f"列应为 {', '.join(cols)}; 实为 {got}",
                f"columns must be {', '.join(cols)}; found {got}",
            )
        ]
    body = []
    for r in rows[1:]:
        if not any(r):
            continue
        body.append({c: (r[i] if i < len(r) else "") for i, c in enumerate(cols)})
    return body, []


def import_lists(rows: Rows, *, dept_code: str | None, actor: audit.Actor, dry_run: bool) -> Outcome:
    """Validate the file against the pool; unless `dry_run` or refused, write it whole through the door
    (one transaction: the lists, a new data version, one responsibility-log entry)."""
    out = Outcome()
    depts = meta.departments()
    dept_ids = dict(zip(depts["code"].to_list(), depts["id"].to_list(), strict=True))
    if dept_code is not None and dept_code not in dept_ids:
        out.problems.append(Problem("*", 0, f"没有这个部门: {dept_code}", f"no such department: {dept_code}"))
        return out
    full = lists.export_tables(dept_id=None, scope=CITY_SCOPE)
    part = lists.export_tables(dept_id=dept_ids[dept_code] if dept_code else None, scope=CITY_SCOPE)
    assert full is not None and part is not None
    current = {
        k: [{c: _cell(v) for c, v in r.items()} for r in f.iter_rows(named=True)] for k, f in full.items()
    }
    slice_keys = {k: {_key(k, r) for r in f.iter_rows(named=True)} for k, f in part.items()}
    new: Rows = {}
    for name in SHEETS:
        file_rows = rows.get(name, [])
        seen: dict[tuple[str, ...], int] = {}
        for i, r in enumerate(file_rows, start=2):
            k = _key(name, r)
            if k in seen:
                out.problems.append(
                    Problem(
                        name, i, f"重复的键 {k} (同第 {seen[k]} 行)", f"duplicate key {k} (as row {seen[k]})"
                    )
                )
            seen.setdefault(k, i)
        drop = slice_keys[name] | set(seen)
        new[name] = [r for r in current[name] if _key(name, r) not in drop] + file_rows
    out.problems += _check(new, rows, dept_ids)
    out.problems += _still_in_use(current, new)
    for name in SHEETS:
        before = {_key(name, r): r for r in current[name]}
        after = {_key(name, r): r for r in new[name]}
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
        out.changes[name] = (len(added), len(changed), len(removed))
        out.keys[name] = {
            what: [" / ".join(k) for k in ks]
            for what, ks in (("added", added), ("changed", changed), ("removed", removed))
        }
    if out.problems or dry_run or not any(sum(v) for v in out.changes.values()):
        return out
    _write(new, dept_ids, actor, dept_code, out.changes)
    out.applied = True
    return out


def _still_in_use(current: Rows, new: Rows) -> list[Problem]:
    """A problem type the file would remove while cases still follow it: refused (the cases' history
    needs its type), with the number of cases."""
    gone = {r["code"] for r in current["problems"]} - {r["code"] for r in new["problems"]}
    if not gone:
        return []
    q = (
        select(lists_problem.c.code, func.count())
        .join(case_item, case_item.c.problem_id == lists_problem.c.id)
        .where(lists_problem.c.code.in_(sorted(gone)))
        .group_by(lists_problem.c.code)
    )
    with eng.connect() as conn:
        used = sorted((str(c), int(n)) for c, n in conn.execute(q))
    return [
        Problem(
            "problems",
            0,
            f"问题类型 {code} 仍有 {n} 件案件, 不能删除",
            f"problem type {code} still has {n} case(s); it cannot be removed",
        )
        for code, n in used
    ]


def _key(name: str, r: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_cell(r.get(c)) for c in SHEETS[name][1])


def _check(new: Rows, file_rows: Rows, dept_ids: dict[str, int]) -> list[Problem]:
    """Every file row checked against the state it would produce (references resolve in it)."""
    errs: list[Problem] = []
    mods = set(meta.modules()["code"].to_list())
    srcs = set(meta.sources()["code"].to_list())
    problems = {r["code"] for r in new["problems"]}
    steps = {r["code"] for r in new["steps"]}
    items = {r["code"] for r in new["data_items"]}
    duties = {r["code"] for r in new["duties"]}
    people = _people()

    def bad(sheet: str, i: int, zh: str, en: str) -> None:
        errs.append(Problem(sheet, i, zh, en))

    def known(sheet: str, i: int, value: str, allowed: Any, what: tuple[str, str]) -> None:
        if value not in allowed:
            bad(sheet, i, f"未知{what[0]} {value!r}", f"unknown {what[1]} {value!r}")

    def dept(sheet: str, i: int, value: str, *, empty_ok: bool = False) -> None:
        if not (empty_ok and value == "") and value not in dept_ids:
            bad(sheet, i, f"未知部门 {value!r}", f"unknown department {value!r}")

    def number(sheet: str, i: int, col: str, value: str, lo: int, hi: int) -> None:
        if not value.isdigit() or not lo <= int(value) <= hi:
            bad(
                sheet,
                i,
                f"{col} 应为 {lo}-{hi} 的整数: {value!r}",
                f"{col} must be a whole number {lo}-{hi}: {value!r}",
            )

    def limit(sheet: str, i: int, value: str) -> None:
        if parse_limit(value) is None:
            bad(
                sheet,
                i,
                f"时限不是时长: {value!r} (如 3d, 4h)",
                f"limit is not a duration: {value!r} (e.g. 3d, 4h)",
            )

    for i, r in enumerate(file_rows.get("problems", []), start=2):
        known("problems", i, r["channel"], CHANNELS, ("渠道", "channel"))
        number("problems", i, "severity", r["severity"], 1, 3)
        number("problems", i, "yearly_volume", r["yearly_volume"], 0, 10**9)
        limit("problems", i, r["limit"])
        dept("problems", i, r["owner_dept"])
        known("problems", i, r["module"], mods, ("模块", "module"))
    order: dict[tuple[str, str], int] = {}
    for i, r in enumerate(file_rows.get("steps", []), start=2):
        if r["problem"] not in problems:
            bad(
                "steps",
                i,
                f"环节没有所属问题类型 {r['problem']!r}",
                f"step without a problem type: {r['problem']!r}",
            )
        known("steps", i, r["stage"], STAGES, ("阶段", "stage"))
        if r["decision"].lower() not in _TRUE | _FALSE:
            bad(
                "steps",
                i,
                f"decision 应为 true/false: {r['decision']!r}",
                f"decision must be true/false: {r['decision']!r}",
            )
        number("steps", i, "seq", r["seq"], 1, 99)
        limit("steps", i, r["limit"])
        k = (r["problem"], r["seq"])
        if k in order:
            bad(
                "steps",
                i,
                f"环节顺序冲突: 与第 {order[k]} 行同序号",
                f"step order conflict: same seq as row {order[k]}",
            )
        order.setdefault(k, i)
    for i, r in enumerate(file_rows.get("data_items", []), start=2):
        known("data_items", i, r["classification"], CLASSES, ("分级", "classification"))
        known("data_items", i, r["module"], mods, ("模块", "module"))
        known("data_items", i, r["source"], srcs, ("来源系统", "source system"))
        dept("data_items", i, r["owner_dept"], empty_ok=True)
    for i, r in enumerate(file_rows.get("step_data", []), start=2):
        known("step_data", i, r["step"], steps, ("环节", "step"))
        known("step_data", i, r["item"], items, ("数据项", "data item"))
    for i, r in enumerate(file_rows.get("duties", []), start=2):
        dept("duties", i, r["dept"])
        if (r["dept"], r["person"]) not in people:
            bad(
                "duties",
                i,
                f"该部门没有此人 {r['person']!r}",
                f"no such person in the department: {r['person']!r}",
            )
    for i, r in enumerate(file_rows.get("step_duties", []), start=2):
        known("step_duties", i, r["step"], steps, ("环节", "step"))
        known("step_duties", i, r["duty"], duties, ("职责", "duty"))
        if r["role"] not in ROLES:
            bad(
                "step_duties",
                i,
                f"角色应为 lead/support: {r['role']!r}",
                f"role must be lead or support: {r['role']!r}",
            )
    for i, r in enumerate(file_rows.get("grants", []), start=2):
        known("grants", i, r["item"], items, ("数据项", "data item"))
        dept("grants", i, r["dept"])
    # a row the file keeps may still point at something the file removed
    for name, col, present in (
        ("steps", "problem", problems),
        ("step_data", "step", steps),
        ("step_data", "item", items),
        ("step_duties", "step", steps),
        ("step_duties", "duty", duties),
        ("grants", "item", items),
    ):
        mine = {_key(name, r) for r in file_rows.get(name, [])}
        for r in new[name]:
            if _key(name, r) not in mine and r[col] not in present:
                bad(
                    name,
                    0,
                    f"其他部门的行仍引用被删除的 {r[col]!r}",
                    f"another department's row still uses the removed {r[col]!r}",
                )
    return errs


def _people() -> dict[tuple[str, str], int]:
    with eng.connect() as conn:
        return _people_on(conn)


def _people_on(conn: Connection) -> dict[tuple[str, str], int]:
    """(department code, person name) -> person id; the first person of a name wins."""
    q = (
        select(person.c.id, department.c.code, person.c.name_zh)
        .join(department, department.c.id == person.c.department_id)
        .order_by(person.c.id)
    )
    out: dict[tuple[str, str], int] = {}
    for pid, dcode, name in conn.execute(q):
        out.setdefault((str(dcode), str(name)), int(pid))
    return out


def _codes(conn: Connection, table: Table) -> dict[str, int]:
    return {str(c): int(i) for c, i in conn.execute(select(table.c.code, table.c.id))}


def _ids_for(known: dict[str, int], codes: list[str]) -> dict[str, int]:
    """An id per code: the one the pool's lists hold now, else the next free one."""
    nxt = max(known.values(), default=0) + 1
    out = {}
    for c in codes:
        if c in known:
            out[c] = known[c]
        else:
            out[c], nxt = nxt, nxt + 1
    return out


def _resolve(conn: Connection, new: Rows) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The table rows for code-keyed lists, every code looked up on `conn` (ids kept per code). KeyError
    when a reference does not resolve: the import checks first, so only a rebuild can meet one."""
    pid = _ids_for(_codes(conn, lists_problem), [r["code"] for r in new["problems"]])
    sid = _ids_for(_codes(conn, lists_step), [r["code"] for r in new["steps"]])
    iid = _ids_for(_codes(conn, lists_data_item), [r["code"] for r in new["data_items"]])
    did = _ids_for(_codes(conn, lists_duty), [r["code"] for r in new["duties"]])
    dept_ids = _codes(conn, department)
    mods = _codes(conn, module)
    srcs = _codes(conn, source_system)
    people = _people_on(conn)
    return [
        (
            lists_problem,
            [
                dict(
                    id=pid[r["code"]], code=r["code"], name_zh=r["name_zh"], name_en=r["name_en"],
                    channel=r["channel"], severity=int(r["severity"]), yearly_volume=int(r["yearly_volume"]),
                    limit_hours=parse_limit(r["limit"]), owner_dept_id=dept_ids[r["owner_dept"]],
                    module_id=mods[r["module"]],
                )
                for r in new["problems"]
            ],
        ),
        (
            lists_step,
            [
                dict(
                    id=sid[r["code"]], problem_id=pid[r["problem"]], seq=int(r["seq"]), code=r["code"],
                    name_zh=r["name_zh"], name_en=r["name_en"], stage=r["stage"],
                    decision=r["decision"].lower() in _TRUE, limit_hours=parse_limit(r["limit"]),
                )
                for r in new["steps"]
            ],
        ),
        (
            lists_data_item,
            [
                dict(
                    id=iid[r["code"]], code=r["code"], name_zh=r["name_zh"], name_en=r["name_en"], kind=r["kind"],
                    module_id=mods[r["module"]], source_id=srcs[r["source"]],
                    owner_dept_id=dept_ids[r["owner_dept"]] if r["owner_dept"] else None,
                    classification=CLASSES[r["classification"]], refresh=r["refresh"],
                )
                for r in new["data_items"]
            ],
        ),
        (lists_step_data, [dict(step_id=sid[r["step"]], item_id=iid[r["item"]]) for r in new["step_data"]]),
        (
            lists_duty,
            [
                dict(
                    id=did[r["code"]], code=r["code"], dept_id=dept_ids[r["dept"]],
                    person_id=people[(r["dept"], r["person"])], name_zh=r["name_zh"], name_en=r["name_en"],
                )
                for r in new["duties"]
            ],
        ),
        (
            lists_step_duty,
            [dict(step_id=sid[r["step"]], duty_id=did[r["duty"]], role=r["role"]) for r in new["step_duties"]],
        ),
        (lists_data_grant, [dict(item_id=iid[r["item"]], dept_id=dept_ids[r["dept"]]) for r in new["grants"]]),
    ]  # fmt: skip


def _replace(conn: Connection, tables: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    """Make the lists tables hold exactly `tables`' rows: emptied and refilled, except the problem list,
    which rows outside the lists point at (cases at their type: case_item.problem_id): its rows whose id
    stays (ids are kept per code) are updated in place, so those references stay valid."""

    def keyed(table: Table) -> bool:
        return table is lists_problem

    for table, rows in reversed(tables):
        if keyed(table):
            conn.execute(delete(table).where(table.c.id.not_in([r["id"] for r in rows])))
        else:
            conn.execute(delete(table))
    for table, rows in tables:
        if not rows:
            continue
        if not keyed(table):
            conn.execute(insert(table), rows)
            continue
        have = {int(i) for (i,) in conn.execute(select(table.c.id))}
        fresh = [r for r in rows if int(r["id"]) not in have]
        for r in rows:
            if int(r["id"]) in have:
                conn.execute(update(table).where(table.c.id == r["id"]).values(**r))
        if fresh:
            conn.execute(insert(table), fresh)


def _write(
    new: Rows, dept_ids: dict[str, int], actor: audit.Actor, dept_code: str | None, changes: Any
) -> None:
    """Replace the lists with `new` (ids kept per code), keep `new` for the next rebuild, a new data
    version and one log entry, together."""
    with audit.write(actor) as tx:
        _replace(tx.conn, _resolve(tx.conn, new))
        # the cached views key on the data version: a new one makes every worker read the new lists
        meta.move_all(tx.conn)
        tx.conn.execute(
            insert(lists_import).values(
                dept_code=dept_code,
                rows=json.dumps(new, ensure_ascii=False, sort_keys=True),
                imported_at=int(time.time()),
                imported_by=actor.username[:96],
            )
        )
        tx.log(
            "lists.import",
            "lists",
            dept_code or "city",
            after={k: sorted(map(str, (_key(k, r) for r in v))) for k, v in new.items()},
            detail={k: list(v) for k, v in changes.items()},
        )


class ReapplyError(RuntimeError):
    """The latest import no longer fits the rebuilt pool (a department, module, source or person it
    names is gone): the rebuild stops rather than drop what people edited."""


def reapply_latest(tx: audit.Tx) -> int | None:
    """On a rebuild, after the generator made its lists and the user data is in: lay the latest import
    back over the generated lists (ids kept per code) and drop the generator's record of injected gaps,
    which describes its own lists, not people's. Returns the import's id; None when there is none."""
    conn = tx.conn
    last = conn.execute(
        select(lists_import.c.id, lists_import.c.dept_code, lists_import.c.rows)
        .order_by(lists_import.c.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    new: Rows = json.loads(last.rows)
    try:
        tables = _resolve(conn, new)
    except KeyError as exc:
        raise ReapplyError(
            f"the imported lists (import {last.id}) name {exc} that the rebuilt pool lacks; "
            "the previous pool is unchanged"
        ) from exc
    _replace(conn, tables)
    conn.execute(delete(lists_seed_gap))
    tx.log(
        "lists.reapply",
        "lists",
        last.dept_code or "city",
        detail={"import_id": int(last.id), "rows": {t.name: len(r) for t, r in tables}},
    )
    return int(last.id)
